"""The small typed records that travel through qa-bot: files -> chunks -> passages -> answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    heading: str | None  # nearest heading above the chunk (Markdown, HTML)
    file_hash: str

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (which rejects None values)."""
        meta = {k: v for k, v in asdict(self).items() if k not in ("id", "text") and v is not None}
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
            file_hash=meta.get("file_hash", ""),
        )


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with the evidence of why it was retrieved."""

    chunk: Chunk
    score: float  # fused rank score, higher is better
    dense: float = 0.0  # cosine similarity to the question
    lexical: float = 0.0  # BM25 score

    @property
    def source(self) -> str:
        return display_path(self.chunk.path)

    def to_dict(self) -> dict[str, Any]:
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

    def location(self) -> str:
        if self.page is not None:
            return f"p. {self.page}"
        if self.start_line is None:
            return ""
        if self.start_line == self.end_line:
            return f"line {self.start_line}"
        return f"lines {self.start_line}-{self.end_line}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("heading")
        d["score"] = round(self.score, 6)
        if self.reader_score is None:
            d.pop("reader_score")
        else:
            d["reader_score"] = round(self.reader_score, 4)
        return d


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "refused": self.refused,
            "confidence": round(self.confidence, 4),
            "notice": self.notice,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
        }


def display_path(path: str) -> str:
    """A path relative to the working directory when the file lies under it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return path
    return path if rel.startswith("..") else rel
