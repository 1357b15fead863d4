"""The document model: each file becomes the blocks a reader sees (headings, paragraphs, list
items, code blocks, table rows, reference entries, quotes), each with its place in the source.

Blocks are spans of `Document.text`, so a quote cut from them is the source text itself. For
Markdown and plain text, `Document.text` is the file; HTML and PDF build it from their blocks
(see html_blocks.py, pdf_blocks.py) and keep each block's source lines or page beside it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

HEADING, PARAGRAPH, ITEM, CODE, ROW, ENTRY, QUOTE = "heading", "paragraph", "item", "code", "row", "entry", "quote"
PROSE = frozenset({PARAGRAPH, ITEM, QUOTE})  # split into sentences


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    start: int  # offsets into Document.text; text[start:end] is the block's source
    end: int
    start_line: int | None  # 1-based source lines (None for PDF)
    end_line: int | None
    page: int | None  # 1-based, PDF only
    path: tuple[str, ...]  # heading titles above the block, outermost first
    text: str  # what a reader sees: hard wraps joined, markup dropped; code keeps its lines
    depth: int = 0  # list nesting
    lang: str = ""  # a code block's language
    header: str = ""  # a table row's header row, a reference entry's name

    @property
    def heading_path(self) -> str:
        return " > ".join(self.path)


def joined(text: str) -> str:
    return " ".join(text.split())


class LineMap:
    """Offsets <-> 1-based line numbers of one text."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.length = len(text)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Offsets of 0-based lines first..last-1, trailing newline excluded."""
        end = self.starts[last] - 1 if last < len(self.starts) else self.length
        return self.starts[first], max(end, self.starts[first])


# -- Markdown ---------------------------------------------------------------------------------

# MkDocs admonitions ("!!! note") and content tabs ('=== "Windows"') indent their body by four
# spaces, which CommonMark reads as a code block: the body is dedented (line count unchanged,
# so token line maps still fit the file) and an admonition becomes a quote.
_CONTAINER = re.compile(r'^( *)(!!!|\?\?\?\+?|===)\s*(.*)$')


def _unindent_containers(text: str) -> str:
    out: list[str] = []
    body_indent, quote = None, False
    for line in text.split("\n"):
        if body_indent is not None:
            # The body moves to the container's own indent: inside a list item that keeps it
            # in the item, where a quote marker at column 0 would end the list.
            outer = " " * (body_indent - 4)
            if not line.strip():
                out.append(f"{outer}>" if quote else "")
                continue
            if line.startswith(" " * body_indent):
                out.append(f"{outer}> {line[body_indent:]}" if quote else outer + line[body_indent:])
                continue
            body_indent = None
        m = _CONTAINER.match(line)
        if m:
            indent, marker, title = m.groups()
            body_indent, quote = len(indent) + 4, marker != "==="
            # A tab's title ('=== "Windows"') introduces its content, like a sentence ending in ":".
            out.append(f"{indent}>" if quote else f"{indent}{title.strip().strip(chr(34))}:")
            continue
        out.append(line)
    return "\n".join(out)


def markdown_blocks(text: str) -> list[Block]:
    blocks = _markdown_blocks(text)
    return group_entries(blocks, code_named_headings(blocks, text))


def _markdown_blocks(text: str) -> list[Block]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(_unindent_containers(text))
    lines = LineMap(text)
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []  # (level, title)
    depth = quote = 0
    item_open: list[bool] = []  # per open list item: has its first paragraph been taken
    header = ""
    for i, tok in enumerate(tokens):
        t = tok.type
        if t in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif t in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif t == "list_item_open":
            item_open.append(False)
        elif t == "list_item_close":
            item_open.pop()
        elif t == "blockquote_open":
            quote += 1
        elif t == "blockquote_close":
            quote -= 1
        elif t == "heading_open":
            level, title = int(tok.tag[1]), joined(tokens[i + 1].content)
            path = [p for p in path if p[0] < level] + [(level, title)]
            blocks.append(_md_block(HEADING, tok.map, lines, [p[1] for p in path[:-1]], title))
        elif t == "paragraph_open" and tok.map:
            kind = QUOTE if quote else PARAGRAPH
            first_line = tok.map[0]
            if item_open and not item_open[-1]:
                # The item's first paragraph is the item: start at its marker line.
                item_open[-1] = True
                kind, first_line = ITEM, _item_line(tokens, i)
            block = _md_block(kind, [first_line, tok.map[1]], lines, [p[1] for p in path],
                              joined(tokens[i + 1].content), depth=depth)
            blocks.append(block)
        elif t in ("fence", "code_block") and tok.map:
            code = tok.content.rstrip("\n")
            if code.strip():
                blocks.append(_md_block(CODE, tok.map, lines, [p[1] for p in path], code,
                                        depth=depth, lang=tok.info.strip().split(" ")[0]))
        elif t == "tr_open" and tok.map:
            cells = _row_cells(tokens, i)
            if tokens[i - 1].type == "thead_open":
                header = " | ".join(cells)
                continue
            names = header.split(" | ")
            text_ = "; ".join(f"{n}: {c}" if n else c for n, c in zip(names + [""] * len(cells), cells))
            blocks.append(_md_block(ROW, tok.map, lines, [p[1] for p in path], text_, header=header))
    return blocks


