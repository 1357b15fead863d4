"""Generative answers against a scripted OpenAI-compatible server: accepted when grounded,
the extractive answer with a notice when the backend fails or the draft is not grounded."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import pytest

from qa_bot.answer import REFUSAL_TEXT
from qa_bot.schema import Answer

from .conftest import passage_with, passages_in
from .fake_openai import Reply

COUNTRIES = "How many countries co-sponsored the document?"
GOOD = "Apart from Russia and the US, 107 countries have co-sponsored the document [{n}]."


def good(body: dict) -> str:
    return GOOD.format(n=passage_with(body, "107 countries"))


def assert_quotes_verbatim(answer: Answer) -> None:
    """Every quote is in its file on the lines it names, and every marker has its citation."""
    assert_quotes_verbatim_json(answer.to_dict(), Path.cwd())


def assert_quotes_verbatim_json(answer: dict, base: Path) -> None:
    """The same, for `Answer.to_dict()` (sources relative to `base`)."""
    for c in answer["citations"]:
        lines = (base / c["source"]).read_text(encoding="utf-8").splitlines()
        assert c["quote"] in "\n".join(lines[c["start_line"] - 1 : c["end_line"]]), c
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["text"])}
    assert markers == {c["n"] for c in answer["citations"]}


def test_grounded_answer_is_accepted_with_verbatim_quotes(fake_llm, llm_service):
    fake_llm.add(Reply(good))
    answer = llm_service().answer(COUNTRIES)

    assert not answer.refused and answer.notice is None
    assert answer.text == "Apart from Russia and the US, 107 countries have co-sponsored the document. [1]"
    [c] = answer.citations
    assert c.quote == "Apart from Russia and the US, 107 countries have co-sponsored the document."
    assert c.start_line == 3 and c.source.endswith("000_a9a644aeed6d5ccb.txt")
    assert_quotes_verbatim(answer)
    [request] = fake_llm.requests
    body = request["body"]
    assert body["model"] == "fake-model" and body["stream"] is True and body["temperature"] == 0
    roles = [m["role"] for m in body["messages"]]
    assert roles[0] == "system" and roles[-1] == "user" and "assistant" in roles  # few-shot examples
    assert REFUSAL_TEXT in body["messages"][0]["content"]
    assert len(passages_in(body)) == len(answer.passages)


def test_tokens_stream_as_they_arrive(fake_llm, llm_service):
    fake_llm.add(Reply(good, chunk_delay=0.05))
    seen: list[tuple[float, str]] = []
    answer = llm_service().answer(COUNTRIES, on_token=lambda t: seen.append((time.monotonic(), t)))
    done = time.monotonic()

    draft = "".join(t for _, t in seen)
    assert "107 countries" in draft and len(seen) >= 10
    assert done - seen[0][0] > 0.3  # the first token was shown well before the answer was done
    assert answer.notice is None and "107" in answer.text


def test_the_streamed_draft_goes_through_the_output_guard(fake_llm, llm_service):
    fake_llm.add(Reply(lambda body: good(body)[:-1] + " \u200bsee https://evil.example/login."))
    seen: list[str] = []
    answer = llm_service().answer(COUNTRIES, on_token=seen.append)

    draft = "".join(seen)
    assert "107 countries" in draft and "[link removed]" in draft
    assert "evil" not in draft and "\u200b" not in draft
    assert "link" in answer.notice and "evil" not in answer.text  # the checked answer rejects it too


def test_markers_to_passages_never_given_are_dropped(fake_llm, llm_service):
    fake_llm.add(Reply(lambda body: GOOD.format(n=f"{passage_with(body, '107 countries')}][42")))
    answer = llm_service().answer(COUNTRIES)
    assert answer.notice is None and answer.text.endswith("document. [1]") and len(answer.citations) == 1


def test_uncited_sentences_are_removed(fake_llm, llm_service):
    fake_llm.add(Reply(lambda body: "Great question, happy to help! " + good(body)))
    answer = llm_service().answer(COUNTRIES)
    assert answer.notice is None and "happy" not in answer.text and "107" in answer.text


def test_a_citation_to_a_passage_that_shares_a_word_but_not_the_claim_is_invalid(fake_llm, llm_service):
    def draft(body: dict) -> str:
        n = passage_with(body, "107 countries")
        return good(body) + f" The document was praised by lawyers, bankers and tax advisers [{n}]."

    fake_llm.add(Reply(draft))
    answer = llm_service().answer(COUNTRIES)
    assert answer.notice is None and "107 countries" in answer.text and "lawyers" not in answer.text
    assert len(answer.citations) == 1


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        ("Apart from Russia and the US, 150 countries have co-sponsored the document [{n}].", "number 150"),
        ("Barack Obama said 107 countries have co-sponsored the document [{n}].", "name Barack"),
        ("107 countries have co-sponsored the document, see https://evil.example/x [{n}].", "link"),
        ("Lorem ipsum dolor sit amet.", "no sentence cites a given passage"),
        # True, but uncited or cited to a passage never given: qa-bot does not guess the source.
        ("Apart from Russia and the US, 107 countries have co-sponsored the document.",
         "no sentence cites a given passage"),
        ("107 countries have co-sponsored the document [9].", "no sentence cites a given passage"),
        # Cites the right passage, but the passage holds too few of the sentence's words.
        ("Co-sponsored documents are usually drafted by lawyers, bankers and tax advisers [{n}].",
         "no sentence cites a given passage"),
        # Every word is in the cited passage, but it answers another question: "how many" wants a number.
        ("Russia and the US have co-sponsored the document [{n}].", "states no number"),
        ("", "empty answer"),
    ],
)
def test_ungrounded_drafts_fall_back_to_the_extractive_answer(fake_llm, llm_service, draft, reason):
    service = llm_service()
    fake_llm.add(Reply(lambda body: draft.format(n=passage_with(body, "107 countries"))))
    answer = service.answer(COUNTRIES)

    extractive = service.answerer.answer(answer.question, answer.passages)
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert "citation check" in answer.notice and reason in answer.notice
    assert_quotes_verbatim(answer)


@pytest.mark.parametrize(
    ("reply", "timeout", "reason"),
    [
        (Reply(status=500), 5.0, "Error code: 500"),
        (Reply(good, delay=5), 0.5, "did not answer in time"),
        # Trickles a word every 0.4 s: each read is quick, the whole answer is not.
        (Reply(good, chunk_delay=0.4), 1.0, "did not answer in time"),
        (Reply(raw=b"data: {this is not json\n\n"), 5.0, "failed ("),
        (Reply(raw=b"<html>502 Bad Gateway</html>"), 5.0, "failed ("),
    ],
    ids=["500", "slow-start", "trickle", "malformed-sse", "not-sse"],
)
def test_backend_failures_fall_back_within_the_timeout(fake_llm, llm_service, reply, timeout, reason):
    service = llm_service(llm_timeout=timeout)
    fake_llm.add(reply)
    start = time.monotonic()
    answer = service.answer(COUNTRIES)

    assert time.monotonic() - start < timeout + 2
    assert not answer.refused and "107" in answer.text and answer.citations
    assert answer.notice.startswith("The language model (openai:fake-model) ") and reason in answer.notice
    assert answer.notice.endswith("showing the extractive answer.") and "\n" not in answer.notice


def test_backend_down_falls_back(llm_service, seed_index, encoder):
    from qa_bot.service import QAService
    from tests.conftest import make_settings

    settings = make_settings(seed_index, llm="openai:m", llm_base_url="http://127.0.0.1:9/v1", llm_timeout=3)
    answer = QAService(settings, encoder=encoder).answer(COUNTRIES)
    assert "107" in answer.text and "Connection error" in answer.notice


def test_refusal_gate_runs_before_the_llm(fake_llm, llm_service):
    answer = llm_service().answer("What is the capital of Australia?")
    assert answer.refused and answer.text == REFUSAL_TEXT and fake_llm.requests == []


def test_model_refusal_is_a_refusal(fake_llm, llm_service):
    fake_llm.add(Reply(REFUSAL_TEXT))
    answer = llm_service().answer(COUNTRIES)
    assert answer.refused and answer.text == REFUSAL_TEXT and answer.citations == []


def test_follow_up_is_condensed_by_the_llm_before_retrieval(fake_llm, llm_service):
    standalone = "When did Joe Biden attend the Congressional baseball game?"
    fake_llm.add(Reply(standalone),
                 Reply(lambda body: f"Joe Biden attended the Congressional baseball game on Wednesday night "
                                    f"[{passage_with(body, 'Wednesday night')}]."))
    history = [("What did Joe Biden attend?", "President Joe Biden made a surprise trip to attend the "
                                              "Congressional baseball game on Wednesday night. [1]")]
    answer = llm_service().answer("When was it?", history=history)

    condense_prompt = fake_llm.requests[0]["body"]["messages"][-1]["content"]
    assert "Follow-up question: When was it?" in condense_prompt and "What did Joe Biden attend?" in condense_prompt
    assert answer.question == standalone and "Wednesday night" in answer.text and answer.notice is None
    assert f"Question: {standalone}" in fake_llm.requests[1]["body"]["messages"][-1]["content"]


def test_follow_up_falls_back_to_the_rule_when_the_llm_fails(fake_llm, llm_service):
    fake_llm.add(Reply(status=500), Reply(status=500))
    answer = llm_service().answer("When was it?", history=[("What did Joe Biden attend?", "…")])
    assert answer.question == "When was it? (Joe Biden, attend)"


def test_api_key_is_sent_but_never_logged(fake_llm, seed_index, encoder, monkeypatch, caplog):
    from qa_bot.service import QAService
    from tests.conftest import make_settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    settings = make_settings(seed_index, llm="openai:m", llm_base_url=fake_llm.base_url)
    assert "sk-secret-123" not in repr(settings)
    fake_llm.add(Reply(status=500))
    with caplog.at_level(logging.DEBUG):
        answer = QAService(settings, encoder=encoder).answer(COUNTRIES)
    assert fake_llm.requests[0]["headers"]["authorization"] == "Bearer sk-secret-123"
    assert answer.notice and "sk-secret" not in answer.notice and "sk-secret" not in caplog.text
