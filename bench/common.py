"""Helpers shared by the benchmarks: SQuAD-style data, answer matching and metric tallies."""

from __future__ import annotations

import json
import os
import random
import re
import resource
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from rich.table import Table
from rich.text import Text

# Benchmarks run offline and quietly. Set on import, before any model or vector-store library loads:
# each benchmark imports this module before those.
os.environ.update(
    HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", ORT_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1"
)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WORK_DIR = Path(__file__).resolve().parent / "results" / "work"

Span = tuple[int, int]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Article:
    doc_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str
    spans: tuple[Span, ...]
    is_impossible: bool


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_articles(folder: Path) -> list[Article]:
    return [Article(r["doc_id"], r["text"]) for r in _jsonl(folder / "corpus.jsonl")]


def load_questions(folder: Path, sample: bool, limit: int, seed: int = 0,
                   articles: set[str] | None = None) -> list[Question]:
    """The fixed sample, or a seeded random subset of `limit` questions in file order; only
    questions about `articles` (doc ids) when given."""
    rows = _jsonl(folder / ("sample.jsonl" if sample else "questions.jsonl"))
    if articles is not None:
        rows = [r for r in rows if r["doc_id"] in articles]
    if not sample and limit < len(rows):
        keep = sorted(random.Random(seed).sample(range(len(rows)), limit))
        rows = [rows[i] for i in keep]
    return [
        Question(
            id=r["id"],
            question=r["question"],
            answers=tuple(r["answers"]),
            doc_id=r["doc_id"],
            spans=tuple((int(s), int(e)) for s, e in r["answer_char_spans"]),
            is_impossible=bool(r.get("is_impossible", False)),
        )
        for r in rows
    ]


def write_corpus(articles: Iterable[Article], folder: Path) -> None:
    """One `<doc_id>.txt` per article holding exactly its text, so offsets carry over."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.txt"):
        stale.unlink()
    for a in articles:
        with (folder / f"{a.doc_id}.txt").open("w", encoding="utf-8", newline="") as f:
            f.write(a.text)


# -- answer matching (as the official SQuAD evaluation script normalises) ----------------
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower case, punctuation and articles dropped, whitespace collapsed."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def contains_gold(text: str, answers: Sequence[str]) -> bool:
    """Whether `text` contains one of `answers` as whole words, both normalised."""
    hay = f" {normalize(text)} "
    return any(gold and f" {gold} " in hay for gold in map(normalize, answers))


def overlaps(start: int, end: int, spans: Iterable[Span]) -> bool:
    return any(start < e and s < end for s, e in spans)


# -- tallies -----------------------------------------------------------------------------
@dataclass
class RankStats:
    """hit@1, hit@k and MRR@k from the 1-based rank of the first hit (None: no hit)."""

    ranks: list[int | None] = field(default_factory=list)

    def add(self, hits: Iterable[bool]) -> None:
        self.ranks.append(next((i for i, hit in enumerate(hits, 1) if hit), None))

    def metrics(self) -> dict[str, float]:
        n = len(self.ranks) or 1
        return {
            "hit@1": sum(r == 1 for r in self.ranks) / n,
            "hit@5": sum(r is not None for r in self.ranks) / n,
            "mrr@5": sum(1 / r for r in self.ranks if r is not None) / n,
        }


@dataclass
class RefusalStats:
    """Refusal as a classifier whose positive class is 'should refuse' (is_impossible)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    answered_answerable: int = 0
    answerable: int = 0

    def add(self, should_refuse: bool, refused: bool) -> None:
        self.tp += should_refuse and refused
        self.fp += refused and not should_refuse
        self.fn += should_refuse and not refused
        if not should_refuse:
            self.answerable += 1
            self.answered_answerable += not refused

    def metrics(self) -> dict[str, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "refusal_precision": precision,
            "refusal_recall": recall,
            "refusal_f1": f1,
            "answerable_recall": self.answered_answerable / (self.answerable or 1),
        }


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Runs argv[1:] and prints its wall time and peak RSS. The extra process matters: Linux keeps
# the memory high-water mark of the process a child is forked or vforked from, so a child
# started straight from this (large) process would report at least this process's peak.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "stderr": proc.stderr[-2000:], "wall_s": wall,
                  "cpu_s": use.ru_utime + use.ru_stime, "rss_kib": use.ru_maxrss}))
