"""Answers as Discord messages: safe text, a compact Sources block, split under the size limit."""

from __future__ import annotations

import re

import discord

from ..format import segments, source_line
from ..schema import Answer

LIMIT = 2000  # Discord rejects longer message content
QUOTE_CHARS = 100  # a source line shows this much of its quote

# A link Discord would unfurl: not already inside <...>, trailing punctuation left outside.
_LINK = re.compile(r"(?<![<\w])https?://[^\s<>]*[^\s<>.,:;!?\"')\]]")
# Answer text breaks after a citation marker, after a sentence end that is not followed by
# its marker, or at a line break; the separator is kept so parts rejoin as written.
_BREAK = re.compile(r"((?<=\])[ \t]+(?=\S)|(?<=[.!?])[ \t]+(?!\[\d+\])|\n+)")

REFUSAL_HINT = "Try rephrasing, or ask about something the documents cover."


def safe(text: str) -> str:
    """Document text shown literally: markdown escaped and links wrapped so they do not unfurl.

    Mentions are left as text; every message is sent with AllowedMentions.none(), so they
    cannot ping anyone.
    """
    escaped = discord.utils.escape_markdown(text, ignore_links=True)
    return _LINK.sub(lambda m: f"<{m.group(0)}>", escaped)


def reply_parts(answer: Answer, limit: int = LIMIT) -> list[str]:
    """The reply as messages of at most `limit` characters, split only between whole pieces."""
    if answer.refused:
        return [f"Sorry, {answer.text} {REFUSAL_HINT}"]
    pieces: list[tuple[str, str]] = []
    for seg in segments(answer.text):
        if seg.code:
            pieces += [("\n", block) for block in _fenced(seg.text, seg.lang, limit)]
        else:
            pieces += _sentences(safe(seg.text.strip("\n")))
    sources = [safe(source_line(c, width=QUOTE_CHARS)) for c in answer.citations]
    if sources:
        # The heading travels with the first source line so it never ends a message alone.
        pieces.append(("\n\n", "**Sources**\n" + sources[0]))
        pieces += [("\n", line) for line in sources[1:]]
    if answer.notice:  # e.g. why the LLM's answer was replaced by the extractive one
        pieces.append(("\n", f"-# {safe(answer.notice)}"))
    return pack(pieces, limit)


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
