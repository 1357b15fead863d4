"""The one answer service every transport (CLI, REPL, Discord, eval) calls."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

from .answer import ExtractiveAnswerer
from .calibration import Calibration
from .embeddings import Encoder
from .followup import condense as condense_by_rule
from .llm import make_backend
from .reader import shared_reader
from .retrieve import Retriever
from .sanitize import GuardedStream, drop_foreign_links, strip_hidden
from .schema import Answer
from .settings import Settings
from .store import CommittedView, Store, StoreError


def make_encoder(settings: Settings) -> Encoder:
    return Encoder(settings.embed_backend, settings.model_cache_dir, settings.embed_batch_size)


class QAService:
    """Answers questions from one index folder. Loads once, then answers many times."""

    def __init__(self, settings: Settings, index_dir: Path | None = None, encoder: Encoder | None = None):
        self.settings = settings
        self.store = Store.open(settings, index_dir)
        if not self.store.exists():
            raise StoreError(f"no index at {self.store.location} (run `qa-bot index` first)")
        self.encoder = encoder or make_encoder(settings)
        self.backend = make_backend(settings)  # None: extractive answers only
        self.reader = shared_reader() if settings.answerer == "reader" else None
        self.generative = None  # GenerativeAnswerer when a backend is configured
        # Guards the swap of lexical/retriever/answerer, so a question never mixes two snapshots.
        self._lock = threading.Lock()
        self._seen = None  # store.version() when last checked
        self.generation: int | None = None  # lexical generation of the loaded snapshot
        self.reload()

    def reload(self) -> None:
        """Pick up the latest committed sync (the BM25 side is a snapshot); cheap if none is new."""
        with self._lock:
            for attempt in range(3):
                seen = self.store.version()
                state = self.store.load_state()
                if state.fingerprint.get("model") != self.encoder.name:
                    raise StoreError(
                        f"index at {self.store.location} was built with {state.fingerprint.get('model')}, "
                        f"not {self.encoder.name}: re-run `qa-bot index`"
                    )
                if state.lexical_generation == self.generation:
                    break
                try:
                    lexical = self.store.load_lexical(state)
                except FileNotFoundError:  # a newer sync pruned this snapshot while we read it
                    if attempt == 2:
                        raise
                    continue
                self.lexical = lexical
                calibration = Calibration.load()
                self.retriever = Retriever(
                    self.settings, self.encoder, CommittedView(self.store, lexical), lexical, calibration
                )
                self.answerer = ExtractiveAnswerer(
                    lexical, self.encoder, calibration, self.settings.max_answer_sentences,
                    self.settings.refusal_threshold, reader=self.reader,
                    reader_candidates=self.settings.reader_candidates,
                )
                if self.backend is not None:
                    from .generative import GenerativeAnswerer  # LangChain prompts load only when used

                    self.generative = GenerativeAnswerer(self.backend, self.answerer, self.settings.llm_timeout)
                self.generation = state.lexical_generation
                break
            self._seen = seen

    def condense(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up made standalone: by the LLM when one is configured, else by rule."""
        standalone = self.generative.condense(question, history) if self.generative and history else None
        return standalone or condense_by_rule(question, history)

    def answer(self, question: str, *, history: list[tuple[str, str]] | None = None,
               on_token: Callable[[str], None] | None = None) -> Answer:
        """`history`: earlier (question, answer) turns, to resolve a follow-up before retrieval.
        `on_token`: called with the draft of a generative answer as the LLM writes it, a few
        whole words at a time, already through the output guard."""
        question = " ".join(strip_hidden(question).split())
        if not question:
            raise ValueError("the question is empty")
        if history:
            question = self.condense(question, history)
        if self.store.version() != self._seen:  # a sync committed since: answer from it
            self.reload()
        with self._lock:
            retriever, answerer, generative = self.retriever, self.answerer, self.generative
        passages = retriever.retrieve(question)
        if generative is not None:
            stream = GuardedStream(on_token, [p.chunk.text for p in passages]) if on_token else None
            answer = generative.answer(question, passages, stream)
            if stream is not None:
                stream.flush()
        else:
            answer = answerer.answer(question, passages)
        # Output guard for every answerer (and, above, for streamed drafts): no hidden characters,
        # no link the passages lack.
        text = drop_foreign_links(strip_hidden(answer.text), [p.chunk.text for p in answer.passages])
        return answer if text == answer.text else dataclasses.replace(answer, text=text)
