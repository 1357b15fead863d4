"""Hidden characters out of documents and answers; links in answers only from the documents.

Stripped: Unicode tag characters (U+E0000-U+E007F, invisible "ASCII smuggling"), zero-width
characters (U+200B-U+200D, U+2060, U+FEFF), bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069, "Trojan Source") and the invisible math operators
(U+2061-U+2064). None of them is a line break, so line numbers survive stripping; quotes
are verbatim from the stripped text, which is what `strip_hidden(file text)` gives back.
"""

from __future__ import annotations

import re

_HIDDEN = re.compile("[\U000e0000-\U000e007f\u200b-\u200d\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"'`)\]]+|www\.[^\s<>\"'`)\]]+", re.IGNORECASE)
LINK_REMOVED = "[link removed]"


def strip_hidden(text: str) -> str:
    return _HIDDEN.sub("", text)


def links(text: str) -> list[str]:
    return [m.rstrip(".,;:!?") for m in _URL.findall(text)]


def drop_foreign_links(text: str, sources: list[str]) -> str:
    """`text` with every link that no source contains replaced by LINK_REMOVED."""
    known = {link for s in sources for link in links(s)}
    for link in set(links(text)) - known:
        text = text.replace(link, LINK_REMOVED)
    return text
