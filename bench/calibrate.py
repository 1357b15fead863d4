"""Fit the extractive answerer's sentence-ranking weights and its answerability model.

Both are fitted on two sources that weigh the same:
- SQuAD v2.0 dev (which has unanswerable questions), the questions of the `train` articles of
  squad-splits.json only, so that `bench/squad.py` (eval articles) reports held-out numbers. Its
  unanswerable questions are near misses written against the very paragraph they resemble. (SQuAD
  v1.1 questions about train articles missing from the v2.0 corpus would be added as off-topic
  unanswerables; the current split has none.)
- Docs questions as users type them, written by the local LLM (train/docs_questions.py) from the
  docs-corpus files that no question of bench/docs-questions.yaml names: each is asked of the whole
  folder (answerable) and of the folder without its fold of files (unanswerable, as a topic the
  docs never cover is). Their answers label the sentence ranking too.

Users paraphrase, and often point qa-bot at a small folder. The threshold therefore must also keep
answering natural questions (an answer-recall floor) whose top sentence is right (refusing a wrong
answer loses nothing): the NQ subset's real search queries, and bench/paraphrased-squad-v2.jsonl
(questions about v2.0 train articles written as a user would, not copied from the text), asked
both of the whole corpus and of an index of their article alone. None of these is used in the fit.
Writes src/qa_bot/calibration.json.

    .venv/bin/python bench/calibrate.py [--limit 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml
from common import load_articles, normalize, overlaps, write_corpus  # bench/common.py

from qa_bot.answer import DENSE_CANDIDATES, UNKNOWN_WORD_SPECIFICITY, ExtractiveAnswerer, embedding_picks
from qa_bot.calibration import FEATURES, Calibration
from qa_bot.features import RankFeatures
from qa_bot.embeddings import make_encoder
from qa_bot.indexer import Index
from qa_bot.service import QAService
from qa_bot.settings import Settings
from qa_bot.text import terms

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "qa_bot" / "calibration.json"
PARAPHRASED = ROOT / "bench" / "paraphrased-squad-v2.jsonl"
DOCS_GENERATED = ROOT / "train" / "data" / "docs-generated.jsonl"


def open_index(data: Path, work: Path, encoder, only: str | None = None) -> QAService:
    """Index a dataset's corpus (once; later runs are no-op syncs) and open it uncalibrated."""
    return open_folder(corpus_folder(data, work, only), work, encoder)


def open_folder(folder: Path, work: Path, encoder, calibration: Calibration | None = None,
                interaction: bool = True) -> QAService:
    """Index `folder` under `work` (a no-op sync once indexed) and open it with `calibration`,
    by default the default weights, not the shipped file's: a stale calibration.json (one whose
    feature names differ from the code's) must not stop the run that replaces it."""
    settings = Settings(_env_file=None, index_dir=work / "index")
    Index(settings, encoder).sync([folder])
    return QAService(settings, encoder=encoder, calibration=calibration or Calibration(), interaction=interaction)


def corpus_folder(data: Path, work: Path, only: str | None = None) -> Path:
    """The dataset's articles as `<doc_id>.txt` files (or the one article `only`)."""
    folder = work / "corpus"
    if not folder.exists():
        write_corpus((a for a in load_articles(data) if only in (None, a.doc_id)), folder)
    return folder


def fit_questions(data: Path, train_articles, limit: int = 1000) -> list[dict]:
    """The SQuAD v2.0 questions the weights are fitted on: `limit` of the train articles', seeded
    (train/train_interaction.py leaves them out of the interaction head's training)."""
    train = set(train_articles)
    pool = [q for q in map(json.loads, (data / "questions.jsonl").open()) if q["doc_id"] in train]
    return random.Random(0).sample(pool, min(limit, len(pool)))


@dataclass
class Row:
    question: str
    passages: list
    candidates: list
    features: np.ndarray  # one row per candidate sentence
    hit: np.ndarray  # which candidates contain a gold answer
    answerable: bool
    answerer: ExtractiveAnswerer  # the one of the index the question was asked of


