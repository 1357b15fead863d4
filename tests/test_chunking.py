"""Chunking: every chunk fits the model's window, is a verbatim slice, and has a stable id."""

from __future__ import annotations

import pytest

from qa_bot.blocks import text_blocks
from qa_bot.chunking import chunk_document, make_splitter
from qa_bot.embeddings import MAX_TOKENS
from qa_bot.ingest import Document, file_hash

NASTY = {
    "one giant word": "x" * 5000,
    "one long sentence": " ".join(f"word{i}" for i in range(2000)),
    "many short lines": "\n".join(f"Line {i} says something." for i in range(800)),
    "no spaces CJK": "信息安全" * 900,
    "numbers and punctuation": "3.14159, 2.71828; 1.41421! " * 400,
    "emoji and accents": "Ça coûte 5 € 🙂 — naïve café. " * 300,
}


def _doc(text: str, path: str = "/docs/a.txt") -> Document:
    return Document(path, text, file_hash(text.encode()), text_blocks(text))


@pytest.fixture(scope="module")
def splitter(encoder):
    return make_splitter(encoder.count_tokens, 200)


@pytest.mark.parametrize("kind", NASTY)
def test_no_chunk_exceeds_the_model_window(encoder, splitter, kind):
    doc = _doc(NASTY[kind])
    chunks = chunk_document(doc, splitter)
    assert chunks
    counts = [encoder.count_tokens(c.text) for c in chunks]
    assert max(counts) <= MAX_TOKENS, f"{kind}: a chunk of {max(counts)} word-pieces would be truncated"
    assert max(counts) <= 200
    # Nothing is lost: every character that is not whitespace lands in some chunk.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_chunks_are_verbatim_slices_with_lines(encoder, splitter, tmp_path):
    text = "".join(f"Paragraph {i}. " + "It has several sentences here. " * 8 + "\n\n" for i in range(30))
    doc = _doc(text)
    for c in chunk_document(doc, splitter):
        assert doc.text[c.start : c.end] == c.text
        assert c.start_line == text.count("\n", 0, c.start) + 1
        assert c.end_line == text.count("\n", 0, c.end - 1) + 1


def test_chunks_prefer_sentence_boundaries(splitter):
    text = " ".join(f"Sentence number {i} ends here." for i in range(300))
    chunks = chunk_document(_doc(text), splitter)
    assert len(chunks) > 3
    assert all(c.text.endswith(".") for c in chunks)


def test_chunk_ids_are_deterministic_and_content_addressed(splitter):
    text = "Alpha beta gamma. " * 200
    first = [c.id for c in chunk_document(_doc(text), splitter)]
    again = [c.id for c in chunk_document(_doc(text), splitter)]
    other_path = [c.id for c in chunk_document(_doc(text, "/docs/b.txt"), splitter)]
    edited = [c.id for c in chunk_document(_doc("Changed. " + text[9:]), splitter)]
    assert first == again
    assert len(set(first)) == len(first)
    assert not set(first) & set(other_path)
    assert first[0] != edited[0]
