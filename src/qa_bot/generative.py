"""Generative answers: an LLM writes from the retrieved passages, then code checks every claim.

Order of events for one question:
1. The extractive answerer runs first; if it refuses, its refusal is the answer and the LLM is
   never asked (the calibrated gate decides answerability, not the model).
2. The LLM answers from numbered passages (prompts/), streaming tokens to `on_token`, within
   `timeout` seconds in all. Down, slow, or failing -> the extractive answer plus a notice.
3. Grounding (grounding.py): markers that name no backing passage are dropped, sentences left
   without one are removed; qa-bot does not guess a passage for them (measured: a model that
   cannot cite wrote sentences that were often true but beside the question). A name, number or
   link that the cited passages lack, nothing cited left, or an answer that lacks the kind of
   thing the question asks for (a number for "how many", a time for "when", a name for "who")
   -> the extractive answer. If the model answers with the refusal sentence, qa-bot refuses.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import yaml
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import PromptTemplate

from .answer import REFUSAL_TEXT, ExtractiveAnswerer
from .grounding import THINK, GroundingError, check, check_kind
from .llm import Backend
from .schema import Answer, Passage, location

log = logging.getLogger(__name__)

HISTORY_TURNS = 3  # earlier turns shown to the model when condensing a follow-up
HISTORY_CHARS = 300  # of each earlier answer

OnToken = Callable[[str], None]



@dataclass(frozen=True, slots=True)
class Prompts:
    """The prompt templates, loaded once: those packaged in qa_bot/prompts/, each replaced by a
    file of the same name in `override` (QA_BOT_PROMPTS_DIR) when there is one."""

    system: str
    answer: PromptTemplate
    passage: PromptTemplate
    condense: PromptTemplate
    examples: list[BaseMessage]

    @classmethod
    def load(cls, override: Path | None = None) -> Prompts:
        def read(name: str) -> str:
            custom = override / name if override else None
            if custom is not None and custom.is_file():
                return custom.read_text(encoding="utf-8")
            return resources.files("qa_bot").joinpath("prompts", name).read_text(encoding="utf-8")

        answer = PromptTemplate.from_template(read("answer.txt"))
        passage = PromptTemplate.from_template(read("passage.txt"))
        system = PromptTemplate.from_template(read("system.txt")).format(refusal=REFUSAL_TEXT)
        examples: list[BaseMessage] = []
        for ex in yaml.safe_load(read("examples.yaml")):
            shown = [passage.format(n=n, source=p["source"], location=p["location"], text=p["text"]).strip()
                     for n, p in enumerate(ex["passages"], 1)]
            examples += [HumanMessage(answer.format(passages="\n\n".join(shown), question=ex["question"])),
                         AIMessage(ex["answer"] or REFUSAL_TEXT)]
        return cls(system, answer, passage, PromptTemplate.from_template(read("condense.txt")), examples)

    def answer_messages(self, question: str, passages: list[Passage]) -> list[BaseMessage]:
        shown = [self.passage.format(n=n, source=p.source, location=_location(p), text=_inert(p.chunk.text)).strip()
                 for n, p in enumerate(passages, 1)]
        ask = self.answer.format(passages="\n\n".join(shown), question=question).strip()
        return [SystemMessage(self.system), *self.examples, HumanMessage(ask)]

    def condense_messages(self, question: str, history: list[tuple[str, str]]) -> list[BaseMessage]:
        turns = "\n".join(f"Q: {q}\nA: {a[:HISTORY_CHARS]}" for q, a in history[-HISTORY_TURNS:])
        return [HumanMessage(self.condense.format(history=turns, question=question))]


def _location(p: Passage) -> str:
    c = p.chunk
    return location(c.start_line, c.end_line, c.page) or "unknown"


def _inert(text: str) -> str:
    """A document cannot close its <passage> frame (or open another) to pose as the user."""
    return re.sub(r"<(/?\s*passage)", r"‹\1", text, flags=re.IGNORECASE)


class GenerativeAnswerer:
    """Answers with the LLM when the extractive gate allows, and checks what it wrote."""

    def __init__(self, backend: Backend, extractive: ExtractiveAnswerer, timeout: float,
                 prompts: Prompts | None = None):
        self.backend = backend
        self.extractive = extractive
        self.timeout = timeout
        self.prompts = prompts or Prompts.load()

    def answer(self, question: str, passages: list[Passage], on_token: OnToken | None = None) -> Answer:
        base = self.extractive.answer(question, passages)
        if base.refused:
            return base
        try:
            draft = self._generate(self.prompts.answer_messages(question, passages), on_token)
            checked = check(draft, passages)
            if not checked.refused:
                check_kind(question, checked.text)
        except GroundingError as exc:
            log.info("LLM answer rejected (%s); falling back to the extractive answer", exc)
            return replace(base, notice=f"The {self.backend.spec} answer failed the citation check ({exc}); "
                                        "showing the extractive answer.")
        except Exception as exc:  # any backend failure must end in an answer, not a crash
            log.warning("LLM %s: %s", self.backend.spec, _describe(exc))
            return replace(base, notice=f"The language model ({self.backend.spec}) {_describe(exc)}; "
                                        "showing the extractive answer.")
        if checked.refused:
            return Answer(question, REFUSAL_TEXT, [], True, passages, base.confidence)
        if checked.removed:
            log.info("removed %d sentence(s) without a valid citation from the LLM answer", checked.removed)
        return Answer(question, checked.text, checked.citations, False, passages, base.confidence)

    def condense(self, question: str, history: list[tuple[str, str]]) -> str | None:
        """A standalone question, or None when the model gives nothing usable."""
        try:
            text = self._generate(self.prompts.condense_messages(question, history), None)
        except Exception as exc:
            log.warning("LLM %s could not condense the follow-up: %s", self.backend.spec, _describe(exc))
            return None
        lines = [line for line in THINK.sub("", text).splitlines() if line.strip()]
        if not lines:
            return None
        standalone = re.sub(r"^(rewritten|standalone) question:", "", lines[0].strip(), flags=re.IGNORECASE)
        standalone = standalone.strip().strip('"“”').strip()
        return standalone if 0 < len(standalone) <= 4 * len(question) + 200 else None

    def _generate(self, messages: list[BaseMessage], on_token: OnToken | None) -> str:
        def chunks() -> Iterator[str]:
            with self.backend.lock:
                for chunk in self.backend.model.stream(messages):
                    if isinstance(chunk.content, str):
                        yield chunk.content

        return stream_with_deadline(chunks(), self.timeout, on_token)


def stream_with_deadline(chunks: Iterator[str], timeout: float, on_token: OnToken | None) -> str:
    """The concatenated chunks; TimeoutError once `timeout` seconds have passed in all.

    The stream is read on its own thread so that a peer that stops mid-stream, or trickles
    bytes forever, cannot hold the caller past the deadline; that thread stops at its next
    chunk. `on_token` runs on the caller's thread.
    """
    inbox: queue.Queue[tuple[str, object]] = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for text in chunks:
                if stop.is_set():
                    break
                inbox.put(("token", text))
            inbox.put(("done", None))
        except BaseException as exc:  # handed to the caller
            inbox.put(("error", exc))
        finally:
            chunks.close()  # type: ignore[attr-defined]  (a generator: releases the lock, closes the stream)

    threading.Thread(target=pump, name="qa-llm-stream", daemon=True).start()
    deadline = time.monotonic() + timeout
    parts: list[str] = []
    try:
        while True:
            try:
                kind, value = inbox.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise TimeoutError(f"no complete answer within {timeout:g} s") from None
            if kind == "done":
                return "".join(parts)
            if kind == "error":
                raise value  # type: ignore[misc]
            parts.append(value)  # type: ignore[arg-type]
            if on_token is not None and value:
                on_token(value)  # type: ignore[arg-type]
    finally:
        stop.set()


def _describe(exc: BaseException) -> str:
    """What went wrong, in a few words (client errors never include the API key)."""
    if isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower():
        return "did not answer in time"
    message = " ".join(str(exc).split())[:120]
    return f"failed ({type(exc).__name__}{': ' + message if message else ''})"