def collect(svc: QAService, questions: list[dict], embed_all: bool = False) -> list[Row]:
    """Each question's candidates with their features; `embed_all`: the embedding features of every
    candidate, not only of the answerer's shortlist (`shortlisted` then picks the shortlist that
    the weights being fitted would make); the service's answerer keeps embedding every one."""
    rows = []
    if embed_all:
        svc.answerer.dense_candidates = 10**6
    for q in questions:
        passages = svc.retriever.retrieve(q["question"])
        cands = svc.answerer.candidates(q["question"], passages)
        gold = [normalize(a) for a in q["answers"]]
        feats = np.array([c.features for c in cands], dtype=np.float64).reshape(-1, len(FEATURES["rank"]))
        hit = np.array([any(g and g in normalize(c.text) for g in gold) for c in cands], dtype=bool)
        rows.append(Row(q["question"], passages, cands, feats, hit, not q["is_impossible"], svc.answerer))
    return rows


def generated_questions(paths: list[Path], exclude: set[str] = frozenset()) -> list[dict]:
    """train/docs_questions.py's questions in `paths`, each once (case aside) and none of `exclude`
    (lower-cased), as answerable."""
    seen, questions = set(exclude), []
    for q in (json.loads(line) for path in paths for line in path.open()):
        if q["question"].lower() not in seen:
            seen.add(q["question"].lower())
            questions.append({**q, "answers": [], "is_impossible": False})
    return questions


def docs_rows(docs: Path, work: Path, encoder, rerank: np.ndarray) -> list[Row]:
    """train/docs_questions.py's questions, asked of the whole docs folder (answerable) and of the
    folder without their fold of files (unanswerable: the section that answers them is gone)."""
    questions = generated_questions([DOCS_GENERATED])
    svc = open_folder(docs, work / "all", encoder)
    svc.retriever.weights = rerank
    rows = collect(svc, questions, embed_all=True)
    for r, q in zip(rows, questions):
        r.hit = np.array([answers_generated(c, q) for c in r.candidates], dtype=bool)
    for fold in sorted({q["fold"] for q in questions}):
        gone = {q["file"] for q in questions if q["fold"] == fold}
        folder = work / f"without-{fold}" / "docs"
        if not folder.exists():
            shutil.copytree(docs, folder, ignore=lambda d, names: [n for n in names
                            if str((Path(d) / n).relative_to(docs)) in gone])
        svc = open_folder(folder, work / f"without-{fold}", encoder)
        svc.retriever.weights = rerank
        rows += collect(svc, [{**q, "is_impossible": True} for q in questions if q["fold"] == fold], embed_all=True)
    return rows


def answers_generated(candidate, q: dict) -> bool:
    """A unit of the question's file holding most of the generator's answer words (its answers
    are close to the section's words but seldom verbatim)."""
    want = set(terms(q["answer"]))
    have = set(terms(candidate.text))
    return candidate.passage.chunk.path.endswith("/" + q["file"]) and len(want & have) >= 0.6 * len(want) > 0


EMBEDDED = [FEATURES["rank"].index(name) for name in ("sentence_dense", "interaction")]


PASSAGE = FEATURES["rank"].index("passage_rr")  # 1 / (passage rank + 1): which passage a unit is in


def shortlisted(f: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores and features of candidates (rows of `f`, every one embedded) as the answerer makes
    them under weights `w`: it embeds only its DENSE_CANDIDATES best by the other features and each
    passage's best, and the rest score without the embedding features. Fitting on features from
    another weighting's shortlist favoured weights that would have embedded other units (passage
    rank 0.25 -> 0)."""
    plain = f.copy()
    plain[:, EMBEDDED] = 0.0
    order = np.argsort(-(plain @ w), kind="stable")
    shortlist, extra = embedding_picks(list(f[order, PASSAGE]), DENSE_CANDIDATES)
    top = order[shortlist + extra]
    plain[top] = f[top]
    return plain @ w, plain


def fit_top1(groups: list[list[tuple[np.ndarray, np.ndarray]]], start: tuple[float, ...],
             min_gain: float = 0.005, score=lambda f, w: f @ w) -> tuple[np.ndarray, float]:
    """Coordinate ascent on the share of items whose top-scoring row is a hit, averaged over groups
    (each data source counts the same, however many items it has).

    An item is (features, hit), one row per choice; the first weight stays 1 (scale). A weight
    moves only for a gain of `min_gain` or more that both halves of every group (alternate items)
    share: the optimum is flat, and moves worth one or two questions of the fit (the dense weight
    0.5 -> 0.2 for 0.002; passage rank and type match 0.25, 0.15 -> 0 for 0.005 each, gained on
    one half) cost as much on held-out ones.
    """

    def accuracy(w, half=None):
        return float(np.mean([np.mean([h[np.argmax(score(f, w))] for f, h in data[half]]) for data in groups
                              if data[half]]))

    halves = (slice(0, None, 2), slice(1, None, 2))
    w = np.array(start, dtype=np.float64)
    best = accuracy(w, slice(None))
    best_halves = [accuracy(w, h) for h in halves]
    grid = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    for _ in range(3):
        for i in range(1, len(w)):
            for v in grid:
                trial = w.copy()
                trial[i] = v
                acc = accuracy(trial, slice(None))
                trial_halves = [accuracy(trial, h) for h in halves]
                if acc >= best + min_gain and all(t > b for t, b in zip(trial_halves, best_halves)):
                    best, best_halves, w = acc, trial_halves, trial
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
    w, best = fit_top1([data], Calibration().rerank_weights)
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
            scores, feats = shortlisted(r.features, w)
            b = int(np.argmax(scores))
            best = replace(r.candidates[b], features=RankFeatures(*feats[b]), score=float(scores[b]))
            X.append(r.answerer.refusal_features(r.question, r.passages, best))
        y.append(1.0 if r.answerable else 0.0)
    return np.array(X), np.array(y)


def fit_logistic(X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, l2: float = 1e-3,
                 steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-regularised, sample-weighted log loss."""
    A = np.hstack([X, np.ones((len(X), 1))])
    sw = np.ones(len(y)) if weight is None else weight
    theta = np.zeros(A.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(A @ theta)))
        grad = A.T @ (sw * (p - y)) / sw.sum() + l2 * np.r_[theta[:-1], 0]
        H = (A * (sw * p * (1 - p))[:, None]).T @ A / sw.sum() + l2 * np.eye(len(theta))
        theta -= np.linalg.solve(H, grad)
    return theta[:-1], float(theta[-1])


