"""Sentences inside blocks, and the answer units built from them.

A unit is what the extractive answerer may quote: a sentence; a sentence ending in ":" with the
list or code block it introduces; a code block with the sentence before it, or with the heading
right above it when no sentence comes between; a reference entry or table row whole. A heading, a
code block alone and a sentence that only points elsewhere are never units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .blocks import CODE, ENTRY, HEADING, ITEM, PROSE, ROW, Block, content_spans, is_junk, opens_reference_list
from .text import sentence_spans

MAX_UNIT_CHARS = 1500  # an introduced list or code block is cut off after this (whole blocks)
WINDOW = 2000


@dataclass(frozen=True, slots=True)
class DocUnit:
    start: int  # offsets into Document.text
    end: int
    kind: str
    body: int  # offset where the introduced list or code block begins, 0 if none
    first: Block
    last: Block


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def sentences(text: str, block: Block) -> list[tuple[int, int]]:
    """Sentence spans (offsets into `text`) of one prose block, page furniture left out."""
    # Hard wraps are spaces to a reader, and code spans, link targets, bare URLs and file names
    # hold no sentence end ("e.g. `.h`", "(../guide.md#x)", "http://host/?token=x", "a .toml file":
    # built HTML has no backticks): each is replaced by as many characters, so every offset
    # stays the source's.
    flat = _INERT.sub(lambda m: m.group()[0] + "x" * (len(m.group()) - 2) + m.group()[-1],
                      text[block.start : block.end].replace("\n", " "))
    flat = _BARE.sub(lambda m: "x" * len(m.group()), flat)
    spans: list[tuple[int, int]] = []
    for at, window in _windows(flat):
        if _sentences_in(text, block.start + at, window, spans):
            break
    if title := _page_title(flat):
        return [piece for s, e in spans for piece in _split_lead(text, s, e, title)]
    return spans


def _page_title(flat: str) -> str | None:
    """The title of a wiki page saved as text ("World War I - wikipedia World War I Jump to: ..."),
    read from the start of its first block."""
    m = _WIKI_TITLE.match(flat)
    return m.group(1).strip() if m else None


def _split_lead(text: str, start: int, end: int, title: str) -> list[tuple[int, int]]:
    """A flattened page runs its infobox, cell after cell with no full stop, into the lead
    sentence ("... July Crisis 1914 World War I (often abbreviated to WWI), ... was a global
    war ..."): a long sentence is cut where the page's title opens its lead, so the lead, which
    answers most questions about the page, is a sentence of its own."""
    sentence = text[start:end]
    if len(sentence.split()) < _RUN_ON_WORDS:
        return [(start, end)]
    leads = [m.start() for m in re.finditer(re.escape(title) + _LEAD_AFTER_TITLE, sentence) if m.start() > 0]
    if not leads:
        return [(start, end)]
    cut = start + leads[-1]
    head = text[start:cut].rstrip()
    return [(start, start + len(head)), (cut, end)] if head else [(cut, end)]


def _windows(flat: str) -> list[tuple[int, str]]:
    """pysbd slows down more than linearly on long texts (a whole web page on one line):
    it reads them in windows of about WINDOW characters cut at likely sentence ends, though not
    inside parentheses, where pysbd never cuts ("Jean-Paul Valley (a.k.a. Azrael), who")."""
    if len(flat) <= WINDOW:
        return [(0, flat)]
    out, start, end = [], 0, 0
    for s, e in sentence_spans(flat):
        if e - start > WINDOW and end > start and (not _unclosed(flat[start:end]) or e - start > 2 * WINDOW):
            out.append((start, flat[start:end]))
            start = s
        end = e
    out.append((start, flat[start:]))
    return out


def _segment(window: str) -> list[tuple[int, int]]:
    """pysbd's sentences of `window` as spans, each with the whitespace after it. (pysbd's own
    spans find each sentence with a regex compiled for its text: a third of its time.) Like
    pysbd's, a sentence it rewrote, so that it is not found verbatim, is left out."""
    spans, pos = [], 0
    for sentence in _segmenter().processor(window).process():
        at = window.find(sentence, pos)
        if at < 0:
            continue
        end = _SPACES.match(window, at + len(sentence)).end()
        spans.append((at, end))
        pos = end
    return spans


