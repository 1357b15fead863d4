"""The small typed records that travel through qa-bot: files -> chunks -> passages -> answer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import ConfigDict
from typing_extensions import NotRequired, TypedDict

# -- The `ask --json` output, declared once: to_dict() returns these, `qa-bot schema` publishes them.
_JSON = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class PassageJSON(TypedDict):
    """A retrieved passage, in rank order."""

    __pydantic_config__ = _JSON  # type: ignore[misc]
    source: str
    """The file, relative to the working folder when it lies under it."""
    start_line: int | None
    """First line of the passage (1-based; text formats)."""
    end_line: int | None
    """Last line of the passage."""
    page: int | None
    """PDF page (1-based)."""
    text: str
    """The passage, verbatim from the document."""
    chunk_id: str
    """Stable id of the indexed chunk."""
    score: float
    """Fused retrieval rank score; higher is better, comparable only within one question."""


class CitationJSON(TypedDict):
    """Where one claim of the answer comes from: the answer's [n] marker points here."""

    __pydantic_config__ = _JSON  # type: ignore[misc]
    n: int
    """The marker number in the answer text."""
    source: str
    """The cited file, relative to the working folder when it lies under it."""
    start_line: int | None
    """First line of the quote (1-based; text formats)."""
    end_line: int | None
    """Last line of the quote."""
    page: int | None
    """PDF page (1-based)."""
    quote: str
    """Verbatim from the document."""
    chunk_id: str
    """The chunk the quote is from."""
    score: float
    """How strongly this sentence answers the question (the answerer's evidence score)."""
    heading: str | None
    """The heading path above the quote ("Configuration > Caching"), or null."""
    reader_score: NotRequired[float]
    """With QA_BOT_ANSWERER=reader: the reader model's probability that this unit answers the question."""


class AnswerJSON(TypedDict):
    """One answer of `qa-bot ask --json` (one such object a line with --questions)."""

    __pydantic_config__ = _JSON  # type: ignore[misc]
    question: str
    """The question as answered (hidden characters removed)."""
    text: str
    """The answer with [n] citation markers, or the refusal sentence."""
    refused: bool
    """True when the documents do not answer the question."""
    confidence: float
    """Calibrated probability (0..1) that the documents answer the question."""
    notice: str | None
    """One line for the user when something changed the answer, e.g. why an LLM's answer was
    replaced by the extractive one; null otherwise."""
    unmatched: list[str]
    """For a refusal: the question's key words that none of the retrieved passages contains
    (what the documents seem not to cover); empty otherwise."""
    citations: list[CitationJSON]
    """The sources of the answer's claims, by marker number."""
    passages: list[PassageJSON]
    """The retrieved passages the answer was chosen from, best first."""


def answer_json_schema() -> dict[str, Any]:
    """JSON Schema of the `ask --json` output, generated from the declarations above."""
    from pydantic import TypeAdapter

    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            **TypeAdapter(AnswerJSON).json_schema(mode="serialization")}


