"""Fit the extractive answerer's sentence-ranking weights and its answerability model.

Both are fitted on SQuAD v2.0 dev (which has unanswerable questions), on the questions of the
`train` articles of squad-splits.json only, so that `bench/squad.py` (eval articles) reports
held-out numbers. SQuAD v2.0's unanswerable questions are all near misses written against the
very paragraph they resemble; users also ask things the documents never touch. So SQuAD v1.1
questions about train articles that are not in the v2.0 corpus would be added as off-topic
unanswerables (the current split has none: every train article is a v2.0 article).

SQuAD questions were written looking at the paragraph and reuse its words; users paraphrase,
and often point qa-bot at a small folder. The threshold therefore must also keep answering
natural questions (an answer-recall floor): the NQ subset's real search queries, and
bench/paraphrased-squad-v2.jsonl (questions about v2.0 train articles written as a user would,
not copied from the text), asked both of the whole corpus and of an index of their article alone.
None of these is used in the fit.
Writes src/qa_bot/calibration.json.

    .venv/bin/python bench/calibrate.py [--limit 1500]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from common import load_articles, normalize, overlaps, write_corpus  # bench/common.py

from qa_bot.answer import ExtractiveAnswerer
from qa_bot.calibration import FEATURES, Calibration
from qa_bot.embeddings import make_encoder
from qa_bot.indexer import Index
from qa_bot.service import QAService
from qa_bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "qa_bot" / "calibration.json"
PARAPHRASED = ROOT / "bench" / "paraphrased-squad-v2.jsonl"


def open_index(data: Path, work: Path, encoder, only: str | None = None) -> QAService:
    """Index a dataset's corpus (once; later runs are no-op syncs) and open it uncalibrated."""
    settings = Settings(_env_file=None, index_dir=work / "index")
    Index(settings, encoder).sync([corpus_folder(data, work, only)])
    # The default weights, not the shipped file's: a stale calibration.json (one whose feature
    # names differ from the code's) must not stop the run that replaces it.
    return QAService(settings, encoder=encoder, calibration=Calibration())


def corpus_folder(data: Path, work: Path, only: str | None = None) -> Path:
    """The dataset's articles as `<doc_id>.txt` files (or the one article `only`)."""
    folder = work / "corpus"
    if not folder.exists():
        write_corpus((a for a in load_articles(data) if only in (None, a.doc_id)), folder)
    return folder


@dataclass
class Row:
    question: str
    passages: list
    candidates: list
    features: np.ndarray  # one row per candidate sentence
    hit: np.ndarray  # which candidates contain a gold answer
    answerable: bool
    answerer: ExtractiveAnswerer  # the one of the index the question was asked of


def collect(svc: QAService, questions: list[dict]) -> list[Row]:
    rows = []
    for q in questions:
        passages = svc.retriever.retrieve(q["question"])
        cands = svc.answerer.candidates(q["question"], passages)
        gold = [normalize(a) for a in q["answers"]]
        feats = np.array([c.features for c in cands], dtype=np.float64).reshape(-1, len(FEATURES["rank"]))
        hit = np.array([any(g and g in normalize(c.text) for g in gold) for c in cands], dtype=bool)
        rows.append(Row(q["question"], passages, cands, feats, hit, not q["is_impossible"], svc.answerer))
    return rows


def fit_top1(data: list[tuple[np.ndarray, np.ndarray]], start: tuple[float, ...]) -> tuple[np.ndarray, float]:
    """Coordinate ascent on the share of items whose top-scoring row is a hit.

    `data`: (features, hit) per item, one row per choice; the first weight stays 1 (scale).
    """

    def accuracy(w):
        return float(np.mean([h[np.argmax(f @ w)] for f, h in data]))

    w = np.array(start, dtype=np.float64)
    best = accuracy(w)
    grid = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    for _ in range(3):
        for i in range(1, len(w)):
            for v in grid:
                trial = w.copy()
                trial[i] = v
                acc = accuracy(trial)
                if acc > best + 1e-9:
                    best, w = acc, trial
    return w, best


