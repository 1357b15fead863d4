"""Generative answers: an LLM writes from the retrieved passages, then code checks every claim.

Order of events for one question:
1. The extractive answerer runs first; if it refuses, its refusal is the answer and the LLM is
   never asked (the calibrated gate decides answerability, not the model).
2. The LLM answers from numbered passages (prompts/), streaming tokens to `on_token`, within
   `timeout` seconds in all. Down, slow, or failing -> the extractive answer plus a notice.
3. Grounding (`check`): a marker is valid only if it names a passage the model was given that
   backs the sentence, i.e. holds at least `SUPPORT` of its content words; other markers are
   dropped. A sentence left without a valid marker is removed (it asserts nothing the user can
   verify). qa-bot does not guess a passage for it: a model that cannot cite is not trusted to
   answer (measured: its unmarked sentences were often true but beside the question). Every
   name, number and link in a kept sentence must occur in its cited passages, else the whole
   answer falls back to the extractive one. Nothing cited left -> fallback too. So does an
   answer that lacks the kind of thing the question asks for (a number for "how many", a time
   for "when", a name for "who"): grounded, but an answer to another question.
   If the model answers with the refusal sentence, qa-bot refuses.
4. Each citation quotes, verbatim, the sentence of the cited passage that shares the most
   words with the answer sentence, with the line numbers of that sentence.
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

from .answer import REFUSAL_TEXT, Candidate, ExtractiveAnswerer, _cite, expected_type, type_match
from .llm import Backend
from .sanitize import links, without_links
from .schema import Answer, Citation, Passage
from .text import STOPWORDS, sentence_spans, terms

log = logging.getLogger(__name__)

HISTORY_TURNS = 3  # earlier turns shown to the model when condensing a follow-up
HISTORY_CHARS = 300  # of each earlier answer

OnToken = Callable[[str], None]

_MARKERS = re.compile(r"\s*\[\s*(?:passages?\s*)?(\d+(?:\s*[,;]\s*(?:passages?\s*)?\d+)*)\s*\]", re.IGNORECASE)
_LEADING_MARKERS = re.compile(rf"^(?:{_MARKERS.pattern})+", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"\b[A-Z][^\W_]*(?:['’][^\W_]+)*")
_WORD = re.compile(r"[^\W_]+")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)


class GroundingError(ValueError):
    """The draft cannot be shown as written; the message says why, in a few words."""


@dataclass(frozen=True, slots=True)
class Checked:
    """A draft that passed grounding, in the shape of an extractive answer."""

    text: str
    citations: list[Citation]
    refused: bool = False
    removed: int = 0  # sentences without a valid citation, dropped


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
    if c.page is not None:
        return f"page {c.page}"
    if c.start_line is None:
        return "unknown"
    return f"line {c.start_line}" if c.start_line == c.end_line else f"lines {c.start_line}-{c.end_line}"


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
                _check_kind(question, checked.text)
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
        lines = [line for line in _THINK.sub("", text).splitlines() if line.strip()]
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


# -- grounding ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # without markers
    cited: list[int]  # passage numbers as the model wrote them, in order, deduplicated


SUPPORT = 0.6  # share of a sentence's content words that a cited passage must hold


def check(draft: str, passages: list[Passage]) -> Checked:
    """Grounding checks on the model's draft; raises GroundingError when it must not be shown."""
    draft = _THINK.sub("", draft).strip()
    if not draft:
        raise GroundingError("empty answer")
    if _is_refusal(draft):
        return Checked("", [], refused=True)
    passage_terms = [set(terms(p.chunk.text)) for p in passages]
    keys: dict[tuple[int, int, int], int] = {}  # (passage, quote start, quote end) -> citation n
    citations: list[Citation] = []
    out: list[str] = []
    removed = 0
    for sentence in _sentences(draft):
        want = set(terms(without_links(sentence.text)))  # a link is judged whole, by _check_facts
        cited = [p for p in sentence.cited
                 if 1 <= p <= len(passages) and want and len(want & passage_terms[p - 1]) >= SUPPORT * len(want)]
        if not cited:
            removed += 1
            continue
        _check_facts(sentence.text, [passages[p - 1].chunk.text for p in cited])
        numbers: list[int] = []
        for p in cited:
            key = (p, *_best_quote(want, passages[p - 1]))
            if key not in keys:
                keys[key] = len(citations) + 1
                citations.append(_cite(keys[key], Candidate(p - 1, passages[p - 1], *key[1:], (), passages[p - 1].score)))
            if keys[key] not in numbers:
                numbers.append(keys[key])
        out.append(sentence.text + " " + "".join(f"[{n}]" for n in numbers))
    if not out:
        raise GroundingError("no sentence cites a given passage that holds it")
    return Checked(" ".join(out), citations, removed=removed)