@dataclass(frozen=True, slots=True)
class Unit:
    """What may be quoted as one answer: a sentence, a sentence with the list or code block it
    introduces, a reference entry or a table row. Offsets are into its chunk's text."""

    start: int
    end: int
    kind: str  # "sentence", "list", "code", "entry", "row"
    start_line: int | None
    end_line: int | None
    page: int | None
    body: int = 0  # where the list or code block begins (0 if none), relative to start


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of one document, small enough for the embedding model to read whole."""

    id: str
    path: str  # absolute path of the source file
    text: str  # verbatim slice of the extracted text: text == doc_text[start:end]
    start: int  # character offsets into the extracted text
    end: int
    start_line: int | None  # 1-based, for text formats
    end_line: int | None
    page: int | None  # 1-based, for PDF
    heading: str | None  # heading path above the chunk ("Guide > Install"), Markdown and HTML
    context: str = ""  # read before the text when embedding and BM25-indexing: heading path, table header
    # The answer units it holds; () when none (a piece of a code block too long for one chunk);
    # None for a chunk not made by the document model, whose sentences are then its units.
    units: tuple[Unit, ...] | None = None

    @property
    def indexed_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (which rejects None values and lists)."""
        meta = {k: v for k, v in asdict(self).items() if k not in ("id", "text", "units") and v is not None}
        if self.units is not None:
            meta["units"] = json.dumps([[u.start, u.end, u.kind, u.start_line, u.end_line, u.page, u.body]
                                        for u in self.units], separators=(",", ":"))
        return meta

    @classmethod
    def from_metadata(cls, id: str, text: str, meta: dict[str, Any]) -> Chunk:
        return cls(
            id=id,
            text=text,
            path=meta["path"],
            start=int(meta["start"]),
            end=int(meta["end"]),
            start_line=meta.get("start_line"),
            end_line=meta.get("end_line"),
            page=meta.get("page"),
            heading=meta.get("heading"),
            context=meta.get("context", ""),
            units=None if meta.get("units") is None else tuple(Unit(*u) for u in json.loads(meta["units"])),
        )


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with the evidence of why it was retrieved."""

    chunk: Chunk
    score: float  # fused rank score, higher is better
    dense: float = 0.0  # cosine similarity to the question

    @property
    def source(self) -> str:
        return display_path(self.chunk.path)

    def to_dict(self) -> PassageJSON:
        c = self.chunk
        return {
            "source": self.source,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "page": c.page,
            "text": c.text,
            "chunk_id": c.id,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True, slots=True)
class Citation:
    """Where one claim of an answer comes from: `quote` is verbatim from `source`."""

    n: int
    source: str
    start_line: int | None
    end_line: int | None
    page: int | None
    quote: str
    chunk_id: str
    score: float
    heading: str | None = None
    reader_score: float | None = None  # the reader's P(this quote answers the question)

    @classmethod
    def from_span(cls, n: int, passage: Passage, start: int, end: int, *, score: float,
                  unit: Unit | None = None, reader: float | None = None) -> Citation:
        """Citation `n` quoting `passage.chunk.text[start:end]`; `unit` is the answer unit that
        span is, when the chunk has units (its lines and page are then the unit's)."""
        chunk = passage.chunk
        start_line = end_line = None
        page = chunk.page
        if unit is not None:
            start_line, end_line, page = unit.start_line, unit.end_line, unit.page
        elif chunk.start_line is not None:
            start_line = chunk.start_line + chunk.text.count("\n", 0, start)
            end_line = start_line + chunk.text.count("\n", start, end)
        return cls(
            n=n,
            source=passage.source,
            start_line=start_line,
            end_line=end_line,
            page=page,
            # The cited source text with runs of whitespace collapsed (so it may span wrapped lines).
            quote=" ".join(chunk.text[start:end].split()),
            chunk_id=chunk.id,
            score=score,
            heading=chunk.heading,
            reader_score=reader,
        )

    def location(self) -> str:
        return location(self.start_line, self.end_line, self.page)

    def to_dict(self) -> CitationJSON:
        d = asdict(self)
        d["score"] = round(self.score, 6)
        if self.reader_score is None:
            d.pop("reader_score")
        else:
            d["reader_score"] = round(self.reader_score, 4)
        return d  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Answer:
    """What every transport gets back from the answer service."""

    question: str
    text: str
    citations: list[Citation]
    refused: bool
    passages: list[Passage] = field(default_factory=list)
    confidence: float = 0.0  # calibrated probability that the documents answer the question
    notice: str | None = None  # one line for the user, e.g. why the LLM answer was replaced
    unmatched: tuple[str, ...] = ()  # a refusal's key question words that no passage holds

    def to_dict(self) -> AnswerJSON:
        return {
            "question": self.question,
            "text": self.text,
            "refused": self.refused,
            "confidence": round(self.confidence, 4),
            "notice": self.notice,
            "unmatched": list(self.unmatched),
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
        }


def location(start_line: int | None, end_line: int | None, page: int | None) -> str:
    """Where a span lies, as a reader looks it up: "page 3", "line 4", "lines 4-7"; "" if unknown."""
    if page is not None:
        return f"page {page}"
    if start_line is None:
        return ""
    return f"line {start_line}" if start_line == end_line else f"lines {start_line}-{end_line}"


def display_path(path: str) -> str:
    """A path relative to the working directory when the file lies under it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return path
    return path if rel.startswith("..") else rel
