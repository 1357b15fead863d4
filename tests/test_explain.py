"""A refusal says what qa-bot looked at and which of the question's words none of it holds."""

from __future__ import annotations

from qa_bot.discord_bot.format import reply_parts
from qa_bot.explain import why_refused
from qa_bot.format import render
from qa_bot.schema import Answer, Chunk, Passage
from tests.conftest import SEEDS

OFF_TOPIC = "What is the capital of Australia?"


def _passage(path: str, text: str, heading: str | None, lines: tuple[int, int]) -> Passage:
    chunk = Chunk("id-" + path, path, text, 0, len(text), *lines, None, heading)
    return Passage(chunk, 0.5)


def test_a_refusal_names_the_closest_passages_and_the_missing_words(seed_service):
    answer = seed_service.answer(OFF_TOPIC)
    assert answer.refused and "Australia" in answer.unmatched and "capital" in answer.unmatched
    shown = render(answer)
    assert "The closest passages were about" in shown and "none of them mentions" in shown
    assert "“Australia”" in shown and "000_a9a644aeed6d5ccb.txt, lines " in shown
    assert answer.to_dict()["unmatched"] == list(answer.unmatched)


def test_a_refusal_names_no_everyday_word_as_what_is_missing(seed_service):
    answer = seed_service.answer("Do they need sourdough?")
    assert answer.refused and answer.unmatched == ("sourdough",)


def test_an_answer_has_no_unmatched_words_and_no_explanation(seed_service):
    answer = seed_service.answer("How many countries co-sponsored the draft resolution?")
    assert not answer.refused and answer.unmatched == ()
    assert why_refused(answer) is None and "closest passages" not in render(answer)


def test_the_explanation_uses_heading_paths_and_falls_back_when_every_word_is_there():
    passages = [_passage("/d/install.md", "Run the installer.", "Install > Docker", (4, 9)),
                _passage("/d/faq.md", "Ask in the forum.", None, (2, 2))]
    answer = Answer("q", "I could not find it.", [], True, passages, unmatched=("Kubernetes",))
    assert why_refused(answer) == ("The closest passages were about Install > Docker (/d/install.md, lines 4-9) "
                                   "and “Ask in the forum.” (/d/faq.md, line 2); none of them mentions “Kubernetes”.")
    covered = Answer("q", "I could not find it.", [], True, passages[:1])
    assert why_refused(covered) == ("The closest passages were about Install > Docker (/d/install.md, lines 4-9), "
                                    "but none of them answers the question.")


def test_discord_refusal_names_sources_inside_the_indexed_folder_only(seed_service):
    answer = seed_service.answer(OFF_TOPIC)
    reply = "\n".join(reply_parts(answer, [str(SEEDS)]))
    assert reply.startswith("Sorry, I could not find") and reply.endswith("documents cover.")
    assert "(000\\_a9a644aeed6d5ccb.txt, lines " in reply  # markdown-escaped, relative to the folder
    assert str(SEEDS) not in reply
