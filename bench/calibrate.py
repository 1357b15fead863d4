"""Fit the extractive answerer's sentence-ranking weights and its answerability model.

Both are fitted on SQuAD v2.0 dev (which has unanswerable questions), leaving out the
questions of its sample.jsonl so that `bench/squad.py --sample` reports held-out numbers.
SQuAD v2.0's unanswerable questions are all near misses written against the very paragraph
they resemble; users also ask things the documents never touch. So SQuAD v1.1 questions
about articles that are not in the v2.0 corpus are added as off-topic unanswerables.
Writes src/qa_bot/calibration.json.

    .venv/bin/python bench/calibrate.py [--limit 1500]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import time
from pathlib import Path

import numpy as np

from qa_bot.answer import FEATURES, REFUSAL_FEATURES, Calibration, ExtractiveAnswerer
from qa_bot.indexer import sync
from qa_bot.service import QAService, make_encoder
from qa_bot.settings import Settings
from qa_bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "qa_bot" / "calibration.json"


def normalize(s: str) -> str:
    """The official SQuAD normalisation."""
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def corpus_folder(data: Path, work: Path) -> Path:
    folder = work / "corpus"
    if not folder.exists():
        folder.mkdir(parents=True)
        for line in (data / "corpus.jsonl").open():
            doc = json.loads(line)
            (folder / f"{doc['doc_id']}.txt").write_text(doc["text"], encoding="utf-8", newline="")
    return folder


def collect(svc: QAService, questions: list[dict]):
    """Per question: the candidates' feature matrix, which contain gold, and answerability."""
    rows = []
    for q in questions:
        passages = svc.retriever.retrieve(q["question"])
        cands = svc.answerer.candidates(q["question"], passages)
        gold = [normalize(a) for a in q["answers"]]
        feats = np.array([c.features for c in cands], dtype=np.float64).reshape(-1, len(FEATURES))
        hit = np.array([any(g and g in normalize(c.text) for g in gold) for c in cands], dtype=bool)
        top_dense = max((p.dense for p in passages), default=0.0)
        rows.append((feats, hit, not q["is_impossible"], top_dense))
    return rows


def fit_rank_weights(rows, start: tuple[float, ...]) -> np.ndarray:
    """Coordinate ascent on: share of answerable questions whose top sentence holds the answer."""
    data = [(f, h) for f, h, ok, _ in rows if ok and len(f) and h.any()]

    def accuracy(w):
        return np.mean([h[np.argmax(f @ w)] for f, h in data])

    w = np.array(start, dtype=np.float64)
    best = accuracy(w)
    grid = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    for _ in range(3):
        for i in range(len(w)):
            for v in grid:
                trial = w.copy()
                trial[i] = v
                acc = accuracy(trial)
                if acc > best + 1e-9:
                    best, w = acc, trial
    print(f"sentence ranking: top sentence holds the answer for {best:.3f} of answerable questions "
          f"whose passages hold it (n={len(data)})")
    return w


def refusal_matrix(rows, w: np.ndarray):
    X, y = [], []
    for f, h, ok, top_dense in rows:
        if not len(f):
            X.append([0.0] * len(REFUSAL_FEATURES))
        else:
            b = int(np.argmax(f @ w))
            X.append([float(f[b] @ w), f[b][0], f[b][1], f[b][5], top_dense, f[b][3]])
        y.append(1.0 if ok else 0.0)
    return np.array(X), np.array(y)


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-regularised log loss."""
    A = np.hstack([X, np.ones((len(X), 1))])
    theta = np.zeros(A.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(A @ theta)))
        grad = A.T @ (p - y) / len(y) + l2 * np.r_[theta[:-1], 0]
        H = (A * (p * (1 - p))[:, None]).T @ A / len(y) + l2 * np.eye(len(theta))
        theta -= np.linalg.solve(H, grad)
    return theta[:-1], float(theta[-1])


def choose_threshold(prob: np.ndarray, y: np.ndarray, min_answer_recall: float) -> tuple[float, dict]:
    """Best refusal F1 (positive = should refuse) keeping answerable recall above the floor."""
    best = (0.5, {"f1": -1.0})
    for t in np.linspace(0.05, 0.95, 181):
        refuse = prob < t
        tp = np.sum(refuse & (y == 0))
        precision = tp / max(refuse.sum(), 1)
        recall = tp / max((y == 0).sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        answer_recall = np.mean(~refuse[y == 1])
        if answer_recall >= min_answer_recall and f1 > best[1]["f1"]:
            best = (float(t), {"f1": f1, "precision": precision, "recall": recall, "answer_recall": answer_recall})
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "squad-v2.0-dev")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "calibrate")
    ap.add_argument("--limit", type=int, default=1500)
    ap.add_argument("--off-topic", type=int, default=500, help="v1.1 questions on other articles")
    ap.add_argument("--min-answer-recall", type=float, default=0.80)
    args = ap.parse_args()

    t0 = time.time()
    settings = Settings(_env_file=None, index_dir=args.work / "index")
    encoder = make_encoder(settings)
    sync([corpus_folder(args.data, args.work)], settings, encoder, Store(settings.index_dir))
    svc = QAService(settings, encoder=encoder)
    svc.answerer = ExtractiveAnswerer(svc.lexical, encoder, Calibration())

    held_out = {json.loads(line)["id"] for line in (args.data / "sample.jsonl").open()}
    pool = [q for q in map(json.loads, (args.data / "questions.jsonl").open()) if q["id"] not in held_out]
    rng = random.Random(0)
    questions = rng.sample(pool, min(args.limit, len(pool)))
    v11 = args.data.parent / "squad-v1.1-dev"
    titles = {json.loads(line)["title"] for line in (args.data / "corpus.jsonl").open()}
    other_docs = {d["doc_id"] for d in map(json.loads, (v11 / "corpus.jsonl").open()) if d["title"] not in titles}
    off_topic = [q for q in map(json.loads, (v11 / "questions.jsonl").open()) if q["doc_id"] in other_docs]
    questions += [{**q, "is_impossible": True} for q in rng.sample(off_topic, min(args.off_topic, len(off_topic)))]
    rows = collect(svc, questions)
    print(f"collected features for {len(rows)} questions in {time.time() - t0:.0f}s")

    w = fit_rank_weights(rows, Calibration().rank_weights)
    X, y = refusal_matrix(rows, w)
    coef, bias = fit_logistic(X, y)
    prob = 1 / (1 + np.exp(-(X @ coef + bias)))
    threshold, stats = choose_threshold(prob, y, args.min_answer_recall)
    print("refusal on the fitting set: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    OUT.write_text(json.dumps({
        "fitted_on": f"SQuAD v2.0 dev, {args.limit} questions outside sample.jsonl, "
                     f"+ {args.off_topic} off-topic SQuAD v1.1 questions",
        "features": list(FEATURES),
        "rank_weights": [round(float(v), 4) for v in w],
        "refusal_features": list(REFUSAL_FEATURES),
        "refusal_weights": [round(float(v), 4) for v in coef],
        "refusal_bias": round(bias, 4),
        "threshold": round(threshold, 4),
    }, indent=2) + "\n")
    print(f"wrote {OUT} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
