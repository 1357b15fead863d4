"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from .embeddings import Encoder
from .lexical import LexicalIndex
from .schema import Chunk, Passage
from .settings import Settings
from .store import Store


class Retriever:
    def __init__(self, settings: Settings, encoder: Encoder, store: Store, lexical: LexicalIndex):
        self.settings = settings
        self.encoder = encoder
        self.store = store
        self.lexical = lexical

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The top-k passages for `question`, best first."""
        s = self.settings
        k = k or s.top_k
        vector = self.encoder.encode([question])[0]
        dense = self.store.dense_search(vector, s.candidates)
        lexical = self.lexical.search(question, s.candidates)

        chunks: dict[str, Chunk] = {}
        fused: dict[str, float] = {}
        dense_sim: dict[str, float] = {}
        bm25: dict[str, float] = {}
        for weight, ranking, into in ((s.dense_weight, dense, dense_sim), (s.lexical_weight, lexical, bm25)):
            for rank, (chunk, score) in enumerate(ranking):
                chunks.setdefault(chunk.id, chunk)
                into[chunk.id] = score
                fused[chunk.id] = fused.get(chunk.id, 0.0) + weight / (s.rrf_k + rank + 1)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [
            Passage(chunks[i], fused[i], dense=dense_sim.get(i, 0.0), lexical=bm25.get(i, 0.0)) for i in best
        ]