def _unclosed(text: str) -> bool:
    return text.count("(") > text.count(")")


def _sentences_in(text: str, offset: int, window: str, spans: list[tuple[int, int]]) -> bool:
    """Adds the window's sentences to `spans`; True when a reference list ended the block's content."""
    bounds = []
    for start, end in _segment(window):
        # pysbd cuts a quotation closed TeX-style (flattened wiki pages: ``...one.'' A second)
        # before its closing marks, which then opened the next sentence.
        if bounds and window.startswith("''", start):
            start += 2
            bounds[-1] = (bounds[-1][0], start)
        bounds.append((start, end))
    for start, end in bounds:
        spans += content_spans(text, offset + start, offset + end)
        if opens_reference_list(text[offset + start : offset + end]):
            return True
    return False


def answer_units(text: str, blocks: list[Block], spans: dict[int, list[tuple[int, int]]]) -> list[DocUnit]:
    """Every answer unit of a document; `spans` holds each prose block's sentences by index."""
    units: list[DocUnit] = []
    for i, b in enumerate(blocks):
        if b.kind in (ENTRY, ROW):
            if not is_junk(b.text):
                units.append(DocUnit(b.start, _without_dangling_label(text, b), b.kind, 0, b, b))
        elif b.kind in PROSE:
            # An ordered item's marker ("1.") reads as a sentence of its own: it is no unit.
            sents = [(s, e) for s, e in spans.get(i, []) if not (b.kind == ITEM and _MARKER_ONLY.match(text[s:e]))]
            for k, (s, e) in enumerate(sents):
                last = k == len(sents) - 1 and e == _stripped_end(text, b)
                if not (last and introduces(text[s:e], b)):
                    # A bare name ("- `index-url`", "- Ed25519") is answered by its list, not alone.
                    if not (is_pointer(text[s:e]) or is_signpost(text[s:e]) or b.kind == ITEM and len(b.text.split()) < 3):
                        units.append(DocUnit(s, e, "sentence", 0, b, b))
                elif body := _introduced(blocks, i):  # an introduction without its list says nothing
                    if all(x.kind == ITEM and _ONLY_LINK.match(x.text) for x in body):
                        continue  # a table of contents (every item a link) is navigation
                    kind = "code" if body[0].kind == CODE else "list"
                    units.append(DocUnit(s, body[-1].end, kind, body[0].start, b, body[-1]))
        elif b.kind == CODE and i and blocks[i - 1].kind in PROSE and spans.get(i - 1):
            s, e = spans[i - 1][-1]
            if not introduces(text[s:e], blocks[i - 1]):  # else the sentence's unit holds it already
                units.append(DocUnit(s, b.end, "code", b.start, blocks[i - 1], b))
        elif b.kind == CODE and i and blocks[i - 1].kind == HEADING:  # "### Basic usage", then the command
            units.append(DocUnit(blocks[i - 1].start, b.end, "code", b.start, blocks[i - 1], b))
    return units


def leans_back(sentence: str) -> bool:
    """A sentence that opens by pointing back ("This method builds uv from source", "When
    enabled, uv queries the driver") says what it says of the sentence before it, which a quote
    of it alone leaves out."""
    return bool(_ANAPHOR.match(sentence))


def _without_dangling_label(text: str, entry: Block) -> int:
    """Where an entry's answer ends: before a last line that only labels what follows it
    ("Example usage:"), whose example (on a built page, a set of tabs) the entry does not hold."""
    source = text[entry.start : entry.end].rstrip()
    cut = source.rfind("\n")
    last = source[cut + 1 :].strip()
    if cut > 0 and last.endswith(":") and len(last.split()) <= _LABEL_WORDS:
        return entry.start + len(source[:cut].rstrip())
    return entry.end


