"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank,
then the best fused candidates reranked by the evidence their sentences hold."""

from __future__ import annotations

from dataclasses import replace

from .calibration import Calibration
from .embeddings import Encoder
from .features import RerankFeatures, weigh
from .lexical import LexicalIndex, coverage, sentence_evidence
from .schema import Chunk, Passage
from .settings import Settings
from .text import terms


class Retriever:
    def __init__(self, settings: Settings, encoder: Encoder, store, lexical: LexicalIndex,
                 calibration: Calibration):
        self.settings = settings
        self.encoder = encoder
        self.store = store  # anything with dense_search(vector, n)
        self.lexical = lexical
        self.weights = calibration.rerank_weights

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The top-k passages for `question`, best first."""
        k = k or self.settings.top_k
        scored = [
            replace(p, score=weigh(self.weights, feats))
            for p, feats in self.pool(question, k)
        ]
        scored.sort(key=lambda p: p.score, reverse=True)
        return scored[:k]

    def pool(self, question: str, k: int) -> list[tuple[Passage, RerankFeatures]]:
        """The fused candidates worth reranking, each with its rerank features."""
        s = self.settings
        vector = self.encoder.query_vector(question)
        dense = self.store.dense_search(vector, s.candidates)
        lexical = self.lexical.search(question, s.candidates)

        chunks: dict[str, Chunk] = {}
        fused: dict[str, float] = {}
        dense_sim = {chunk.id: score for chunk, score in dense}
        for weight, ranking in ((s.dense_weight, dense), (s.lexical_weight, lexical)):
            for rank, (chunk, _) in enumerate(ranking):
                chunks.setdefault(chunk.id, chunk)
                fused[chunk.id] = fused.get(chunk.id, 0.0) + weight / (s.rrf_k + rank + 1)
        pool = sorted(fused, key=fused.__getitem__, reverse=True)[: max(k, s.rerank_depth)]
        # A chunk the dense search did not return is at most as similar as the last one it did.
        floor = min(dense_sim.values(), default=0.0)
        weights = self.lexical.term_weights(question)
        out = []
        for i in pool:
            chunk = chunks[i]
            units = [(u.start, u.end) for u in chunk.units] or None  # answer units where the index has them
            best = max((ev.strength for ev in sentence_evidence(chunk.text, weights, units)), default=0.0)
            sim = dense_sim.get(i, floor)
            features = RerankFeatures(fused_rank=fused[i] * s.rrf_k, best_sentence=best,
                                      passage_coverage=coverage(weights, set(terms(chunk.indexed_text))), dense=sim)
            out.append((Passage(chunks[i], fused[i], dense=sim), features))
        return out
