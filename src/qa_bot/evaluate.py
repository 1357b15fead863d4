"""Canned Q&A regression: cases in a JSON or YAML file, checked against real answers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError
from .schema import Answer


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    expect_any: list[str] = Field(default_factory=list)
    expect_all: list[str] = Field(default_factory=list)
    refuse: bool = False
    source: str | None = None
    note: str | None = None  # free text, e.g. where a case came from


class CasesFile(BaseModel):
    cases: list[Case] = Field(min_length=1)


def load_cases(path: Path) -> list[Case]:
    """Parse a cases file (JSON/YAML) or a feedback log (.jsonl: its thumbs-down questions).

    Any problem is a ValueError naming the file and the field.
    """
    if path.suffix.lower() == ".jsonl":
        from .feedback import thumbs_down_cases

        cases = [Case(**c) for c in thumbs_down_cases(path)]
        if not cases:
            raise InputError(f"{path}: no thumbs-down votes to turn into cases")
        return cases
    return _load_cases_file(path)


def _load_cases_file(path: Path) -> list[Case]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    is_yaml = path.suffix.lower() in (".yaml", ".yml")
    try:
        data = yaml.safe_load(raw) if is_yaml else json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:  # json.JSONDecodeError is a ValueError
        kind = "YAML" if is_yaml else "JSON"
        raise InputError(f"{path}: not valid {kind} ({str(exc).splitlines()[0]})") from None
    try:
        return CasesFile.model_validate(data).cases
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(map(str, e["loc"]))
        raise InputError(f"{path}: {where}: {e['msg']}") from None


def contains_phrase(text: str, phrase: str) -> bool:
    """Case-insensitive match of `phrase` on word boundaries."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def cites(answer: Answer, source: str, base: Path) -> bool:
    wanted = {(base / source).resolve(), Path(source).resolve()}
    return any(Path(c.source).resolve() in wanted for c in answer.citations)


@dataclass
class CaseResult:
    case: Case
    answer: Answer
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class EvalResults:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results)

    @property
    def pass_rate(self) -> float:
        return 1 - self.failed / len(self.results) if self.results else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": len(self.results),
            "passed": len(self.results) - self.failed,
            "failed": self.failed,
            "pass_rate": round(self.pass_rate, 4),
            "cases": [
                {**r.case.model_dump(exclude_none=True), "passed": r.passed, "problems": r.problems, "answer": r.answer.to_dict()}
                for r in self.results
            ],
        }


def check(case: Case, answer: Answer, base: Path) -> list[str]:
    """What is wrong with `answer` for `case`; empty when it passes."""
    if case.refuse:
        return [] if answer.refused else ["answered, expected a refusal"]
    if answer.refused:
        return ["refused, expected an answer"]
    problems = []
    if case.expect_any and not any(contains_phrase(answer.text, p) for p in case.expect_any):
        problems.append(f"none of {case.expect_any} in the answer")
    missing = [p for p in case.expect_all if not contains_phrase(answer.text, p)]
    if missing:
        problems.append(f"missing {missing}")
    if case.source and not cites(answer, case.source, base):
        problems.append(f"does not cite {case.source}")
    return problems


def run_cases(service, cases: list[Case], base: Path = Path(".")) -> EvalResults:
    results = EvalResults()
    for case in cases:
        answer = service.answer(case.question)
        results.results.append(CaseResult(case, answer, check(case, answer, base)))
    return results


CONFIDENCE_NOTE = ("confidence: the calibrated probability that the documents answer the question; "
                   "below the refusal threshold the bot refuses instead of answering.")


def print_report(results: EvalResults) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .format import clip
    from .sanitize import printable

    table = Table(show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("question")
    table.add_column("result")
    table.add_column("confidence", justify="right")
    table.add_column("answer / problem", overflow="fold")
    for i, r in enumerate(results.results, 1):
        status = Text("pass", style="green") if r.passed else Text("FAIL", style="bold red")
        detail = clip(r.answer.text, 120) if r.passed else "; ".join(r.problems) + " — " + clip(r.answer.text, 80)
        # Document text reaches these cells: no control characters go to the terminal.
        table.add_row(str(i), Text(printable(r.case.question)), status, f"{r.answer.confidence:.0%}",
                      Text(printable(detail)))
    console = Console()
    console.print(table)
    total = len(results.results)
    console.print(f"{total - results.failed}/{total} passed ({results.pass_rate:.0%})", markup=False)
    console.print(CONFIDENCE_NOTE, markup=False, style="dim")