def _is_refusal(draft: str) -> bool:
    flat = " ".join(_WORD.findall(draft.lower()))
    return flat.startswith(" ".join(_WORD.findall(REFUSAL_TEXT.lower()))[:40]) and not _MARKERS.search(draft)


def _sentences(draft: str) -> list[_Sentence]:
    """Sentences with their markers; a marker after the full stop belongs to the sentence before."""
    out: list[_Sentence] = []
    for s, e in sentence_spans(draft):
        text = draft[s:e]
        lead = _LEADING_MARKERS.match(text)
        if lead and out:
            prev = out[-1]
            out[-1] = _Sentence(prev.text, _dedupe(prev.cited + _numbers(lead.group())))
            text = text[lead.end():]
        cited = _numbers(text)
        body = " ".join(_MARKERS.sub("", text).split())
        body = re.sub(r"\s+([.,;:!?])", r"\1", body)  # "claim [1]." leaves "claim ."
        if _WORD.search(body):
            out.append(_Sentence(body, _dedupe(cited)))
    return out


def _numbers(text: str) -> list[int]:
    return [int(n) for m in _MARKERS.finditer(text) for n in re.findall(r"\d+", m.group(1))]


def _dedupe(items: list[int]) -> list[int]:
    return list(dict.fromkeys(items))


def _best_quote(want: set[str], passage: Passage) -> tuple[int, int]:
    """The passage sentence sharing most content words with the answer sentence (chunk offsets)."""
    text = passage.chunk.text
    return max(sentence_spans(text), key=lambda span: len(want & set(terms(text[span[0] : span[1]]))))


def _check_facts(sentence: str, cited_texts: list[str]) -> None:
    """Every number, link and name in `sentence` must occur in the passages it cites."""
    source = "\n".join(cited_texts)
    source_numbers = {_plain_number(n) for n in _NUMBER.findall(source)}
    for n in _NUMBER.findall(sentence):
        if _plain_number(n) not in source_numbers:
            raise GroundingError(f"the number {n} is not in the cited passages")
    for link in links(sentence):
        if link not in source:
            raise GroundingError(f"the link {link} is not in the cited passages")
    source_words = {w.lower() for w in _WORD.findall(source)}
    for m in _CAPITALISED.finditer(sentence):
        for part in _WORD.findall(re.sub(r"['’]s$", "", m.group())):
            low = part.lower()
            if low in source_words or low in STOPWORDS:
                continue
            if m.start() == 0 and _common(low):
                continue  # "Since", "Both": capitalised only because the sentence starts there
            raise GroundingError(f"the name {m.group()} is not in the cited passages")


def _check_kind(question: str, text: str) -> None:
    """A "how many" answer must hold a number, a "when" answer a time, a "who" answer a name: a
    grounded answer to some other question is still a wrong answer."""
    kind = expected_type(question)
    if type_match(kind, _MARKERS.sub("", text), question) == 0.0:
        raise GroundingError(f"it states no {kind}, which the question asks for")


def _plain_number(n: str) -> str:
    return n.replace(",", "").rstrip(".")


def _common(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 5.0