def fit_rerank(svc: QAService, questions: list[dict]) -> np.ndarray:
    """Passage reranking weights: most answerable questions with a gold passage on top."""
    data = []
    for q in questions:
        if q["is_impossible"]:
            continue
        pool = svc.retriever.pool(q["question"], svc.settings.top_k)
        hit = np.array([gold_overlap(p.chunk, q) for p, _ in pool], dtype=bool)
        if hit.any():
            data.append((np.array([f for _, f in pool]), hit))
    w, best = fit_top1(data, Calibration().rerank_weights)
    print(f"passage reranking: gold passage on top for {best:.3f} of answerable questions whose "
          f"candidates hold it (n={len(data)})")
    return w


def gold_overlap(chunk, q: dict) -> bool:
    return Path(chunk.path).stem == q["doc_id"] and overlaps(chunk.start, chunk.end, q["answer_char_spans"])


def refusal_matrix(rows: list[Row], w: np.ndarray):
    """The answerer's own refusal features for each question's best sentence under weights w."""
    X, y = [], []
    for r in rows:
        if not r.candidates:
            X.append([0.0] * len(FEATURES["refusal"]))
        else:
            b = int(np.argmax(r.features @ w))
            best = replace(r.candidates[b], score=float(r.features[b] @ w))
            X.append(r.answerer.refusal_features(r.question, r.passages, best))
        y.append(1.0 if r.answerable else 0.0)
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


def choose_threshold(prob: np.ndarray, y: np.ndarray, natural: np.ndarray, min_answer_recall: float,
                     min_natural_recall: float) -> tuple[float, dict]:
    """Best refusal F1 (positive = should refuse) keeping both answer-recall floors.

    `natural` holds the answerable natural queries' probabilities. Where no threshold meets
    both floors, the natural floor wins (users paraphrase) and the F1 is what it is.
    """
    options = []
    print("threshold  refusal-F1  answer-recall  natural-recall")
    for i, t in enumerate(np.linspace(0.02, 0.95, 187)):
        refuse = prob < t
        tp = np.sum(refuse & (y == 0))
        precision = tp / max(refuse.sum(), 1)
        recall = tp / max((y == 0).sum(), 1)
        stats = {
            "f1": 2 * precision * recall / max(precision + recall, 1e-9),
            "precision": precision,
            "recall": recall,
            "answer_recall": float(np.mean(~refuse[y == 1])),
            "natural_recall": float(np.mean(natural >= t)),
        }
        if i % 10 == 0:
            print(f"{t:9.2f}  {stats['f1']:10.3f}  {stats['answer_recall']:13.3f}  {stats['natural_recall']:14.3f}")
        if stats["natural_recall"] >= min_natural_recall:
            options.append((stats["answer_recall"] >= min_answer_recall, stats["f1"], float(t), stats))
    if not options:
        return 0.02, {}
    _, _, t, stats = max(options)
    return t, stats