def refusal_stats(refuse: np.ndarray, y: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Sample-weighted refusal precision, recall and F1 (positive = should refuse, y == 0) and the
    share of answerable questions answered."""
    tp = np.sum(weight * (refuse & (y == 0)))
    precision = float(tp / max(np.sum(weight * refuse), 1e-9))
    recall = float(tp / max(np.sum(weight * (y == 0)), 1e-9))
    return {
        "f1": 2 * precision * recall / max(precision + recall, 1e-9),
        "precision": precision,
        "recall": recall,
        "answer_recall": float(np.sum(weight * (~refuse & (y == 1))) / np.sum(weight * (y == 1))),
    }


L2_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def choose_threshold(prob: np.ndarray, y: np.ndarray, weight: np.ndarray, natural: np.ndarray,
                     min_answer_recall: float, min_natural_recall: float) -> tuple[float, dict]:
    """Best (sample-weighted) refusal F1, positive = should refuse, keeping both answer-recall floors.

    `natural` holds the answerable natural queries' probabilities. Where no threshold meets
    both floors, the natural floor wins (users paraphrase) and the F1 is what it is.
    """
    options = []
    for t in np.linspace(0.02, 0.95, 187):
        stats = refusal_stats(prob < t, y, weight) | {"natural_recall": float(np.mean(natural >= t))}
        if stats["natural_recall"] >= min_natural_recall:
            options.append((stats["answer_recall"] >= min_answer_recall, stats["f1"], float(t), stats))
    if not options:
        return 0.02, {}
    _, _, t, stats = max(options)
    return t, stats


def canned_matrix(cases: Path, work: Path, encoder, rerank: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Refusal features of the canned cases that expect an answer, asked of seeds/ (a one-article
    folder): the threshold stays below all of them, so the regression suite users run keeps passing."""
    questions = [{"question": c["question"], "answers": [], "is_impossible": False}
                 for c in yaml.safe_load(cases.read_text())["cases"] if not c.get("refuse")]
    svc = open_folder(ROOT / "seeds", work, encoder)
    svc.retriever.weights = rerank
    return refusal_matrix(collect(svc, questions, embed_all=True), w)[0]


@dataclass
class RefusalFit:
    l2: float
    coef: np.ndarray
    bias: float
    fitted: float  # the threshold choose_threshold picks
    threshold: float  # that, lowered below the canned cases where they need it
    stats: dict  # refusal on the fitting set at `threshold`
    prob: np.ndarray  # P(answerable) of each fitting-set question
    natural: np.ndarray  # the same for the natural questions


def fit_refusal(X: np.ndarray, y: np.ndarray, weight: np.ndarray, Xn: np.ndarray, canned: np.ndarray,
                args: argparse.Namespace) -> RefusalFit:
    """The answerability model whose refusal F1 on the fitting set is best at the threshold the
    floors leave it, over a few L2 strengths. The features are collinear (best_score sums the
    others), so with almost no penalty the weights follow SQuAD's near misses (high term coverage,
    negative weights for it) and rank a paraphrase of seeds/ below them: its canned floor then held
    the threshold far below the fitted one (0.139 for 0.205, F1 0.13 for 0.31)."""
    fits = []
    for l2 in L2_GRID:
        coef, bias = fit_logistic(X, y, weight, l2=l2)
        prob, natural, floor = (1 / (1 + np.exp(-(A @ coef + bias))) for A in (X, Xn, canned))
        fitted, _ = choose_threshold(prob, y, weight, natural, args.min_answer_recall, args.min_natural_recall)
        threshold = min(fitted, float(np.min(floor)) - 0.005)
        stats = refusal_stats(prob < threshold, y, weight)
        print(f"L2 {l2:g}: fitted threshold {fitted:.3f}, after the canned floor {threshold:.3f}, refusal F1 "
              f"{stats['f1']:.3f} at answer recall {stats['answer_recall']:.3f}")
        fits.append(RefusalFit(l2, coef, bias, fitted, threshold, stats, prob, natural))
    return max(fits, key=lambda f: f.stats["f1"])


def print_thresholds(prob: np.ndarray, y: np.ndarray, n_docs: int, natural: np.ndarray, fitted: float) -> None:
    """Refusal on each source of the fitting set at a few thresholds (the README's table)."""
    sources = {"SQuAD v2.0": slice(0, len(y) - n_docs), "generated docs": slice(len(y) - n_docs, len(y))}
    print("threshold | " + " | ".join(f"{name}: refusal P / R / F1, answered" for name in sources) + " | natural answered")
    for t in sorted({round(fitted, 3), 0.25, 0.3, 0.35, 0.4, 0.5}):
        cells = []
        for part in sources.values():
            st = refusal_stats(prob[part] < t, y[part], np.ones(len(y[part])))
            cells.append(f"{st['precision']:.2f} / {st['recall']:.2f} / {st['f1']:.2f}, {st['answer_recall']:.2f}")
        print(f"{t:.3f} | " + " | ".join(cells) + f" | {np.mean(natural >= t):.2f}")


def unknown_word_table(sources: dict[str, list[Row]]) -> None:
    """What the answerer's never-mentioned-word rule (answer.UNKNOWN_WORD_SPECIFICITY) would
    refuse on each fitting set, at a few cut-offs (the shipped one chosen from this table)."""
    print(f"never-mentioned-word rule (shipped cut-off {UNKNOWN_WORD_SPECIFICITY}): answerable refused, unanswerable caught")
    for cut in (0.5, 0.6, 0.7, 0.8):
        cells = []
        for name, rows in sources.items():
            flagged = [bool(r.answerer.lexical.unknown_words(r.question, cut)) for r in rows]
            a = [f for f, r in zip(flagged, rows, strict=True) if r.answerable]
            u = [f for f, r in zip(flagged, rows, strict=True) if not r.answerable]
            cells.append(f"{name} {sum(a)}/{len(a)}, {sum(u)}/{len(u)}")
        print(f"{cut:.1f} | " + " | ".join(cells))


def named_weights(kind: str, weights: np.ndarray) -> dict[str, list]:
    """A weight vector beside its feature names, which Calibration.load checks against the code's."""
    return {f"{kind}_features": list(FEATURES[kind]), f"{kind}_weights": [round(float(v), 4) for v in weights]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "squad-v2.0-dev")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "calibrate")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--off-topic", type=int, default=500, help="v1.1 questions on other articles")
    ap.add_argument("--min-answer-recall", type=float, default=0.80)
    ap.add_argument("--natural", type=Path, default=ROOT.parent / "shared" / "data" / "nq-dev-subset")
    ap.add_argument("--min-natural-recall", type=float, default=0.95)
    ap.add_argument("--canned", type=Path, default=ROOT / "tests" / "cases" / "seeds.yaml",
                    help="canned cases that must stay answered (asked of seeds/)")
    args = ap.parse_args()
    scores = args.work / "refusal-scores.npz"
    t0 = time.time()
    encoder = make_encoder(Settings(_env_file=None))
    svc = open_index(args.data, args.work / "squad-v2", encoder)

    train = set(json.loads((args.data.parent / "squad-splits.json").read_text())["train"])
    questions = fit_questions(args.data, train, args.limit)
    rng = random.Random(0)
    v11 = args.data.parent / "squad-v1.1-dev"
    titles = {json.loads(line)["title"] for line in (args.data / "corpus.jsonl").open()}
    other_docs = {d["doc_id"] for d in map(json.loads, (v11 / "corpus.jsonl").open())
                  if d["title"] not in titles and d["doc_id"] in train}
    off_topic = [q for q in map(json.loads, (v11 / "questions.jsonl").open()) if q["doc_id"] in other_docs]
    off_topic_qs = [{**q, "is_impossible": True} for q in rng.sample(off_topic, min(args.off_topic, len(off_topic)))]
    questions += off_topic_qs
    rerank = fit_rerank(svc, questions)
    svc.retriever.weights = rerank
    rows = collect(svc, questions, embed_all=True)
    print(f"collected features for {len(rows)} questions in {time.time() - t0:.0f}s")

    natural_svc = open_index(args.natural, args.work / "nq", encoder)
    natural_svc.retriever.weights = rerank
    natural_qs = [q for q in map(json.loads, (args.natural / "questions.jsonl").open()) if not q["is_impossible"]]
    paraphrased = [{**q, "is_impossible": False} for q in map(json.loads, PARAPHRASED.open()) if q["doc_id"] in train]
    natural_rows = collect(natural_svc, natural_qs, embed_all=True) + collect(svc, paraphrased, embed_all=True)
    for doc_id in sorted({q["doc_id"] for q in paraphrased}):  # a small folder: one article
        single = open_index(args.data, args.work / "single" / doc_id, encoder, only=doc_id)
        single.retriever.weights = rerank
        natural_rows += collect(single, [q for q in paraphrased if q["doc_id"] == doc_id], embed_all=True)

    docs = docs_rows(args.data.parent / "docs-corpus" / "docs", args.work / "docs", encoder, rerank)
    w, best = fit_top1([[(r.features, r.hit) for r in source if r.answerable and r.hit.any()] for source in (rows, docs)],
                       Calibration().rank_weights, score=lambda f, w: shortlisted(f, w)[0])
    print(f"sentence ranking: top sentence holds the answer for {best:.3f} of answerable questions "
          f"whose passages hold it (mean of SQuAD and generated docs questions)")
    X, y = refusal_matrix(rows, w)
    Xd, yd = refusal_matrix(docs, w)
    Xn, _ = refusal_matrix(natural_rows, w)
    # Refusing a natural question whose answer would be wrong anyway loses nothing: the floor
    # counts only those the top sentence answers.
    Xn = Xn[[bool(r.candidates) and bool(r.hit[int(np.argmax(shortlisted(r.features, w)[0]))]) for r in natural_rows]]
    # SQuAD's near misses and the docs questions weigh the same in the fit and in the F1.
    weight = np.r_[np.full(len(y), 0.5 / len(y)), np.full(len(yd), 0.5 / len(yd))]
    X, y = np.vstack([X, Xd]), np.r_[y, yd]
    fit = fit_refusal(X, y, weight, Xn, canned_matrix(args.canned, args.work / "seeds", encoder, rerank, w), args)
    coef, bias, threshold, prob, natural = fit.coef, fit.bias, fit.threshold, fit.prob, fit.natural
    np.savez(scores, prob=prob, y=y, weight=weight, natural=natural, X=X, Xn=Xn)
    print(f"chose L2 {fit.l2:g}: threshold {threshold:.3f} (fitted {fit.fitted:.3f}), refusal on the fitting set: "
          + ", ".join(f"{k} {v:.3f}" for k, v in fit.stats.items()))
    print_thresholds(prob, y, len(yd), natural, threshold)
    unknown_word_table({"SQuAD v2.0": rows, "generated docs": docs, "natural": natural_rows})
    OUT.write_text(json.dumps({
        "fitted_on": f"SQuAD v2.0 dev train articles (squad-splits.json), {len(questions) - len(off_topic_qs)} "
                     f"questions + {len(off_topic_qs)} off-topic SQuAD v1.1 train-article questions, and "
                     f"{int(yd.sum())} generated docs questions (train/docs_questions.py), each asked with and without "
                     f"its files; threshold keeps {args.min_natural_recall:.0%} of the natural questions (NQ subset, "
                     f"paraphrased v2.0) that the top sentence answers answered, and every answerable canned case of "
                     f"{args.canned.name} answered; L2 {fit.l2:g} (of {', '.join(map(str, L2_GRID))}: best refusal F1 there)",
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
