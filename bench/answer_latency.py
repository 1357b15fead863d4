"""Warm answer latency, as shipped and with one thing changed, in one process (rounds of all
questions per variant, in rotating order, so machine load hits every variant alike), reported as
ratios to the shipped one:

- "without the head": the interaction head left out (its feature 0);
- "BLAS threads free": numpy's BLAS left at its default thread count while answering (the
  service puts it on one thread, beside onnxruntime's).

    QA_BOT_INDEX_DIR=/tmp/docs-index .venv/bin/qa-bot index ../shared/data/docs-corpus/docs
    .venv/bin/python bench/answer_latency.py --index /tmp/docs-index [--rounds 3] [--answerer reader]

The questions are bench/docs-questions.yaml's. The query-embedding cache is cleared before every
answer, so every variant embeds the question.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from docscore import load_doc_questions  # bench/docscore.py

from qa_bot.service import QAService
from qa_bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="an index built with `qa-bot index`")
    ap.add_argument("--questions", type=Path, default=ROOT / "bench" / "docs-questions.yaml")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--answerer", choices=["features", "reader"], default="features")
    args = ap.parse_args()
    svc = QAService(Settings(_env_file=None, index_dir=args.index, answerer=args.answerer))
    questions = [q.q for q in load_doc_questions(args.questions)]
    head = svc.answerer.head

    def shipped(q: str) -> None:
        svc.answer(q)

    def without_head(q: str) -> None:
        svc.answerer.head = None
        try:
            svc.answer(q)
        finally:
            svc.answerer.head = head

    def blas_free(q: str) -> None:
        svc._answer(q, None, None)  # the answer path without the one-BLAS-thread limit

    variants = {"as shipped": shipped, "without the head": without_head, "BLAS threads free": blas_free}
    for q in questions:  # warm up: models loaded, caches of the lexical side filled
        svc.answer(q)
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(args.rounds):
        # Whole rounds per variant, in rotating order: BLAS threads left spinning by one variant
        # must not slow the next one's questions (alternating per question measured that instead).
        for name in names[r % len(names):] + names[: r % len(names)]:
            for q in questions:
                svc.encoder.forget_queries()
                t = time.perf_counter()
                variants[name](q)
                times[name].append(time.perf_counter() - t)
    base = np.mean(times["as shipped"])
    print(f"{len(questions)} questions x {args.rounds} rounds, warm, one process, answerer {args.answerer}")
    for name, values in times.items():
        ms = np.array(values) * 1000
        print(f"{name:18} p50 {np.median(ms):6.1f} ms  p95 {np.percentile(ms, 95):6.1f} ms  "
              f"mean {ms.mean():6.1f} ms  ratio {np.mean(values) / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
