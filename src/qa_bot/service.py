"""The one answer service every transport (CLI, REPL, Discord, eval) calls."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path

from .answer import ExtractiveAnswerer
from .calibration import Calibration
from .embeddings import Encoder, make_encoder
from .errors import InputError, StoreError
from .explain import unmatched
from .followup import condense as condense_by_rule
from .interaction import shared_head
from .llm import BackendUnavailable, make_backend
from .manifest import INCOMPLETE
from .reader import shared_reader
from .retrieve import Retriever
from .sanitize import GuardedStream, drop_foreign_links, strip_hidden
from .schema import Answer, Passage
from .settings import Settings
from .storage import Storage

log = logging.getLogger(__name__)


def _one_blas_thread():
    """numpy's BLAS on one thread while answering. onnxruntime already runs the encoder on every
    core, and BLAS threads left spinning after each small product beside it made answers 2.0-2.4x
    slower (bench/answer_latency.py). Overlapping questions (the Discord bot's workers) may briefly
    restore the default; that costs speed, never correctness."""
    return _blas_controller().limit(limits=1, user_api="blas")


@cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class QAService:
    """Answers questions from one index folder. Loads everything once, in the constructor, so
    threads answering at once (the Discord bot's) never race to open a store or a model."""

    def __init__(self, settings: Settings, index_dir: Path | None = None, encoder: Encoder | None = None,
                 calibration: Calibration | None = None, interaction: bool = True):
        """`calibration`: the weights to answer with instead of the shipped calibration.json
        (bench/calibrate.py fits new ones starting from the defaults, so it must not need the old).
        `interaction=False` leaves the interaction head out (train/train_interaction.py trains a new one)."""
        self.settings = settings
        self._calibration = calibration
        self.storage = Storage.open(settings, index_dir)
        if not self.storage.manifest.exists():
            raise StoreError(f"no index at {self.storage.location} (run `qa-bot index` first)")
        self.encoder = encoder or make_encoder(settings)
        self.backend_notice: str | None = None  # why the configured LLM is not answering
        try:
            self.backend = make_backend(settings)  # None: extractive answers only
        except BackendUnavailable as exc:
            self.backend = None
            self.backend_notice = f"The language model is unavailable: {exc}; showing the extractive answer."
            log.warning("%s", self.backend_notice)
        self.reader = shared_reader() if settings.answerer in ("reader", "gated") else None
        self.head = shared_head() if interaction else None
        self.generative = None  # GenerativeAnswerer when a backend is configured
        # Guards the swap of lexical/retriever/answerer, so a question never mixes two snapshots.
        self._lock = threading.Lock()
        self._seen = None  # manifest.version() when last checked
        self.generation: int | None = None  # lexical generation of the loaded snapshot
        self.unsearchable: list[str] = []  # committed files the snapshot lacks (a stopped sync)
        self.reload()
        self.encoder.load()

    def reload(self) -> None:
        """Pick up the latest committed sync (the BM25 side is a snapshot); cheap if none is new."""
        with self._lock:
            for attempt in range(3):
                seen = self.storage.manifest.version()
                state = self.storage.manifest.load()
                if state.fingerprint.get("model") != self.encoder.name:
                    raise StoreError(
                        f"index at {self.storage.location} was built with {state.fingerprint.get('model')}, "
                        f"not {self.encoder.name}: re-run `qa-bot index`"
                    )
                if state.lexical_generation == self.generation:
                    break
                try:
                    lexical = self.storage.snapshots.load(state)
                except FileNotFoundError:  # a newer sync pruned this snapshot while we read it
                    if attempt == 2:
                        raise
                    continue
                self.lexical = lexical
                calibration = self._calibration or Calibration.load()
                self.retriever = Retriever(
                    self.settings, self.encoder, self.storage.snapshots.dense_view(state, lexical), lexical, calibration
                )
                self.answerer = ExtractiveAnswerer(
                    lexical, self.encoder, calibration, self.settings.max_answer_sentences,
                    self.settings.refusal_threshold, reader=self.reader,
                    reader_candidates=self.settings.reader_candidates, head=self.head,
                    reader_orders=self.settings.answerer == "reader",
                )
                if self.backend is not None:
                    from .generative import GenerativeAnswerer, Prompts  # LangChain prompts load only when used

                    self.generative = GenerativeAnswerer(self.backend, self.answerer, self.settings.llm_timeout,
                                                         Prompts.load(self.settings.prompts_dir))
                self.generation = state.lexical_generation
                log.debug("answering from %s, snapshot generation %s", self.storage.location, self.generation)
                break
            self.roots = state.roots  # the indexed folders, which sources are shown relative to
            self.unsearchable = state.unsearchable(self.lexical)
            self._seen = seen

    def condense(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up made standalone: by the LLM when one is configured, else by rule."""
        standalone = self.generative.condense(question, history) if self.generative and history else None
        return standalone or condense_by_rule(question, history)

    def _current(self) -> tuple[Retriever, ExtractiveAnswerer, object]:
        """Retriever and answerers of the latest committed sync, all from one snapshot."""
        if self.storage.manifest.version() != self._seen:  # a sync committed since: answer from it
            self.reload()
        with self._lock:
            return self.retriever, self.answerer, self.generative

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The `k` best passages (default `top_k`) of the latest committed sync, best first."""
        with _one_blas_thread():
            return self._current()[0].retrieve(question, k)

    def answer(self, question: str, *, history: list[tuple[str, str]] | None = None,
               on_token: Callable[[str], None] | None = None) -> Answer:
        """`history`: earlier (question, answer) turns, to resolve a follow-up before retrieval.
        `on_token`: called with the draft of a generative answer as the LLM writes it, a few
        whole words at a time, already through the output guard."""
        with _one_blas_thread():
            return self._answer(question, history, on_token)

    def _answer(self, question: str, history: list[tuple[str, str]] | None,
                on_token: Callable[[str], None] | None) -> Answer:
        question = " ".join(strip_hidden(question).split())
        if not question:
            raise InputError("the question is empty")
        if history:
            question = self.condense(question, history)
        retriever, answerer, generative = self._current()
        passages = retriever.retrieve(question)
        log.debug("retrieved %d passages for %r (best: %s)", len(passages), question,
                  passages[0].source if passages else None)
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
        notice = answer.notice or self._incomplete_notice() or (None if answer.refused else self.backend_notice)
        missing = unmatched(question, answer.passages, answerer.lexical) if answer.refused else ()
        if (text, notice, missing) == (answer.text, answer.notice, answer.unmatched):
            return answer
        return dataclasses.replace(answer, text=text, notice=notice, unmatched=missing)

    def _incomplete_notice(self) -> str | None:
        if not self.unsearchable:
            return None
        return f"the index is incomplete: {len(self.unsearchable)} documents are not searchable yet: {INCOMPLETE}"