def named_weights(kind: str, weights: np.ndarray) -> dict[str, list]:
    """A weight vector beside its feature names, which Calibration.load checks against the code's."""
    return {f"{kind}_features": list(FEATURES[kind]), f"{kind}_weights": [round(float(v), 4) for v in weights]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "squad-v2.0-dev")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "calibrate")
    ap.add_argument("--limit", type=int, default=1500)
    ap.add_argument("--off-topic", type=int, default=500, help="v1.1 questions on other articles")
    ap.add_argument("--min-answer-recall", type=float, default=0.80)
    ap.add_argument("--natural", type=Path, default=ROOT.parent / "shared" / "data" / "nq-dev-subset")
    ap.add_argument("--min-natural-recall", type=float, default=0.95)
    ap.add_argument("--rethreshold", action="store_true",
                    help="only choose the threshold again, from the scores the last full run saved")
    args = ap.parse_args()
    scores = args.work / "refusal-scores.npz"
    if args.rethreshold:
        saved = np.load(scores)
        threshold, stats = choose_threshold(saved["prob"], saved["y"], saved["natural"],
                                            args.min_answer_recall, args.min_natural_recall)
        data = json.loads(OUT.read_text())
        OUT.write_text(json.dumps({**data, "threshold": round(threshold, 4)}, indent=2) + "\n")
        print("refusal on the fitting set: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
        return 0

    t0 = time.time()
    encoder = make_encoder(Settings(_env_file=None))
    svc = open_index(args.data, args.work / "squad-v2", encoder)

    train = set(json.loads((args.data.parent / "squad-splits.json").read_text())["train"])
    pool = [q for q in map(json.loads, (args.data / "questions.jsonl").open()) if q["doc_id"] in train]
    rng = random.Random(0)
    questions = rng.sample(pool, min(args.limit, len(pool)))
    v11 = args.data.parent / "squad-v1.1-dev"
    titles = {json.loads(line)["title"] for line in (args.data / "corpus.jsonl").open()}
    other_docs = {d["doc_id"] for d in map(json.loads, (v11 / "corpus.jsonl").open())
                  if d["title"] not in titles and d["doc_id"] in train}
    off_topic = [q for q in map(json.loads, (v11 / "questions.jsonl").open()) if q["doc_id"] in other_docs]
    off_topic_qs = [{**q, "is_impossible": True} for q in rng.sample(off_topic, min(args.off_topic, len(off_topic)))]
    questions += off_topic_qs
    rerank = fit_rerank(svc, questions)
    svc.retriever.weights = rerank
    rows = collect(svc, questions)
    print(f"collected features for {len(rows)} questions in {time.time() - t0:.0f}s")

    natural_svc = open_index(args.natural, args.work / "nq", encoder)
    natural_svc.retriever.weights = rerank
    natural_qs = [q for q in map(json.loads, (args.natural / "questions.jsonl").open()) if not q["is_impossible"]]
    paraphrased = [{**q, "is_impossible": False} for q in map(json.loads, PARAPHRASED.open()) if q["doc_id"] in train]
    natural_rows = collect(natural_svc, natural_qs) + collect(svc, paraphrased)
    for doc_id in sorted({q["doc_id"] for q in paraphrased}):  # a small folder: one article
        single = open_index(args.data, args.work / "single" / doc_id, encoder, only=doc_id)
        single.retriever.weights = rerank
        natural_rows += collect(single, [q for q in paraphrased if q["doc_id"] == doc_id])

    w, best = fit_top1([(r.features, r.hit) for r in rows if r.answerable and r.hit.any()],
                       Calibration().rank_weights)
    print(f"sentence ranking: top sentence holds the answer for {best:.3f} of answerable questions "
          f"whose passages hold it")
    X, y = refusal_matrix(rows, w)
    coef, bias = fit_logistic(X, y)
    prob = 1 / (1 + np.exp(-(X @ coef + bias)))
    Xn, _ = refusal_matrix(natural_rows, w)
    natural = 1 / (1 + np.exp(-(Xn @ coef + bias)))
    np.savez(scores, prob=prob, y=y, natural=natural)
    threshold, stats = choose_threshold(prob, y, natural, args.min_answer_recall, args.min_natural_recall)
    print("refusal on the fitting set: " + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    OUT.write_text(json.dumps({
        "fitted_on": f"SQuAD v2.0 dev train articles (squad-splits.json), {len(questions) - len(off_topic_qs)} "
                     f"questions + {len(off_topic_qs)} off-topic SQuAD v1.1 train-article questions; threshold keeps "
                     f"{args.min_natural_recall:.0%} of natural questions (NQ subset, paraphrased v2.0) answered",
        **named_weights("rerank", rerank),
        **named_weights("rank", w),
        **named_weights("refusal", coef),
        "refusal_bias": round(bias, 4),
        "threshold": round(threshold, 4),
    }, indent=2) + "\n")
    print(f"wrote {OUT} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
