"""PDF text layers into paragraphs: a PDF's lines break mid-sentence (and mid-word, hyphenated),
so lines are joined back into paragraphs, each kept with its page number."""

from __future__ import annotations

import re
from dataclasses import replace

from .blocks import HEADING, ITEM, PARAGRAPH, Block

_BULLET = re.compile(r"^\s*(?:[•◦▪‣●○■□–\-*]|\d{1,3}[.)]|[a-z][.)])\s+")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
_PAGE_NUMBER = re.compile(r"^\d{1,4}$")  # a slide or page number on a line of its own
_ENDS_SENTENCE = re.compile(r"""[.!?:]["'”’)\]]*$""")


def reflow(page: str) -> list[tuple[str, str]]:
    """(kind, text) of each paragraph of one page's text layer.

    A paragraph ends at a blank line, at a bullet, after a line that stops well short of the
    page's usual line width, or after a sentence-ending line a little short of it. A lone short
    line without final punctuation is a heading. A line ending in "letter-" followed by a
    lower-case word is one word broken in two.
    """
    lines = [ln.strip() for ln in page.split("\n")]
    width = sorted((len(ln) for ln in lines if ln), reverse=True)
    full = width[len(width) // 4] if width else 0  # a typical full line, ignoring outliers
    paras: list[tuple[str, list[str]]] = []
    prev = ""
    for ln in lines:
        if not ln or _PAGE_NUMBER.match(ln):
            prev = ""
            continue
        short = len(prev) < 0.6 * full
        starts_new = (not paras or not prev or short or _BULLET.match(ln)
                      or (_ENDS_SENTENCE.search(prev) and len(prev) < 0.8 * full))
        if starts_new:
            paras.append((ITEM if _BULLET.match(ln) else PARAGRAPH, [ln]))
        else:
            paras[-1][1].append(ln)
        prev = ln
    return [(HEADING if _is_title(kind, parts, full) else kind, _join(parts)) for kind, parts in paras]


def _is_title(kind: str, lines: list[str], full: int) -> bool:
    return kind == PARAGRAPH and len(lines) == 1 and len(lines[0]) < 0.6 * full and not _ENDS_SENTENCE.search(lines[0])


def _join(lines: list[str]) -> str:
    out = lines[0]
    for ln in lines[1:]:
        if _HYPHENATED.search(out) and ln[:1].islower():
            out = out[:-1] + ln
        else:
            out += " " + ln
    return " ".join(out.split())


def pdf_blocks(pages: list[str]) -> tuple[str, list[int], list[Block]]:
    """(the reflowed text, offset where each page starts, the blocks). A paragraph that a page
    break cuts mid-sentence (it stops without final punctuation and the next page goes on in lower
    case, or mid-word) is one block, at the page where it starts."""
    text, starts, blocks = "", [], []
    path: tuple[str, ...] = ()
    for n, page in enumerate(pages, 1):
        paras = reflow(page)
        if paras and blocks and _continues(blocks[-1], *paras[0]):
            last, (_, rest) = blocks[-1], paras.pop(0)
            joined = _join([last.text, rest])
            starts.append(last.start + len(joined) - len(rest))
            text = text[: last.start] + joined
            blocks[-1] = replace(last, end=len(text), text=joined)
        else:
            starts.append(len(text) + 2 if text else 0)
        for kind, para in paras:
            if text:
                text += "\n\n"
            blocks.append(Block(kind, len(text), len(text) + len(para), None, None, n, path, para))
            if kind == HEADING:
                path = (para,)
            text += para
    return text, starts, blocks


def _continues(last: Block, kind: str, para: str) -> bool:
    return (last.kind in (PARAGRAPH, ITEM) and kind == PARAGRAPH and not _ENDS_SENTENCE.search(last.text)
            and (para[:1].islower() or bool(_HYPHENATED.search(last.text))))
