"""Canned-case matching rules: case-insensitive, on word boundaries, refusals, sources."""

from __future__ import annotations

from pathlib import Path

from qa_bot.errors import InputError
from qa_bot.evaluate import Case, check, contains_phrase
from qa_bot.schema import Answer, Citation


def _answer(text: str, refused: bool = False, source: str = "seeds/a.txt") -> Answer:
    cites = [] if refused else [Citation(1, source, 1, 1, None, text, "id", 1.0)]
    return Answer("q", text, cites, refused)


def test_phrase_matching_is_case_insensitive_on_word_boundaries():
    assert contains_phrase("The vote is in December. [1]", "december")
    assert contains_phrase("It cost $5 (five) dollars", "(five)")
    assert not contains_phrase("There were 1070 delegates", "107")
    assert not contains_phrase("a cat sat", "at")


def test_check_reports_each_problem():
    base = Path(".")
    case = Case(question="q", expect_any=["Paris", "Lyon"], expect_all=["France", "capital"], source="seeds/b.txt")
    problems = check(case, _answer("Paris is in France."), base)
    assert problems == ["missing ['capital']", "does not cite seeds/b.txt"]
    assert check(case, _answer("Lyon, not the capital of France."), base) == ["does not cite seeds/b.txt"]
    assert check(case, _answer("I could not find it.", refused=True), base) == ["refused, expected an answer"]


def test_refuse_cases_pass_only_on_refusal():
    case = Case(question="q", refuse=True)
    assert check(case, _answer("nope", refused=True), Path(".")) == []
    assert check(case, _answer("Paris."), Path(".")) == ["answered, expected a refusal"]


def test_feedback_log_becomes_cases(tmp_path):
    from qa_bot.evaluate import load_cases
    from qa_bot.feedback import record_vote

    log = tmp_path / "feedback.jsonl"
    record_vote(log, _answer("Paris."), "up", 1)
    record_vote(log, Answer("Why is the sky blue?", "nope", [], True), "down", 1)
    cases = load_cases(log)
    assert [c.question for c in cases] == ["Why is the sky blue?"]
    assert cases[0].note.startswith("thumbs-down on ") and not cases[0].refuse


def test_feedback_log_without_thumbs_down_is_a_clear_error(tmp_path):
    import pytest

    from qa_bot.evaluate import load_cases

    log = tmp_path / "feedback.jsonl"
    log.write_text("")
    with pytest.raises(InputError, match="feedback.jsonl: no thumbs-down votes"):
        load_cases(log)
