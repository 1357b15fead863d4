"""Answers as Discord messages: safe text, a compact Sources block, split under the size limit."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..explain import why_refused
from ..format import segments, source_line
from ..schema import Answer, Citation

LIMIT = 2000  # Discord rejects longer message content
QUOTE_CHARS = 100  # a source line shows this much of its quote

# A link Discord would show: already wrapped in <...> (kept), a bare http(s) link in any case,
# or an invite Discord turns into a card even without a scheme.
_LINK = re.compile(
    r"<https?://[^\s<>]+>"
    r"|(?<!\w)(?P<bare>https?://[^\s<>]+|(?:discord(?:app)?\.com/invite|discord\.gg)/[^\s<>]+)",
    re.IGNORECASE,
)
# A link's last character; anything else at its end (.,”…*_ and so on) is the sentence's.
_LINK_END = re.compile(r"[^\W_]|[/#=&%+$-]")
# Markdown Discord reads anywhere in a line; backslash first, so our own escapes stay escapes.
_INLINE = re.compile(r"[\\*_~|`]")
# `](` is the hinge of a masked link [text](url); `\(` keeps both halves as text.
_MASKED = re.compile(r"\]\(")
# Markdown Discord reads at the start of a line: headings, -# subtext, block quotes, lists
# (a numbered list's dot is the escapable part of "1.").
_LINE_START = re.compile(r"^([ \t]*(?:\d+(?=\.\s))?)((?<=\d)\.|[#>+-])", re.MULTILINE)
# Answer text breaks after a citation marker, after a sentence end that is not followed by
# its marker, or at a line break; the separator is kept so parts rejoin as written.
_BREAK = re.compile(r"((?<=\])[ \t]+(?=\S)|(?<=[.!?])[ \t]+(?!\[\d+\])|\n+)")

REFUSAL_HINT = "Try rephrasing, or ask about something the documents cover."


def safe(text: str) -> str:
    """Document text shown literally: every markdown character escaped (masked links included)
    and links wrapped in <...>, so each shows its own URL and none unfurls into a card.

    Mentions are left as text; every message is sent with AllowedMentions.none(), so they
    cannot ping anyone.
    """
    out, at = [], 0
    for m in _LINK.finditer(text):
        if m["bare"]:
            link = _trim(m["bare"])
            shown = _wrap(link)
        else:  # already <wrapped>: shown as written (escaping would change its URL)
            link = shown = m.group(0)
        out += [_escape(text[at : m.start()]), shown]
        at = m.start() + len(link)
    out.append(_escape(text[at:]))
    return _LINE_START.sub(r"\1\\\2", "".join(out))


def _escape(text: str) -> str:
    return _MASKED.sub(r"]\\(", _INLINE.sub(r"\\\g<0>", text))


def _trim(link: str) -> str:
    """`link` without the punctuation that ends its sentence; a closing parenthesis stays when
    the link opened one (https://en.wikipedia.org/wiki/Foo_(bar))."""
    while link and not _LINK_END.fullmatch(link[-1]):
        if link[-1] == ")" and link.count("(") >= link.count(")"):
            break
        link = link[:-1]
    return link


def _wrap(link: str) -> str:
    scheme = "" if link.lower().startswith("http") else "https://"  # <...> needs a scheme to hold
    return f"<{scheme}{link}>"


def reply_parts(answer: Answer, roots: Sequence[str] = (), limit: int = LIMIT) -> list[str]:
    """The reply as messages of at most `limit` characters, split only between whole pieces.

    Sources are named relative to the indexed folder (`roots`) holding them: the server's own
    paths are none of the readers' business.
    """
    if answer.refused:
        why = why_refused(answer, lambda source: relative_source(source, roots))
        return pack([("", f"Sorry, {safe(answer.text)}"), *([(" ", safe(why))] if why else []), (" ", REFUSAL_HINT)], limit)
    pieces: list[tuple[str, str]] = []
    for seg in segments(answer.text):
        if seg.code:
            pieces += [("\n", block) for block in _fenced(seg.text, seg.lang, limit)]
        else:
            pieces += _sentences(safe(seg.text.strip("\n")))
    sources = [_source_line(c, roots) for c in answer.citations]
    if sources:
        # The heading travels with the first source line so it never ends a message alone.
        pieces.append(("\n\n", "**Sources**\n" + sources[0]))
        pieces += [("\n", line) for line in sources[1:]]
    if answer.notice:  # e.g. why the LLM's answer was replaced by the extractive one
        pieces.append(("\n", f"-# {safe(answer.notice)}"))
    return pack(pieces, limit)


def _source_line(c: Citation, roots: Sequence[str]) -> str:
    marker = f"[{c.n}] "  # ours, the only markdown-free part; everything after it is the document's
    line = source_line(replace(c, source=relative_source(c.source, roots)), width=QUOTE_CHARS)
    return marker + safe(line.removeprefix(marker))


def relative_source(source: str, roots: Sequence[str]) -> str:
    """`source` inside the indexed folder holding it; just the file name when none does."""
    path = Path(os.path.abspath(source))
    for root in map(Path, roots):
        if path == root:
            return path.name  # a file indexed on its own
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return path.name


def _fenced(code: str, lang: str, limit: int) -> list[str]:
    """A code block as fenced blocks of at most `limit` characters, cut between lines; shown
    verbatim (Discord renders nothing inside a fence, so nothing is escaped but fences)."""
    code = code.replace("```", "`\u200b``")
    head, tail = f"```{lang}\n", "\n```"
    room = limit - len(head) - len(tail)
    blocks, current = [], ""
    for line in code.split("\n"):
        for bit in _cut(line, room) or [""]:
            if current and len(current) + 1 + len(bit) > room:
                blocks.append(current)
                current = bit
            else:
                current = f"{current}\n{bit}" if current else bit
    blocks.append(current)
    return [head + b + tail for b in blocks]


def _sentences(text: str) -> list[tuple[str, str]]:
    bits = _BREAK.split(text)
    pieces = [("", bits[0])]
    pieces += [(bits[i], bits[i + 1]) for i in range(1, len(bits) - 1, 2)]
    return [(sep, piece) for sep, piece in pieces if piece]


def pack(pieces: list[tuple[str, str]], limit: int = LIMIT) -> list[str]:
    """Greedily fill messages with (separator, piece) pairs; a separator at a cut is dropped.

    A piece longer than `limit` on its own is cut at whitespace (a citation marker or a
    wrapped link contains none, so neither is cut).
    """
    parts: list[str] = []
    current = ""
    for sep, piece in pieces:
        for bit in _cut(piece, limit):
            if current and len(current) + len(sep) + len(bit) <= limit:
                current += sep + bit
            else:
                if current:
                    parts.append(current)
                current = bit
            sep = " "  # between the cuts of one over-long piece
    if current:
        parts.append(current)
    return parts


def _cut(piece: str, limit: int) -> list[str]:
    out = []
    while len(piece) > limit:
        at = piece.rfind(" ", 0, limit + 1)
        if at <= 0:
            at = limit  # one unbroken run longer than a message: nothing better exists
        out.append(piece[:at].rstrip())
        piece = piece[at:].lstrip()
    return out + [piece] if piece else out
