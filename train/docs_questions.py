"""Generate docs-like fitting questions with the local LLM, for bench/calibrate.py.

SQuAD's questions copy their paragraph's words and its unanswerable ones are near misses; users
of a documentation folder type short, informal questions and ask about tools the docs never
mention. So the refusal model is also fitted on questions like theirs: the local GGUF model
(`scripts/setup.sh --with-llm`, assembled as docs/llm.md says) reads sections of
../shared/data/docs-corpus and writes questions that each section answers. calibrate.py asks every question twice: of the whole folder
(answerable) and of the folder without the question's fold of files (unanswerable: the section
that answers it is gone, as a topic the docs never cover is).

Only files that no question of bench/docs-questions.yaml names (as its `file` or `scope`) are
read, so the benchmark's answers never reach the fit. Fixed seed; one command, about 15 minutes
on 2 cores:

    nice -n 10 .venv/bin/python train/docs_questions.py

Writes train/data/docs-generated.jsonl: {"question", "answer", "file", "fold", "section"}.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import yaml

from qa_bot.blocks import HEADING
from qa_bot.ingest import load

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = Path.home() / ".cache" / "qa-bot" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
FOLDS = 4

SYSTEM = "You write the questions that users of a software project type into its Discord chat."
ASK = (
    "Documentation section ({heading}):\n{text}\n\n"
    "Write {n} different short questions (at most 12 words, lowercase, informal, the way people type in "
    "chat, in your own words rather than the section's) that this section answers. After each, copy the "
    "words of the section that answer it (at most 15 words).\nFormat:\nQ: <question>\nA: <answer>"
)
_QA = re.compile(r"^Q:\s*(.+?)\s*\nA:\s*(.+?)\s*$", re.MULTILINE)


def benchmark_files(questions: Path) -> set[str]:
    named: set[str] = set()
    for q in yaml.safe_load(questions.read_text()):
        for key in ("file", "scope"):
            v = q.get(key)
            named.update([v] if isinstance(v, str) else v or [])
    return named


def fitting_files(docs: Path, questions: Path) -> list[str]:
    named = benchmark_files(questions)
    return sorted(str(p.relative_to(docs)) for p in docs.rglob("*") if p.is_file()
                  and str(p.relative_to(docs)) not in named)


def fold_of(rel: str, files: list[str]) -> int:
    return files.index(rel) % FOLDS


def sections(path: Path, min_chars: int = 300, max_chars: int = 1400) -> list[tuple[str, str]]:
    """(heading path, prose) runs of the file's blocks under one heading; code and tables kept."""
    doc = load(path)
    runs: dict[str, list[str]] = {}
    for b in doc.blocks:
        if b.kind == HEADING:
            continue
        runs.setdefault(b.heading_path, []).append(b.text)
    out = []
    for heading, texts in runs.items():
        text = "\n".join(texts)[:max_chars]
        if len(text) >= min_chars:
            out.append((heading or path.stem, text))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--sections-per-file", type=int, default=3)
    ap.add_argument("--per-section", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "train" / "data" / "docs-generated.jsonl")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not args.model.exists():
        sys.exit(f"{args.model}: no such model; assemble it as docs/llm.md says (pytest -m llm) or pass --model")
    from llama_cpp import Llama

    docs = args.data / "docs-corpus" / "docs"
    files = fitting_files(docs, ROOT / "bench" / "docs-questions.yaml")
    rng = random.Random(args.seed)
    llm = Llama(model_path=str(args.model), n_ctx=2048, n_batch=512, seed=args.seed, verbose=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    t0, n = time.time(), 0
    with args.out.open("w") as out:
        for rel in files:
            secs = sections(docs / rel)
            for heading, text in rng.sample(secs, min(args.sections_per_file, len(secs))):
                reply = llm.create_chat_completion(
                    messages=[{"role": "system", "content": SYSTEM},
                              {"role": "user", "content": ASK.format(heading=heading, text=text, n=args.per_section)}],
                    max_tokens=40 * args.per_section, temperature=0.7, seed=args.seed,
                )["choices"][0]["message"]["content"]
                for q, a in _QA.findall(reply)[: args.per_section]:
                    out.write(json.dumps({"question": q, "answer": a, "file": rel, "fold": fold_of(rel, files),
                                          "section": heading}) + "\n")
                    n += 1
                out.flush()
            print(f"{rel}: {n} questions so far, {time.time() - t0:.0f}s", flush=True)
    print(f"wrote {n} questions from {len(files)} files to {args.out} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
