"""Chunks from whole blocks: each fits the embedding model's window, lies under one heading (one
page for PDF) and carries the answer units it holds. A block is split only when it alone
exceeds the window: prose at sentences, anything else by the recursive text splitter. The one
exception to the window: a sentence that introduces a list or code block stays with it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .blocks import HEADING, PROSE, ROW, Block, LineMap, is_junk
from .ingest import Document
from .schema import Chunk, Unit
from .units import DocUnit, answer_units, introduces, sentences

# Coarsest boundary first: paragraphs, lines, sentences, clauses, words, characters.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]
# Bumped whenever the way files become chunks or terms changes: old indexes are then rebuilt.
LAYOUT = "blocks-8"


@dataclass(frozen=True, slots=True)
class Splitter:
    count: Callable[[str], int]  # tokens, [CLS]/[SEP] included: the budget is the model's whole window
    max_tokens: int
    fallback: RecursiveCharacterTextSplitter  # for a single block longer than the window


def make_splitter(count_tokens: Callable[[str], int], max_tokens: int) -> Splitter:
    # Each piece is measured more than once (as a block, then in a sentence or fallback): cache.
    count = lru_cache(maxsize=4096)(count_tokens)
    fallback = RecursiveCharacterTextSplitter(
        chunk_size=max_tokens,
        chunk_overlap=0,  # contiguous pieces keep each piece's offset exact
        length_function=count,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    return Splitter(count, max_tokens, fallback)


def chunk_id(path: str, position: int, text: str) -> str:
    """Deterministic: the same file content always gives the same ids."""
    where = hashlib.sha1(f"{path}\0{position}".encode()).hexdigest()[:12]
    what = hashlib.sha1(text.encode()).hexdigest()[:12]
    return f"{where}-{what}"


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    block: Block
    tokens: int
    after_gap: bool  # something (page furniture) was dropped right before it


def chunk_document(doc: Document, splitter: Splitter) -> list[Chunk]:
    text = doc.text
    spans = {i: sentences(text, b) for i, b in enumerate(doc.blocks) if b.kind in PROSE}
    atoms = _atoms(doc, splitter, spans)
    units = answer_units(text, doc.blocks, spans)
    lines = LineMap(text) if doc.has_lines else None
    budget = splitter.max_tokens - 2
    groups: list[list[_Atom]] = []
    cur: list[_Atom] = []
    used = 0
    for atom in atoms:
        b = atom.block
        only_headings = all(a.block.kind == HEADING for a in cur)
        new_section = cur and not only_headings and (
            b.kind == HEADING or b.path != cur[-1].block.path or b.page != cur[-1].block.page)
        context = splitter.count(_context(cur + [atom])) if cur else 0
        if cur and (new_section or atom.after_gap or used + atom.tokens - 2 + context > budget):
            carry = []
            # A sentence that introduces a list or code block moves on with it (even when the two
            # are more than the window holds: the embedding then reads the introduction).
            if not new_section and introduces(text[cur[-1].start : cur[-1].end], cur[-1].block):
                carry = [cur.pop()]
            if cur:
                groups.append(cur)
            cur, used = carry, sum(a.tokens - 2 for a in carry)
        cur.append(atom)
        used += atom.tokens - 2
    if cur:
        groups.append(cur)
    return [_chunk(doc, g, units, lines) for g in groups if any(a.block.kind != HEADING for a in g)]


def _atoms(doc: Document, splitter: Splitter, spans: dict[int, list[tuple[int, int]]]) -> list[_Atom]:
    """Whole blocks where they fit; sentences of a longer prose block; pieces of a longer other."""
    text, out = doc.text, []
    gap = False
    for i, b in enumerate(doc.blocks):
        source = text[b.start : b.end]
        if b.kind in PROSE:
            sents = spans[i]
            if not sents:
                gap = True
                continue
            # Whole unless furniture was cut out of it (then only its sentences are kept).
            whole = _visible(source) == sum(_visible(text[s:e]) for s, e in sents)
            pieces = [(b.start, b.end)] if whole and splitter.count(source) <= splitter.max_tokens else sents
        elif is_junk(b.text):
            gap = True
            continue
        else:
            pieces = [(b.start, b.end)]
        cursor = b.start
        for s, e in pieces:
            gap = gap or bool(text[cursor:s].strip())  # furniture cut out of this block before it
            cursor = e
            n = splitter.count(text[s:e])
            if n <= splitter.max_tokens:
                out.append(_Atom(s, e, b, n, gap))
            else:
                pos = s
                for piece in splitter.fallback.split_text(text[s:e]):
                    at = text.find(piece, pos, e)
                    if at >= 0:
                        pos = at + len(piece)
                        out.append(_Atom(at, pos, b, splitter.count(piece), gap))
                        gap = False
            gap = False
        gap = bool(text[cursor : b.end].strip())
    return out


def _visible(text: str) -> int:
    return len("".join(text.split()))


def _context(group: list[_Atom]) -> str:
    """Read before a chunk's text: its heading path, and a table's header when the chunk
    starts inside the table."""
    body = next((a.block for a in group if a.block.kind != HEADING), group[-1].block)
    parts = [body.heading_path] if body.path else []
    if body.kind == ROW and body.header and group[0].block.kind == ROW:
        parts.append(body.header)
    return "\n".join(parts)


def _chunk(doc: Document, group: list[_Atom], units: list[DocUnit], lines: LineMap | None) -> Chunk:
    start, end = group[0].start, group[-1].end
    piece = doc.text[start:end]
    body = next((a.block for a in group if a.block.kind != HEADING), group[-1].block)
    if lines is not None:
        first_line, last_line = lines.line_at(start), lines.line_at(end - 1)
    else:
        first_line, last_line = group[0].block.start_line, group[-1].block.end_line
    # A list or code block too long for one chunk is answered as far as this chunk holds it.
    held = tuple(_unit(u, start, end, group[-1].block, lines) for u in units
                 if start <= u.start and (u.end <= end or u.start < u.body < end))
    return Chunk(
        id=chunk_id(doc.path, start, piece),
        path=doc.path,
        text=piece,
        start=start,
        end=end,
        start_line=first_line,
        end_line=last_line,
        page=group[0].block.page,
        heading=body.heading_path or None,
        context=_context(group),
        units=held,
    )


def _unit(u: DocUnit, offset: int, end: int, last_block: Block, lines: LineMap | None) -> Unit:
    stop = min(u.end, end)
    if lines is not None:
        first, last = lines.line_at(u.start), lines.line_at(stop - 1)
    else:
        first, last = u.first.start_line, (u.last if stop == u.end else last_block).end_line
    return Unit(u.start - offset, stop - offset, u.kind, first, last, u.first.page, u.body - u.start if u.body else 0)
