"""Message formatting: safe document text and splitting under Discord's limit."""

from __future__ import annotations

import re

from qa_bot.discord_bot.format import pack, reply_parts, safe
from qa_bot.schema import Answer, Citation


def test_links_are_wrapped_so_they_do_not_unfurl():
    assert safe("see https://a.example/x_y?q=1. Or <https://b.example>") == (
        "see <https://a.example/x_y?q=1>. Or <https://b.example>"
    )


def test_markdown_in_documents_is_shown_literally():
    assert safe("**not bold** and `code`") == r"\*\*not bold\*\* and \`code\`"


def test_pack_never_cuts_a_piece_that_fits():
    pieces = [("", "a" * 6), (" ", "b" * 6), ("\n", "c" * 6)]
    assert pack(pieces, limit=13) == ["aaaaaa bbbbbb", "cccccc"]


def test_an_over_long_piece_is_cut_at_spaces_keeping_markers_whole():
    sentence = " ".join(["word"] * 30) + " [12]"
    parts = pack([("", sentence)], limit=32)
    assert all(len(p) <= 32 for p in parts) and " ".join(parts) == sentence
    assert parts[-1].endswith("[12]")


def test_split_answer_keeps_each_sentence_with_its_marker():
    sentences = [f"Sentence number {n} says something long enough to matter here. [{n}]" for n in range(1, 9)]
    cites = [Citation(n, "docs/a.txt", n, n, None, f"Quote {n}.", f"c{n}", 1.0) for n in range(1, 9)]
    parts = reply_parts(Answer("q", " ".join(sentences), cites, False), limit=200)
    assert all(len(p) <= 200 for p in parts) and len(parts) > 3
    found = []
    for part in parts:  # a sentence and its marker always share a message
        whole = re.findall(r"Sentence number (\d+) says something long enough to matter here\. \[(\d+)\]", part)
        assert len(whole) == part.count("Sentence number")
        found += whole
    assert found == [(str(n), str(n)) for n in range(1, 9)]
    lines = re.findall(r"^\[(\d)\] docs/a\.txt, line \1: “Quote \1\.”$", "\n".join(parts), re.MULTILINE)
    assert lines == [str(n) for n in range(1, 9)]


def test_refusal_is_polite():
    answer = Answer("q", "I could not find the answer to that in the documents.", [], True)
    assert reply_parts(answer) == [
        "Sorry, I could not find the answer to that in the documents. "
        "Try rephrasing, or ask about something the documents cover."
    ]


def test_code_in_an_answer_is_fenced_verbatim_and_split_between_lines():
    code = "\n".join(f"uv pip install package_{i:03d}==1.*" for i in range(120))
    text = f"Install them all with: [1]\n```console\n{code}\n```"
    cites = [Citation(1, "docs/a.md", 3, 125, None, "Install them all with:", "c1", 1.0)]
    parts = reply_parts(Answer("q", text, cites, False), limit=500)
    assert all(len(p) <= 500 for p in parts) and len(parts) > 5
    blocks = [b for p in parts for b in re.findall(r"```console\n(.*?)\n```", p, re.DOTALL)]
    assert "\n".join(blocks) == code  # nothing escaped, nothing lost, every piece fenced
    assert all(p.count("```") % 2 == 0 for p in parts)  # no message leaves a fence open
    assert parts[0].startswith("Install them all with: [1]")
