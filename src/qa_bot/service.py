"""The one answer service every transport (CLI, REPL, Discord, eval) calls."""

from __future__ import annotations

from pathlib import Path

from .answer import Calibration, ExtractiveAnswerer
from .embeddings import Encoder
from .retrieve import Retriever
from .schema import Answer
from .settings import Settings
from .store import Store, StoreError


def make_encoder(settings: Settings) -> Encoder:
    return Encoder(settings.embed_backend, settings.model_cache_dir, settings.embed_batch_size)


class QAService:
    """Answers questions from one index folder. Loads once, then answers many times."""

    def __init__(self, settings: Settings, index_dir: Path | None = None, encoder: Encoder | None = None):
        self.settings = settings
        self.store = Store(index_dir or settings.index_dir)
        if not self.store.exists():
            raise StoreError(f"no index at {self.store.dir} (run `qa-bot index` first)")
        self.encoder = encoder or make_encoder(settings)
        self.reload()

    def reload(self) -> None:
        """Pick up the latest committed sync (the BM25 side is a snapshot)."""
        state = self.store.load_state()
        if state.fingerprint.get("model") != self.encoder.name:
            raise StoreError(
                f"index at {self.store.dir} was built with {state.fingerprint.get('model')}, "
                f"not {self.encoder.name}: re-run `qa-bot index`"
            )
        self.lexical = self.store.load_lexical(state)
        self.retriever = Retriever(self.settings, self.encoder, self.store, self.lexical)
        self.answerer = ExtractiveAnswerer(
            self.lexical, self.encoder, Calibration.load(), self.settings.max_answer_sentences, self.settings.refusal_threshold
        )

    def answer(self, question: str) -> Answer:
        question = " ".join(question.split())
        if not question:
            raise ValueError("the question is empty")
        passages = self.retriever.retrieve(question)
        return self.answerer.answer(question, passages)
