"""Hidden characters out of documents and answers; links in answers only from the documents.

Stripped: Unicode tag characters (U+E0000-U+E007F, invisible "ASCII smuggling"), zero-width
characters (U+200B-U+200D, U+2060, U+FEFF), bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069, "Trojan Source") and the invisible math operators
(U+2061-U+2064). None of them is a line break, so line numbers survive stripping; quotes
are verbatim from the stripped text, which is what `strip_hidden(file text)` gives back.

Printed output also loses C0/C1 control characters (`printable`): a document must not be able to
drive the terminal that shows its quotes (OSC 8 hidden hyperlinks, OSC 52 clipboard writes).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_HIDDEN = re.compile("[\U000e0000-\U000e007f\u200b-\u200d\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"'`)\]]+|www\.[^\s<>\"'`)\]]+", re.IGNORECASE)
LINK_REMOVED = "[link removed]"
# Every C0 control but tab and newline, DEL, and every C1 control (U+0080-U+009F, e.g. CSI U+009B).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1_OR_DEL = re.compile("[\x7f-\x9f]")


def strip_hidden(text: str) -> str:
    return _HIDDEN.sub("", text)


def printable(text: str) -> str:
    """`text` safe to write to a terminal: hidden characters and control characters removed."""
    return _CONTROL.sub("", strip_hidden(text))


def safe_json(text: str) -> str:
    """JSON from `json.dumps(..., ensure_ascii=False)` with DEL and C1 controls \\u-escaped too
    (json escapes only C0): the same data, but inert on a terminal."""
    return _C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def links(text: str) -> list[str]:
    return [m.rstrip(".,;:!?") for m in _URL.findall(text)]


def without_links(text: str) -> str:
    return _URL.sub(" ", text)


def drop_foreign_links(text: str, sources: list[str]) -> str:
    """`text` with every link that no source contains replaced by LINK_REMOVED."""
    return _drop(text, _known(sources))


def _known(sources: list[str]) -> set[str]:
    return {link for s in sources for link in links(s)}


def _drop(text: str, known: set[str]) -> str:
    for link in set(links(text)) - known:
        text = text.replace(link, LINK_REMOVED)
    return text


class GuardedStream:
    """The output guard for text that arrives in pieces (an LLM's tokens), before it is shown.

    Pieces are passed on up to their last whitespace, hidden characters stripped and foreign
    links replaced: a link split over several tokens is only judged once it is whole, so a
    draft never shows, even for a moment, a link the final answer would not carry.
    """

    def __init__(self, sink: Callable[[str], None], sources: list[str]):
        self.sink = sink
        self.known = _known(sources)
        self.pending = ""

    def __call__(self, piece: str) -> None:
        self.pending += piece
        cut = _LAST_SPACE.search(self.pending)
        if cut is not None:
            self._emit(self.pending[: cut.end()])
            self.pending = self.pending[cut.end() :]

    def flush(self) -> None:
        self._emit(self.pending)
        self.pending = ""

    def _emit(self, text: str) -> None:
        text = _drop(strip_hidden(text), self.known)
        if text:
            self.sink(text)


_LAST_SPACE = re.compile(r"\s(?=\S*\Z)")