def is_signpost(sentence: str) -> bool:
    """A sentence about the talk or page itself ("This slide describes the components we expect
    to work on", "Today I will address why we're doing OSCAL"): it names what is coming, not what
    is so, and it outranked the sentences it announces (it holds all their words)."""
    return bool(_SIGNPOST.match(" ".join(sentence.split())))


def is_pointer(sentence: str) -> bool:
    """A sentence that only sends the reader elsewhere: a docs cross-reference ("See the
    documentation on [upgrading](#upgrading) for details.", "Or, read on for [guides](x.md)") or
    a wiki hatnote ("For the 1986 sequel, see A Man and a Woman: 20 Years Later."). It stays in
    its chunk for retrieval, but is no answer: it names where the answer is, not what it is."""
    sentence = " ".join(sentence.split())
    return bool(_HATNOTE.match(sentence) or _ONLY_LINK.match(sentence)
                or "](" in sentence and _POINTER.search(sentence))


def introduces(sentence: str, block: Block) -> bool:
    """A sentence ending in ":" (or a content tab's title) announces what follows."""
    return sentence.rstrip("*_` ").endswith(":") or block.text.endswith(":")


def _stripped_end(text: str, b: Block) -> int:
    end = b.end
    while end > b.start and text[end - 1].isspace():
        end -= 1
    return end


def _introduced(blocks: list[Block], i: int) -> list[Block]:
    """The list (its items, nested ones too) or the code block right after block i."""
    if i + 1 >= len(blocks):
        return []
    nxt = blocks[i + 1]
    if nxt.kind == CODE:
        return [nxt]
    if nxt.kind != ITEM or nxt.depth < blocks[i].depth or (blocks[i].kind == ITEM and nxt.depth == blocks[i].depth):
        return []
    out = []
    for b in blocks[i + 1 :]:
        # After the first item: its code and, in Markdown, the paragraphs indented under it.
        inside = out and (b.kind == CODE or b.kind in PROSE and nxt.depth > 0)
        if not (b.kind == ITEM or inside) or b.depth < nxt.depth:
            break
        if out and b.end - out[0].start > MAX_UNIT_CHARS:
            break
        out.append(b)
    return out


_SPACES = re.compile(r"\s*")
_LABEL_WORDS = 3
_WIKI_TITLE = re.compile(r"\s*(\S.{0,150}?) - wikipedia\b", re.IGNORECASE)
# A lead names its subject, then a parenthesis ("(born 1944)"), an alias or the verb.
_LEAD_AFTER_TITLE = r"(?=\s*\(|,|\s+(?:is|was|are|were)\b)"
_RUN_ON_WORDS = 60  # a sentence this long on such a page is cells run together, or holds the lead
_ONLY_LINK = re.compile(r"(?:[-*+•]|\d{1,3}[.)])?\s*\[[^\]]*\]\([^)]*\)\W*$")  # a navigation list's item
_ANAPHOR = re.compile(
    r"(?:This|These|That|Those|It|Its|They|Their|Such|He|She|His|Her|"
    r"(?:When|If|Once|Unless) (?:enabled|disabled|set|used|provided|specified|present|so|not)|"
    r"In (?:this|that|either|both) cases?|Otherwise|Instead)\b")
_HATNOTE = re.compile(r"For (?!example|instance)[^.]{0,150}, see [^.]{0,150}\.?$")
_SIGNPOST = re.compile(
    r"(?:Today,? |First,? |Next,? )?(?:I|we)(?:'ll|’ll| will| am going to| are going to) (?:address|talk about|discuss|"
    r"cover|go over|walk through|look at)\b|"
    r"(?:The )?(?:next|following|previous) (?:few )?slides? |"
    r"This (?:slide|talk|presentation|deck|page|guide|document|section|chapter|tutorial)(?: and [^.]{0,40}?)? "
    r"(?:(?:describe|cover|explain|show|outline|provide|walk|talk|list|give)s?|discuss(?:es)?|has|have|will|"
    r"is about|are about)\b|"
    r"This talks to\b",
    re.IGNORECASE)
