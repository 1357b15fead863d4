"""The grounding check on plain strings: a draft and the passages it was written from, no model."""

from __future__ import annotations

import pytest

from qa_bot.answer import REFUSAL_TEXT
from qa_bot.grounding import GroundingError, check, check_kind
from qa_bot.schema import Chunk, Passage

HARBOUR = "The ferry leaves the harbour at 7:40 every morning.\nTickets cost 12 euros at the kiosk."
MUSEUM = "The museum opens on Tuesdays.\nIts curator is Ines Duarte."


def passages(*texts: str) -> list[Passage]:
    return [Passage(Chunk(f"c{i}", f"/docs/{i}.txt", t, 0, len(t), 1, t.count("\n") + 1, None, None), 1.0)
            for i, t in enumerate(texts, 1)]


def test_a_backed_marker_is_kept_and_quotes_the_sentence_it_rests_on():
    checked = check("Tickets cost 12 euros at the kiosk [1].", passages(HARBOUR, MUSEUM))
    assert checked.text == "Tickets cost 12 euros at the kiosk. [1]" and checked.removed == 0
    [cite] = checked.citations
    assert (cite.quote, cite.start_line, cite.end_line, cite.chunk_id) == ("Tickets cost 12 euros at the kiosk.", 2, 2, "c1")


def test_a_marker_naming_a_passage_that_does_not_hold_the_sentence_is_dropped_with_its_sentence():
    checked = check("Great question! Tickets cost 12 euros [2]. The curator is Ines Duarte [2].",
                    passages(HARBOUR, MUSEUM))
    assert checked.text == "The curator is Ines Duarte. [1]" and checked.removed == 2
    assert checked.citations[0].chunk_id == "c2"


@pytest.mark.parametrize(("draft", "why"), [
    ("Tickets cost 15 euros at the kiosk [1].", "the number 15"),
    ("Tickets cost 12 euros at the kiosk of Marco Polo [1].", "the name Marco"),
    ("Tickets cost 12 euros at https://evil.example/kiosk [1].", "the link https://evil.example/kiosk"),
    ("Nothing here cites anything.", "no sentence cites"),
    ("<think>ferry times</think>  ", "empty answer"),
])
def test_what_the_passages_do_not_hold_rejects_the_whole_draft(draft, why):
    with pytest.raises(GroundingError, match=why):
        check(draft, passages(HARBOUR, MUSEUM))


def test_the_refusal_sentence_is_a_refusal():
    assert check(REFUSAL_TEXT, passages(HARBOUR)).refused


def test_an_answer_lacking_what_the_question_asks_for_is_rejected():
    check_kind("How much is a ticket?", "Tickets cost 12 euros at the kiosk. [1]")
    with pytest.raises(GroundingError, match="states no"):
        check_kind("Who is the curator?", "the museum opens on tuesdays. [1]")


def test_a_how_to_answer_without_a_command_is_ranked_lower_but_not_rejected():
    """Documentation answers "how do I ..." with a command, so the ranking prefers units holding
    code; an LLM's prose instructions are still a grounded answer."""
    from qa_bot.question_kind import expected_type, type_match

    question = "how do i wipe the cache?"
    assert expected_type(question) == "command"
    assert type_match("command", "Run `fernwood cache clean` to remove every entry.", question) == 1.0
    assert type_match("command", "The cache can be removed entirely.", question) == 0.0
    check_kind(question, "The cache can be removed entirely. [1]")
    where = "where does fernwood keep its cache on linux"
    assert type_match(expected_type(where), "It uses `$XDG_CACHE_HOME/fernwood` by default.", where) == 1.0