"""


@dataclass(frozen=True, slots=True)
class ChildRun:
    wall_s: float
    cpu_s: float  # user + system, the child and its own children
    rss_mb: float  # peak


def measure_child(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> ChildRun:
    """Run `cmd` to completion in a fresh measuring process. Raises on failure."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    got = json.loads(out.stdout)
    if got["rc"]:
        raise RuntimeError(f"{cmd[0]} exited {got['rc']}: {got['stderr']}")
    return ChildRun(got["wall_s"], got["cpu_s"], got["rss_kib"] / 1024)


def run_child(cmd: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Run `cmd` to completion: (its wall seconds, its peak RSS in MiB). Raises on failure."""
    run = measure_child(cmd, env, cwd)
    return run.wall_s, run.rss_mb


# -- generative vs extractive (bench/squad.py --llm) ---------------------------------------
_CITE_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")


def strip_markers(text: str) -> str:
    """Answer text without its `[n]` citation markers (so "[1]" never matches a gold "1")."""
    return _CITE_MARKERS.sub(" ", text)


@dataclass
class CitationStats:
    """Citation precision, pooled (micro-averaged) over every citation of every non-refused
    answer to an answerable question. A citation is supported at the quote level when its
    verbatim `quote` contains a gold answer, and at the passage level when the full text of the
    passage it cites (matched by chunk id among the answer's passages) contains a gold answer;
    both use `contains_gold` (SQuAD normalisation, whole words)."""

    total: int = 0
    quote_ok: int = 0
    passage_ok: int = 0

    def add(self, citations: Iterable, passages: Iterable, answers: Sequence[str]) -> None:
        texts = {p.chunk.id: p.chunk.text for p in passages}
        for c in citations:
            self.total += 1
            self.quote_ok += contains_gold(c.quote, answers)
            self.passage_ok += contains_gold(texts.get(c.chunk_id, ""), answers)

    def metrics(self) -> dict[str, float | None]:
        if not self.total:
            return {"citations": 0, "cite_precision_quote": None, "cite_precision_passage": None}
        return {
            "citations": self.total,
            "cite_precision_quote": self.quote_ok / self.total,
            "cite_precision_passage": self.passage_ok / self.total,
        }


# -- result tables -------------------------------------------------------------------------
def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


@dataclass(frozen=True)
class Row:
    """One metric row of a results table, with its target where an issue sets one."""

    key: str
    label: str
    fmt: str = "{:.3f}"
    target: tuple[str, float] | None = None  # (">=" or "<=", bound), judged on qa-bot

    def met(self, value: float) -> bool | None:
        if self.target is None:
            return None
        op, bound = self.target
        return value >= bound if op == ">=" else value <= bound

    def target_text(self) -> str:
        if self.target is None:
            return ""
        op, bound = self.target
        return f"{'≥' if op == '>=' else '≤'} {self.fmt.format(bound)}"


def metrics_table(title: str, rows: Sequence[Row], columns: dict[str, dict[str, float | None]], judged: set[str],
                  target_label: str = "target") -> Table:
    """One row per metric any column has; a column in `judged` is coloured by the row's target.
    A metric a column reports as None shows "n/a"; one it does not report stays blank."""
    table = Table(title=title, title_justify="left")
    table.add_column("metric", no_wrap=True)
    for name in columns:
        table.add_column(name, justify="right")
    table.add_column(target_label, justify="right")
    for row in rows:
        if not any(row.key in m for m in columns.values()):
            continue
        cells = []
        for name, m in columns.items():
            value = m.get(row.key)
            if value is None:
                cells.append(Text("n/a" if row.key in m else "", style="dim"))
                continue
            met = row.met(value) if name in judged else None
            cells.append(Text(row.fmt.format(value), style={True: "green", False: "bold red", None: ""}[met]))
        table.add_row(row.label, *cells, row.target_text())
    return table