def _item_line(tokens, i: int) -> int:
    for tok in reversed(tokens[:i]):
        if tok.type == "list_item_open":
            return tok.map[0]
    return tokens[i].map[0]


def _row_cells(tokens, i: int) -> list[str]:
    cells = []
    for tok in tokens[i + 1 :]:
        if tok.type == "tr_close":
            break
        if tok.type == "inline":
            cells.append(joined(tok.content))
    return cells


def _md_block(kind: str, line_map, lines: LineMap, path, text: str, **kw) -> Block:
    start, end = lines.span(line_map[0], line_map[1])
    return Block(kind, start, end, line_map[0] + 1, max(line_map[1], line_map[0] + 1), None, tuple(path), text, **kw)


# -- plain text -------------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")


# A wiki page saved as text keeps its section edit links ("References(edit)"). The appendix
# sections come last on every such page, and from the first of them on the page holds only
# links, citations and navigation boxes, which outranked the answer on NQ pages.
# ("Notes(edit)" is left out: some pages use it mid-page for a note on the cast.)
_WIKI_BACK_MATTER = re.compile(
    r"\b(?:See also|References|External links|Further reading|Sources|Bibliography|Notes and references|"
    r"Works cited|Citations)\(edit\)"
)
_PARAGRAPH = re.compile(r"\S(?:.|\n(?![ \t]*\n))*")
# A section heading of such a page runs on between the sentences around it: "... in 1972.
# Reception(edit) IGN ranked it ...". It starts after the last sentence end of the few words
# before its edit link; with none (a list or table runs into it), at its last capitalised word.
_WIKI_HEADING = re.compile(r"(?<=\S)\(edit\)")
_SENTENCE_END = re.compile(r"""[.!?:;]["'’”)\]]*\s+|''\s+""")
_HEADING_WORDS = 10


def _heading_start(text: str, lo: int, at: int) -> int:
    """Where the wiki heading whose edit link is at `at` begins (not before `lo`)."""
    before = text[max(lo, at - 120) : at]
    base = at - len(before)
    ends = [m.end() for m in _SENTENCE_END.finditer(before)]
    # (Not when those words are a table of contents, whose last entry then starts the heading.)
    if ends and len(before[ends[-1] :].split()) <= _HEADING_WORDS and not _JUNK.search(before[ends[-1] :]):
        return base + ends[-1]
    caps = [m.start() for m in re.finditer(r"(?<!\S)[A-Z0-9]", before)]
    return base + caps[-1] if caps else at


def text_blocks(text: str) -> list[Block]:
    """Blank-line paragraphs, hard wraps joined; a run of bulleted lines is one item each. On a
    wiki page saved as text, its section headings are heading blocks, above the text of their
    section, and its appendix sections (references, external links) are left out."""
    lines = LineMap(text)
    blocks: list[Block] = []
    back = _WIKI_BACK_MATTER.search(text)
    limit = back.start() if back else len(text)
    path: tuple[str, ...] = ()

    def add(kind: str, start: int, end: int) -> None:
        nonlocal path
        for m in _WIKI_HEADING.finditer(text, start, end):
            head = _heading_start(text, start, m.start())
            if text[start:head].strip():
                add_one(kind, start, head, path)
            title = joined(text[head : m.start()])
            add_one(HEADING, head, m.end(), (), title)
            path = (title,)
            start = m.end()
        add_one(kind, start, end, path)

    def add_one(kind: str, start: int, end: int, where: tuple[str, ...], shown: str | None = None) -> None:
        piece = text[start:end]
        start += len(piece) - len(piece.lstrip())
        end -= len(piece) - len(piece.rstrip())
        if end > start:
            blocks.append(Block(kind, start, end, lines.line_at(start), lines.line_at(end - 1), None,
                                where, shown or joined(text[start:end])))

    for m in _PARAGRAPH.finditer(text[:limit].rstrip()):
        para_lines = m.group().split("\n")
        first = lines.line_at(m.start()) - 1
        bulleted = [k for k, ln in enumerate(para_lines) if _BULLET.match(ln)]
        cuts = sorted({0, *bulleted}) if bulleted else [0]
        for a, b in zip(cuts, cuts[1:] + [len(para_lines)]):
            start, end = lines.span(first + a, first + b)
            add(ITEM if a in bulleted else PARAGRAPH, start, min(end, m.end()))  # min: cut at the back matter
    return blocks


