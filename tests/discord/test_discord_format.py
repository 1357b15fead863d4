"""Message formatting: safe document text and splitting under Discord's limit."""

from __future__ import annotations

import re
from pathlib import Path

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
    parts = reply_parts(Answer("q", " ".join(sentences), cites, False), [str(Path.cwd())], limit=200)
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


# Everything Discord reads as markdown: masked links [text](url), inline marks, line-start marks.
HOSTILE = "[docs](<https://evil.example/masked>) **bold** __under__ ~~gone~~ ||spoiler|| `code` \\"
_WRAPPED = re.compile(r"<https?://[^\s<>]+>")


def live_markdown(message: str) -> list[str]:
    """The markdown Discord would act on in `message`, outside wrapped links and our own
    **Sources** heading and -# notice prefix."""
    text = _WRAPPED.sub("LINK", message.replace("**Sources**", "").replace("\n-# ", "\n"))
    text = re.sub(r"\\[^0-9A-Za-z\s]", "E", text)  # escaped characters are shown, not read
    found = re.findall(r"\]\(|[*_~|`\\]", text)
    return found + re.findall(r"^[ \t]*(?:[#>-]|\d+\.\s)", text, re.MULTILINE)


def shown(message: str) -> str:
    """What a reader sees: escapes resolved, <wrapped> links as their URL."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", _WRAPPED.sub(lambda m: m.group(0)[1:-1], message))


def test_every_field_a_document_reaches_is_escaped_in_discord():
    """Issue 11 item 8: answer text, quote, source name, heading and notice all shown literally."""
    root = "/srv/qa/data/docs"
    cite = Citation(1, f"{root}/guide **[a](b)**_x.md", 3, 3, None, HOSTILE, "c1", 1.0,
                    heading=HOSTILE)
    answer = Answer("q", f"Claim {HOSTILE} [1]", [cite], False, notice=f"note {HOSTILE}")
    message = "\n".join(reply_parts(answer, [root]))
    assert live_markdown(message) == [], message
    # Shown whole and literally in the text, heading, quote and notice:
    literal = "[docs](https://evil.example/masked) **bold** __under__ ~~gone~~ ||spoiler|| `code` \\"
    assert shown(message).count(literal) == 4
    assert "[1] guide **[a](b)**_x.md, line 3" in shown(message)


def test_markdown_at_the_start_of_a_document_line_is_escaped():
    text = "# Heading\n> quote\n-# small\n - item\n1. first\n12.5 stays"
    assert live_markdown(safe(text)) == [] and shown(safe(text)) == text
    assert "12.5 stays" in safe(text)


def test_a_refusal_from_the_model_is_escaped_too():
    [message] = reply_parts(Answer("q", f"No: {HOSTILE}", [], True))
    assert live_markdown(message) == []


def test_sources_are_named_relative_to_the_indexed_folder_never_by_server_path():
    """Issue 11 item 10."""
    cites = [Citation(1, "/srv/qa/data/docs/sub/a.txt", 1, 1, None, "A.", "c1", 1.0),
             Citation(2, "/srv/qa/single.txt", 2, 2, None, "B.", "c2", 1.0),
             Citation(3, "/elsewhere/c.txt", 3, 3, None, "C.", "c3", 1.0)]
    message = "\n".join(reply_parts(Answer("q", "A [1] B [2] C [3]", cites, False),
                                    ["/srv/qa/data/docs", "/srv/qa/single.txt"]))
    assert "[1] sub/a.txt, line 1" in message and "[2] single.txt, line 2" in message
    assert "[3] c.txt, line 3" in message and "/srv" not in message and "/elsewhere" not in message


def test_links_keep_their_urls_unescaped():
    assert safe("a_b <https://a.example/x_y*z> c_d https://b.example/p_q") == (
        r"a\_b <https://a.example/x_y*z> c\_d <https://b.example/p_q>")


def test_mixed_case_links_are_wrapped():
    assert safe("see HTTPS://A.example/x and Http://b.example") == "see <HTTPS://A.example/x> and <Http://b.example>"


def test_a_wrapped_link_leaves_the_sentence_punctuation_outside():
    assert safe("“see https://a.example/x”") == "“see <https://a.example/x>”"
    assert safe("at https://a.example/x… or https://a.example/y!") == (
        "at <https://a.example/x>… or <https://a.example/y>!")
    assert safe("**https://a.example/b**") == r"\*\*<https://a.example/b>\*\*"
    assert safe("(https://en.wikipedia.org/wiki/Foo_(bar)).") == "(<https://en.wikipedia.org/wiki/Foo_(bar)>)."


def test_discord_invites_are_wrapped_so_no_invite_card_shows():
    assert safe("join discord.gg/quillon or Discord.com/invite/abc.") == (
        "join <https://discord.gg/quillon> or <https://Discord.com/invite/abc>.")
    assert safe("https://discord.gg/x") == "<https://discord.gg/x>"


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
