"""Split documents into sentence-aware chunks that fit the embedding model's window."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .ingest import Document
from .schema import Chunk

# Coarsest boundary first: paragraphs, lines, sentences, clauses, words, characters.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]


def make_splitter(count_tokens: Callable[[str], int], max_tokens: int):
    # count_tokens includes [CLS]/[SEP]: the budget is the model's whole window.
    # No overlap: contiguous pieces make each chunk's offset exact even in repetitive text
    # (with overlap, a repeated piece could be found at the wrong place and cited there).
    return RecursiveCharacterTextSplitter(
        chunk_size=max_tokens,
        chunk_overlap=0,
        # The splitter measures each piece twice (and its separators at every merge): a small
        # cache saves two thirds of the tokenizer calls.
        length_function=lru_cache(maxsize=1024)(count_tokens),
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_id(path: str, position: int, text: str) -> str:
    """Deterministic: the same file content always gives the same ids."""
    where = hashlib.sha1(f"{path}\0{position}".encode()).hexdigest()[:12]
    what = hashlib.sha1(text.encode()).hexdigest()[:12]
    return f"{where}-{what}"


def chunk_document(doc: Document, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    chunks: list[Chunk] = []
    for sec_start, sec_end in doc.sections:
        section = doc.text[sec_start:sec_end]
        cursor = 0
        for piece in splitter.split_text(section):
            # Pieces are contiguous up to stripped whitespace: the first match at or after
            # the previous end is the piece's true place.
            at = section.find(piece, cursor)
            if at < 0:  # cannot happen with stripped pieces, but never cite a wrong place
                continue
            cursor = at + len(piece)
            start, end = sec_start + at, sec_start + at + len(piece)
            chunks.append(
                Chunk(
                    id=chunk_id(doc.path, start, piece),
                    path=doc.path,
                    text=piece,
                    start=start,
                    end=end,
                    start_line=doc.line_at(start),
                    end_line=doc.line_at(end - 1),
                    page=doc.page_at(start),
                    heading=doc.heading_at(start),
                    file_hash=doc.file_hash,
                )
            )
    return chunks