# -- reference entries ------------------------------------------------------------------------


def group_entries(blocks: list[Block], code_names: set[int]) -> list[Block]:
    """A heading that names one thing (a setting, a variable: `code_names` holds their indexes)
    and the prose below it up to the next heading or code block become one entry: the name, its
    description and its default are answered together."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        b = blocks[i]
        j = i + 1
        while i in code_names and j < len(blocks) and blocks[j].kind in PROSE:
            j += 1
        if j - i < 2 or i not in code_names:
            out.append(b)
            i += 1
            continue
        body = blocks[i + 1 : j]
        last = body[-1]
        desc = " ".join(x.text for x in body)
        out.append(replace(b, kind=ENTRY, end=last.end, end_line=last.end_line,
                           path=b.path + (b.text,), text=f"{b.text}: {desc}", header=b.text))
        i = j
    return out


def code_named_headings(blocks: list[Block], text: str) -> set[int]:
    """Markdown headings written as one code span ("### `UV_CACHE_DIR`")."""
    return {i for i, b in enumerate(blocks)
            if b.kind == HEADING and re.fullmatch(r"#+\s*`[^`]+`\s*#*", text[b.start : b.end].strip())}


# -- boilerplate ------------------------------------------------------------------------------

# A wiki reference list ("Jump up ^ Smith (2001). Tides. Retrieved 23 April 2017.") runs on to the
# end of its section, one cited title after another; each title ("``The Ending of World War One''.")
# is a sentence of its own that no furniture marks, and it outranked the page's prose.
_REFERENCE_LIST = re.compile(r"Jump up\b|\^ Jump")
# Page furniture that says nothing about the subject: wiki navigation and reference lists, page
# footers, edit links, cookie banners. A block holding one is not indexed; in a sentence, only
# the furniture and what follows it go (flattened pages run a cast list or a table, with no full
# stop, into a reference list, and a lead paragraph into the table of contents).
_JUNK = re.compile(
    rf"Jump to: navigation|{_REFERENCE_LIST.pattern}|"
    r"Retrieved (?:from|on )?\W*(?:\d|http|``)|This page was last (?:edited|modified)|"
    r"Text is available under the Creative Commons|Privacy Policy|Terms of Use|Edit this page|"
    r"Contents \(hide\)|Hidden categories:|^\s*Categories:|Wikipedia® is a registered|Back to top|"
    r"(?:This|Our) (?:site|website) uses cookies|Accept (?:all )?cookies",
    re.IGNORECASE,
)
# Furniture with content after it in the same sentence: the navigation line, with the page title
# before it, and a table of contents, which runs on into its first section's heading and first
# sentence. (No leading wildcard: searched at every position, one cost 1-2 s per MB of prose.)
_FURNITURE = re.compile(
    rf"(?P<nav>Jump to: navigation, search\s*)|(?P<toc>Contents \(hide\).{{0,3000}}?\(edit\)\s*)|(?P<stop>{_JUNK.pattern})",
    re.IGNORECASE | re.DOTALL,
)
_TITLE_CHARS = 200  # at most this much before the navigation line is the page title
_MIN_WORDS = 3  # fewer before other furniture is furniture too


def is_junk(text: str) -> bool:
    return bool(_JUNK.search(text))


def opens_reference_list(text: str) -> bool:
    """True if `text` (a sentence) starts a reference list: nothing after it in its block is content."""
    return bool(_REFERENCE_LIST.search(text))


def content_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of the sentence text[start:end] that are not page furniture, stripped; empty
    when it is all furniture."""
    sentence, pos, out = text[start:end], 0, []
    while True:
        m = _FURNITURE.search(sentence, pos)
        piece = sentence[pos : m.start() if m else len(sentence)]
        if m is None:
            keep = bool(piece.strip())
        elif m.lastgroup == "nav":
            keep = len(piece) > _TITLE_CHARS
        else:  # a few words before a reference list are its heading or a page number ("Notes(edit)", "pp. 42")
            keep = len(piece.split()) >= _MIN_WORDS
        if keep:
            a = start + pos + len(piece) - len(piece.lstrip())
            out.append((a, a + len(piece.strip())))
        if not m or m.lastgroup == "stop":
            return out
        pos = m.end()
