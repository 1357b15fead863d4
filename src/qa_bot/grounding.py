"""Grounding: whether an LLM's draft may be shown, checked in code against the passages it was given.

A `[n]` marker is valid only if it names a passage the model was given that backs the sentence,
i.e. holds at least `SUPPORT` of its content words; other markers are dropped. A sentence left
without a valid marker is removed (it asserts nothing the user can verify). Every name, number
and link in a kept sentence must occur in its cited passages, else GroundingError. Each citation
quotes, verbatim, the sentence of the cited passage that shares the most words with the answer
sentence. Plain strings in, `Checked` out: tested without any model (tests/llm/test_grounding.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answer import REFUSAL_TEXT
from .question_kind import REQUIRED, expected_type, type_match
from .sanitize import links, without_links
from .schema import Citation, Passage
from .text import STOPWORDS, sentence_spans, terms

_MARKERS = re.compile(r"\s*\[\s*(?:passages?\s*)?(\d+(?:\s*[,;]\s*(?:passages?\s*)?\d+)*)\s*\]", re.IGNORECASE)
_LEADING_MARKERS = re.compile(rf"^(?:{_MARKERS.pattern})+", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"\b[A-Z][^\W_]*(?:['’][^\W_]+)*")
_WORD = re.compile(r"[^\W_]+")
THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)  # a reasoning model's thoughts are not the answer


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
class _Sentence:
    text: str  # without markers
    cited: list[int]  # passage numbers as the model wrote them, in order, deduplicated


SUPPORT = 0.6  # share of a sentence's content words that a cited passage must hold


def check(draft: str, passages: list[Passage]) -> Checked:
    """Grounding checks on the model's draft; raises GroundingError when it must not be shown."""
    draft = THINK.sub("", draft).strip()
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
                citations.append(Citation.from_span(keys[key], passages[p - 1], *key[1:], score=passages[p - 1].score))
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


def check_kind(question: str, text: str) -> None:
    """A "how many" answer must hold a number, a "when" answer a time, a "who" answer a name: a
    grounded answer to some other question is still a wrong answer."""
    kind = expected_type(question)
    if kind in REQUIRED and type_match(kind, _MARKERS.sub("", text), question) == 0.0:
        raise GroundingError(f"it states no {kind}, which the question asks for")


def _plain_number(n: str) -> str:
    return n.replace(",", "").rstrip(".")


def _common(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 5.0
