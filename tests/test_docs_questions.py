"""The generated docs questions that calibration fits on never come from a benchmark answer's file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "train"))

from docs_questions import FOLDS, benchmark_files, fitting_files, sections  # noqa: E402


def test_only_files_no_benchmark_question_names_are_read(tmp_path):
    docs = tmp_path / "docs"
    (docs / "guide").mkdir(parents=True)
    for name in ("index.md", "guide/install.md", "guide/cache.md", "site/ref.html"):
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text("# Title\n\nSome text.\n")
    questions = tmp_path / "questions.yaml"
    questions.write_text("- {id: a, q: x, file: [guide/install.md, index.md]}\n- {id: b, q: y, scope: site/ref.html}\n")
    assert fitting_files(docs, questions) == ["guide/cache.md"]


def test_the_shipped_questions_avoid_every_benchmark_file():
    named = benchmark_files(ROOT / "bench" / "docs-questions.yaml")
    rows = [json.loads(line) for line in (ROOT / "train" / "data" / "docs-generated.jsonl").open()]
    assert len(rows) >= 200 and named
    assert not {r["file"] for r in rows} & named
    assert {r["fold"] for r in rows} == set(range(FOLDS))
    assert all(r["question"].strip() and r["answer"].strip() for r in rows)


def test_sections_are_prose_runs_under_one_heading(tmp_path):
    page = tmp_path / "cache.md"
    page.write_text("# Cache\n\n## Cleaning\n\n" + "Run the clean command to remove every entry. " * 10
                    + "\n\n## Tiny\n\nToo short.\n")
    assert sections(page) == [("Cache > Cleaning", ("Run the clean command to remove every entry. " * 10).strip())]