_POINTER = re.compile(
    r"^\W*(?:or,? |also,? )?(?:see|read|refer to|check out|explore|visit|consult|head to)\b|"
    r"\bcan be found (?:in|at|on) (?:the |our )?\[|^for (?:more|further|additional|full) [^,]{0,80}, see\b",
    re.IGNORECASE)
# A code span is short and single-backticked: ``LaTeX quotes'' in web text are not code, and a
# false span swallowing a page would swallow its sentence ends.
_INERT = re.compile(r"(?<!`)`(?!`)[^`]{1,80}(?<!`)`(?!`)|(?<=\])\([^()\s]*\)")
_BARE = re.compile(r"\bhttps?://[^\s<>\"]*[^\s<>\".,;:!?)]|(?<![^\s(])\.[A-Za-z][\w-]*(?:\.[A-Za-z]\w*)*(?=[\s,;:)]|\.(?:\s|$)|$)")
_LINE_MARKUP = re.compile(r"^[ \t]*(?:>[ \t]?)+|^#{1,6}[ \t]+")
_TAB_TITLE = re.compile(r'^[ \t]*===[ \t]*"?([^"\n]*)"?[ \t]*$', re.MULTILINE)
# An admonition inside a list item ("!!! tip", '??? note "Why"') reads as its title.
_ADMONITION = re.compile(r'^[ \t]*(?:!!!|\?\?\?\+?)[ \t]*(\w+)(?:[ \t]+"([^"\n]*)")?[ \t]*$')
_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+")
_MARKER_ONLY = re.compile(r"\s*(?:[-*+•]|\d{1,3}[.)]|[a-z][.)])\s*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


def display(text: str, kind: str, body: int) -> str:
    """How a unit is shown: prose joined into one line, a list one item a line, code fenced."""
    head = _TAB_TITLE.sub(r"\1:", text[:body] if body else text)
    shown = " ".join(_LINE_MARKUP.sub("", ln) for ln in head.split("\n")).strip()
    shown = " ".join(shown.split())
    if not body:
        return shown
    rest = "\n".join(_LINE_MARKUP.sub("", ln) for ln in text[body:].split("\n"))
    if kind == "code":
        code = _dedent(rest)
        if not (fence := _FENCE.match(code)):
            return f"{shown}\n```\n{code}\n```"
        # A code block longer than its chunk is shown as far as the chunk holds it, fence closed.
        closed = "\n" in code and code.rstrip().rsplit("\n", 1)[-1].strip().startswith(fence.group(1))
        return f"{shown}\n{code}" if closed else f"{shown}\n{code}\n{fence.group(1)}"
    # One line per item, its wrapped lines joined; a code block inside an item keeps its lines,
    # fenced at the margin (chat clients render no indented fence).
    lines: list[str] = []
    fence, indent, joinable = None, 0, False
    for ln in rest.split("\n"):
        if fence is not None:
            lines.append(ln[indent:] if not ln[:indent].strip() else ln.lstrip())
            fence = None if ln.strip().startswith(fence) else fence
        elif m := _FENCE.match(ln):
            fence, indent, joinable = m.group(1), len(ln) - len(ln.lstrip()), False
            lines.append(ln.lstrip())
        elif not ln.strip():
            continue
        elif tab := _TAB_TITLE.match(ln):  # a content tab inside an item
            lines.append(f"  {tab[1]}:")
            joinable = True
        elif note := _ADMONITION.match(ln):
            lines.append(f"  {note[2] or note[1].capitalize()}:")
            joinable = True
        elif (marker := _LIST_MARKER.match(ln)) or not joinable:
            lines.append(ln.rstrip() if marker else "  " + ln.strip())
            joinable = True
        else:
            lines[-1] += " " + ln.strip()
    if fence is not None:  # a list cut off inside its code block is shown with the fence closed
        lines.append(fence)
    return shown + "\n" + "\n".join(lines)


def _dedent(code: str) -> str:
    import textwrap

    return textwrap.dedent(code).strip("\n")
