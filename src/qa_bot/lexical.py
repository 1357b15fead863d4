"""BM25 over the chunks (bm25s), saved beside the vector store, plus the chunk table it serves."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .question_kind import type_nouns
from .schema import Chunk
from .text import dotted_names, sentence_spans, specificity, term_pairs, terms


# A word at least this rare in English (Zipf 3 or less) that no chunk holds may be a misspelling:
# "recieve" is 2.75, "adress" 2.4, "pyhton" unknown, where "mac" is 4.5 and "forge" 3.8.
MISSPELLING_SPECIFICITY = 0.6
TOPIC_MIN_CHUNKS = 8  # a file this small has no topic apart from what each chunk says


class LexicalIndex:
    """BM25 scores, document frequencies for term weighting, and chunks by id."""

    def __init__(self, retriever, chunks: list[Chunk], df: dict[str, int]):
        self._bm25 = retriever
        self.chunks = chunks
        self.by_id = {c.id: c for c in chunks}
        self._df = df
        self._near: dict[str, str | None] = {}  # term no chunk holds -> the indexed term it may misspell
        self._by_path: dict[str, list[Chunk]] = {}
        for c in chunks:
            self._by_path.setdefault(c.path, []).append(c)
        self._file_terms: dict[str, tuple[int, Counter[str]]] = {}

    @classmethod
    def build(cls, chunks: list[Chunk]) -> LexicalIndex:
        import bm25s

        tokens = [terms(c.indexed_text) or [""] for c in chunks]
        retriever = None
        if chunks:
            retriever = bm25s.BM25()
            retriever.index(tokens, show_progress=False)
        df: dict[str, int] = {}
        for toks in tokens:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        return cls(retriever, chunks, df)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder / "bm25"), show_progress=False)
        rows = [{"id": c.id, "text": c.text, **c.metadata()} for c in self.chunks]
        (folder / "chunks.json").write_text(json.dumps({"chunks": rows, "df": self._df}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        data = json.loads((folder / "chunks.json").read_text())
        chunks = [Chunk.from_metadata(r["id"], r["text"], r) for r in data["chunks"]]
        retriever = None
        if chunks:
            import bm25s

            retriever = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        return cls(retriever, chunks, data["df"])

    def question_terms(self, question: str) -> list[tuple[str, str]]:
        """(word, term) for each content word of a question; a rare word that no chunk holds is
        taken as a misspelling of its nearest indexed term (SQuAD's crowd-written questions misspell
        about one rare word in twenty). A common word that no chunk holds ("mac", "forge") is kept:
        its nearest term ("max", "force") is another word."""
        pairs = []
        for word, term in term_pairs(question):
            if term not in self._df and specificity(word) >= MISSPELLING_SPECIFICITY:
                term = self._nearest(term) or term
            pairs.append((word, term))
        return pairs

    def unknown_words(self, question: str, min_specificity: float) -> tuple[str, ...]:
        """What the documents never mention: the question's words that are rare in English
        (specificity at least `min_specificity`) and that no chunk holds, not even misspelt, and
        the file names it asks about ("environment.yml") that no chunk holds. A name's words alone
        prove nothing: docs that say "environment" and "yml" apart need not know environment.yml."""
        rare = tuple(w for w, t in term_pairs(question)
                     if t not in self._df and specificity(w) >= min_specificity and self._nearest(t) is None)
        return rare + tuple(n for n in dotted_names(question) if n not in self._dotted_names)

    @cached_property
    def _dotted_names(self) -> frozenset[str]:
        """Every file name the chunks hold, with its shorter runs of parts ("docs.astral.sh" holds
        "astral.sh" too); built on the first question that names a file."""
        names: set[str] = set()
        for c in self.chunks:
            for name in dotted_names(c.indexed_text):
                parts = name.split(".")
                names.update(".".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 2, len(parts) + 1))
        return frozenset(names)

    def _nearest(self, term: str) -> str | None:
        """The indexed term `term` most likely misspells: one that starts with the same letter and
        is one edit away (two for terms of six letters or more), the most frequent of the nearest."""
        if term not in self._near:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            near = process.extract(term, self._by_initial.get(term[:1], ()), scorer=OSA.distance,
                                   score_cutoff=1 if len(term) <= 5 else 2, limit=None)
            self._near[term] = min(near, key=lambda m: (m[1], -self._df[m[0]]))[0] if near else None
        return self._near[term]

    @cached_property
    def _by_initial(self) -> dict[str, list[str]]:
        buckets: dict[str, list[str]] = {}
        for term in self._df:
            if term:
                buckets.setdefault(term[0], []).append(term)
        return buckets

    def idf(self, term: str) -> float:
        n = max(len(self.chunks), 1)
        df = self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def term_weights(self, question: str) -> dict[str, float]:
        """How much each question term matters (0..1): rare in the corpus and in English.

        Corpus idf alone is unreliable in small folders (every word missing from five chunks
        looks as rare as a name), so it is scaled by the word's rarity in general English. A noun
        that names the answer's kind ("what year") is no term: the answer holds a year instead.
        """
        skip = type_nouns(question)
        weights: dict[str, float] = {}
        for word, term in term_pairs(question):
            if word.lower() in skip:
                continue
            w = self.idf(term) / self.max_idf * specificity(word)
            weights[term] = max(weights.get(term, 0.0), w)
        return weights

    def topic_terms(self, chunk: Chunk, weights: dict[str, float]) -> set[str]:
        """The question's terms that the chunk's document is about: in its heading path, or in at
        least half of its file's chunks. A unit need not repeat them ("a profile is ..." in a
        document on OSCAL answers "what's a profile in OSCAL")."""
        given = set(terms(chunk.context)) if chunk.context else set()
        n, counts = self._file_counts(chunk.path)
        if n >= TOPIC_MIN_CHUNKS:
            given.update(t for t in weights if counts[t] * 2 >= n)
        return given & set(weights)

    def _file_counts(self, path: str) -> tuple[int, Counter[str]]:
        """(chunks of the file, chunks holding each term), computed once per file."""
        if path not in self._file_terms:
            chunks = self._by_path.get(path, [])
            self._file_terms[path] = (len(chunks), Counter(t for c in chunks for t in set(terms(c.indexed_text))))
        return self._file_terms[path]

    @property
    def max_idf(self) -> float:
        """The idf of a term no chunk contains."""
        return self.idf("\0")

    def search(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        toks = [t for _, t in self.question_terms(query) if t in vocab]
        if not toks:
            return []
        k = min(n, len(self.chunks))
        docs, scores = self._bm25.retrieve([toks], k=k, show_progress=False, n_threads=1)
        return [
            (self.chunks[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0 and np.isfinite(s)
        ]


def coverage(weights: dict[str, float], present: set[str]) -> float:
    """Share of the question's term weight found in `present`."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


@dataclass(frozen=True, slots=True)
class SentenceEvidence:
    start: int  # offsets into the passage text
    end: int
    coverage: float  # of the question's terms, by this sentence
    context_coverage: float  # by it and its neighbours (the answer may sit beside the match)
    novelty: float  # 1 if it says anything the question does not already say

    @property
    def strength(self) -> float:
        return 0.7 * self.coverage + 0.3 * self.context_coverage


def sentence_evidence(text: str, weights: dict[str, float], spans: list[tuple[int, int]] | None = None,
                      given: set[str] = frozenset()) -> list[SentenceEvidence]:
    """Evidence for each sentence of `text` (or each of the given spans, e.g. answer units);
    `given` terms count as present in every sentence (the document's topic)."""
    spans = sentence_spans(text) if spans is None else spans
    sets = [set(terms(text[s:e])) | given for s, e in spans]
    out = []
    for i, (s, e) in enumerate(spans):
        around = sets[i].union(*sets[max(i - 1, 0) : i + 2])
        novel = 1.0 if sets[i] - set(weights) else 0.0
        out.append(SentenceEvidence(s, e, coverage(weights, sets[i]), coverage(weights, around), novel))
    return out
