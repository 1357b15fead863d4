"""Docs benchmark: qa-bot over a real documentation folder and over NQ's noisy web pages.

Run from the repository root:

    .venv/bin/python bench/docs.py                    # this tree (8-12 min on 2 busy cores)
    .venv/bin/python bench/docs.py --compare main     # and main, side by side (twice as long)
    .venv/bin/python bench/docs.py --check            # only validate bench/docs-questions.yaml

Options: --data DIR (default ../shared/data beside the checkout), --questions FILE,
--compare REV (a git revision: checked out with `git worktree` into a temporary folder and
measured by this same script in a subprocess with PYTHONPATH=<that checkout>/src; one table holds
both columns), --answerers LIST (default features,reader: QA_BOT_ANSWERER values, each a column of
this tree over the same indexes, the first named "this tree"), --skip-nq, --verbose (every docs question that failed, per column), --json PATH.
Indexes are built in temporary folders and removed.

Docs set (../shared/data/docs-corpus/docs, questions in bench/docs-questions.yaml):
- answerable correct: the answer is not a refusal and its text, `[n]` markers, backticks and
  asterisks dropped, case and whitespace folded, holds one of the question's `expect_any` strings
  (not inside a longer word); also split by where the answer lives (Markdown / HTML or PDF).
- right file cited: the answer is not a refusal and some citation's source is one of the
  question's files (over answerable questions).
- quotes located / quotes at sentence or block start: pooled over every citation of every answer
  that was not a refusal. A quote is located when its words occur, whitespace-insensitively (or
  across end-of-line hyphens), in the cited file's reference text: the raw Markdown; for HTML the
  page text with a blank line at each block element; for a PDF pypdf's text of the cited page.
  It starts at a sentence or block start when, at that place, (1) only whitespace or a blank line
  precedes it, or it begins a line with block markup (list bullet, "1.", "#", ">", "|", a fence,
  "!!!", "===") or right after a fence or heading line; or (2) its first character is upper
  case, a digit or a markup/code opener (` # * - + > | [ ( " ' $ ! < _ ~ {) and the last
  non-space character before it is . ! ? or : (a closing quote or bracket may follow that).
  Markdown: the occurrence nearest the cited line is judged; HTML: any occurrence; PDF: any
  occurrence on the cited page. An unlocated quote counts as not starting well.
- quotes ending at sentence / block end (no target; reported because a quote that stops
  mid-sentence is the other half of the problem): the quote's last character, closing quotes,
  brackets and markup aside, is . ! ? or :, or only whitespace, a blank line or a line opening a
  block (list item, heading, fence, ...) follows it in the reference text.
- unanswerable declined: share of `refuse: true` questions answered with a refusal.
- latency: warm `QAService.answer` per question, p50 / p95; index time and chunk count.

NQ subset (../shared/data/nq-dev-subset: 54 real search queries over 50 whole Wikipedia pages,
written one `<doc_id>.txt` each):
- passage with answer in top 5 (answerable with a gold answer): one of the top 5 retrieved
  passages is from the question's page and overlaps a gold answer span or holds a gold answer
  (SQuAD normalisation). 4 of the 29 answerable questions have no gold answer (NQ marked only a
  long answer, which the subset does not carry): nothing can hit them, so they are left out here.
- answer holds gold (answerable with a gold answer): the answer, `[n]` markers dropped, holds a
  gold answer (SQuAD normalisation, whole words); a refusal counts as a miss.
- refusal precision / recall / F1, positive class "should refuse" (is_impossible).
- bm25-600 column: the issue's reference script, BM25 (bm25s, English stop words and stemming)
  over 600-character chunks (RecursiveCharacterTextSplitter, no overlap); it never refuses and
  gives no answer text, so only its top-5 row is filled.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bm25s
from common import (
    DEFAULT_DATA,
    Question,
    RefusalStats,
    Row,
    contains_gold,
    latency_ms,
    load_articles,
    load_questions,
    metrics_table,
    overlaps,
    strip_markers,
    timed,
    write_corpus,
)
from docscore import DocQuestion, QuoteStatus, holds_gold, load_doc_questions, quote_status, reference_text
from langchain_text_splitters import RecursiveCharacterTextSplitter
from rich.console import Console
from Stemmer import Stemmer

import qa_bot
from qa_bot.service import QAService
from qa_bot.settings import Settings

try:
    from qa_bot.embeddings import make_encoder
    from qa_bot.indexer import Index

    def index_folder(corpus: Path, settings: Settings, encoder):
        return Index(settings, encoder).sync([corpus])
except ImportError:  # a checkout from before the Index object, measured by --compare
    from qa_bot.indexer import sync
    from qa_bot.service import make_encoder
    from qa_bot.store import Store

    def index_folder(corpus: Path, settings: Settings, encoder):
        return sync([corpus], settings, encoder, Store.open(settings))

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = Path(__file__).resolve().with_name("docs-questions.yaml")
BM25_COLUMN = "bm25-600"

Metrics = dict[str, float | None]

DOCS_ROWS = (
    Row("questions", "questions", "{:,.0f}"),
    Row("answerable", "answerable questions", "{:,.0f}"),
    Row("chunks", "chunks indexed", "{:,.0f}"),
    Row("answerable_correct", "answerable correct", target=(">=", 0.85)),
    Row("correct_md", "  answer in Markdown"),
    Row("correct_html_pdf", "  answer in HTML / PDF"),
    Row("right_file", "right file cited", target=(">=", 0.90)),
    Row("answerable_answered", "answerable answered (not refused)"),
    Row("citations", "citations (answered questions)", "{:,.0f}"),
    Row("quote_located", "quotes located in the cited file"),
    Row("quote_start", "quotes at sentence / block start", target=(">=", 0.98)),
    Row("quote_end", "quotes ending at sentence / block end"),
    Row("declined", "unanswerable declined", target=(">=", 0.80)),
    Row("index_s", "index time (s)", "{:.1f}"),
    Row("p50_ms", "warm answer p50 (ms)", "{:.1f}"),
    Row("p95_ms", "warm answer p95 (ms)", "{:.1f}", ("<=", 150.0)),
)
NQ_ROWS = (
    Row("questions", "questions", "{:,.0f}"),
    Row("answerable", "answerable questions", "{:,.0f}"),
    Row("with_gold", "answerable with a gold answer", "{:,.0f}"),
    Row("chunks", "chunks indexed", "{:,.0f}"),
    Row("top5", "passage with answer in top 5", target=(">=", 0.90)),
    Row("answer_gold", "answer holds gold", target=(">=", 0.60)),
    Row("refusal_precision", "refusal precision"),
    Row("refusal_recall", "refusal recall"),
    Row("refusal_f1", "refusal F1", target=(">=", 0.50)),
    Row("answerable_recall", "answerable recall"),
    Row("index_s", "index time (s)", "{:.1f}"),
    Row("p50_ms", "warm answer p50 (ms)", "{:.1f}"),
    Row("p95_ms", "warm answer p95 (ms)", "{:.1f}"),
)


def share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def index_services(corpus: Path, index_dir: Path, answerers: list[str] | None) -> tuple[list[QAService], Metrics]:
    """Index `corpus` once; one service over it per answerer (QA_BOT_ANSWERER value), in order."""
    settings = Settings(_env_file=None, index_dir=index_dir)
    encoder = make_encoder(settings)
    encoder.encode(["warm up"])  # load the model outside the timing
    index_s, report = timed(lambda: index_folder(corpus, settings, encoder))
    # An older checkout (--compare) may predate the answerer setting: None keeps its default.
    updates = [{"answerer": a} for a in answerers] if answerers else [{}]
    services = [QAService(settings.model_copy(update=u), encoder=encoder) for u in updates]
    return services, {"chunks": report.chunks_total, "index_s": index_s}


# -- docs set ------------------------------------------------------------------------------------
def cited_file(source: str) -> Path:
    """A citation's source (shown relative to the working directory when under it) as a path."""
    path = Path(source)
    return path if path.is_absolute() else Path.cwd() / path


def ask_docs(svc: QAService, corpus: Path, questions: list[DocQuestion]) -> list[dict]:
    """Ask every question; one record per question with the checks already applied."""
    svc.answer(questions[0].q)  # warm-up, not timed
    records = []
    for q in questions:
        elapsed, answer = timed(lambda: svc.answer(q.q))
        cites = []
        for c in answer.citations:
            path = cited_file(c.source)
            rel = path.relative_to(corpus).as_posix() if path.is_relative_to(corpus) else str(path)
            status = QuoteStatus(False, False, False)
            if path.is_file():
                status = quote_status(c.quote, path, c.start_line, c.page)
            cites.append({"file": rel, "where": c.location(), "quote": c.quote,
                          "located": status.located, "start_ok": status.starts, "end_ok": status.ends})
        answered = not answer.refused
        records.append({
            "id": q.id, "q": q.q, "kind": q.kind, "source": q.source_kind, "refuse": q.refuse,
            "refused": answer.refused, "confidence": answer.confidence, "text": answer.text, "s": elapsed,
            "correct": answered and not q.refuse and holds_gold(answer.text, q.expect_any),
            "right_file": answered and any(c["file"] in q.files for c in cites),
            "citations": cites,
        })
    return records


def docs_metrics(records: list[dict]) -> Metrics:
    answerable = [r for r in records if not r["refuse"]]
    cites = [c for r in records if not r["refused"] for c in r["citations"]]
    return {
        "questions": len(records),
        "answerable": len(answerable),
        "answerable_correct": share([r["correct"] for r in answerable]),
        "correct_md": share([r["correct"] for r in answerable if r["source"] == "md"]),
        "correct_html_pdf": share([r["correct"] for r in answerable if r["source"] in ("html", "pdf")]),
        "right_file": share([r["right_file"] for r in answerable]),
        "answerable_answered": share([not r["refused"] for r in answerable]),
        "citations": len(cites),
        "quote_located": share([c["located"] for c in cites]),
        "quote_start": share([c["start_ok"] for c in cites]),
        "quote_end": share([c["end_ok"] for c in cites]),
        "declined": share([r["refused"] for r in records if r["refuse"]]),
        **latency_ms([r["s"] for r in records]),
    }


def failures(record: dict) -> list[str]:
    """Why a docs question failed, one phrase per check (empty: it passed every check)."""
    if record["refuse"]:
        return [] if record["refused"] else [f"answered though unanswerable (confidence {record['confidence']:.2f})"]
    if record["refused"]:
        return [f"refused (confidence {record['confidence']:.2f})"]
    out = []
    if not record["correct"]:
        out.append("answer lacks every gold string")
    if not record["right_file"]:
        out.append("gold file not cited")
    for c in record["citations"]:
        where = f"({c['file']} {c['where']}: {c['quote'][:60]!r})"
        if not c["located"]:
            out.append(f"quote not located {where}")
        elif not (c["start_ok"] and c["end_ok"]):
            out.append(f"quote {'starts' if not c['start_ok'] else 'stops'} mid-sentence {where}")
    return out


# -- NQ ------------------------------------------------------------------------------------------
def nq_hit(doc_id: str, start: int, end: int, text: str, q: Question) -> bool:
    return doc_id == q.doc_id and (overlaps(start, end, q.spans) or contains_gold(text, q.answers))


def ask_nq(svc: QAService, questions: list[Question]) -> Metrics:
    top5: list[bool] = []
    holds: list[bool] = []
    seconds: list[float] = []
    refusals = RefusalStats()
    svc.answer(questions[0].question)  # warm-up, not timed
    for q in questions:
        elapsed, answer = timed(lambda: svc.answer(q.question))
        seconds.append(elapsed)
        refusals.add(q.is_impossible, answer.refused)
        if q.is_impossible or not q.answers:
            continue
        passages = svc.retriever.retrieve(q.question, 5)
        top5.append(any(nq_hit(Path(p.chunk.path).stem, p.chunk.start, p.chunk.end, p.chunk.text, q) for p in passages))
        holds.append(not answer.refused and contains_gold(strip_markers(answer.text), q.answers))
    return {
        "questions": len(questions), "answerable": sum(not q.is_impossible for q in questions),
        "with_gold": len(top5), "top5": share(top5), "answer_gold": share(holds),
        **refusals.metrics(), **latency_ms(seconds),
    }


def bm25_baseline(folder: Path, questions: list[Question]) -> Metrics:
    """The issue's reference: BM25 over 600-character chunks, top 5."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=0, add_start_index=True)
    chunks = [(a.doc_id, d.metadata["start_index"], d.page_content)
              for a in load_articles(folder) for d in splitter.create_documents([a.text])]
    stemmer = Stemmer("english")
    bm25 = bm25s.BM25()
    index_s, _ = timed(lambda: bm25.index(
        bm25s.tokenize([text for _, _, text in chunks], stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False))
    answerable = [q for q in questions if not q.is_impossible and q.answers]
    tokens = bm25s.tokenize([q.question for q in answerable], stopwords="en", stemmer=stemmer, show_progress=False)
    ids, _ = bm25.retrieve(tokens, k=5, show_progress=False)
    top5 = [any(nq_hit(d, s, s + len(t), t, q) for d, s, t in (chunks[i] for i in row))
            for q, row in zip(answerable, ids, strict=True)]
    return {"questions": len(questions), "with_gold": len(answerable), "chunks": len(chunks),
            "top5": share(top5), "index_s": index_s}


# -- one column: everything measured with the qa_bot on sys.path -----------------------------------
def measure(data: Path, questions_file: Path, skip_nq: bool, answerers: list[str] | None = None) -> dict:
    """One column per answerer (None: the checkout's default answerer only), keyed by answerer
    name, "default" for None; each column's "docs", "docs_records" and "nq" measured over one
    shared index per corpus."""
    corpus = (data / "docs-corpus" / "docs").resolve()
    questions = load_doc_questions(questions_file)
    names = answerers or ["default"]
    out: dict = {"qa_bot": str(Path(qa_bot.__file__).resolve().parent), "columns": {n: {} for n in names}}
    with tempfile.TemporaryDirectory(prefix="qa-bot-docs-") as tmp:
        tmp_path = Path(tmp)
        print(f"docs set: indexing {corpus} with {out['qa_bot']}", flush=True)
        services, indexing = index_services(corpus, tmp_path / "docs-index", answerers)
        for name, svc in zip(names, services, strict=True):
            records = ask_docs(svc, corpus, questions)
            out["columns"][name].update(docs={**docs_metrics(records), **indexing}, docs_records=records)
        if not skip_nq:
            nq_folder = data / "nq-dev-subset"
            write_corpus(load_articles(nq_folder), tmp_path / "nq-corpus")
            print("NQ subset: indexing", flush=True)
            services, indexing = index_services(tmp_path / "nq-corpus", tmp_path / "nq-index", answerers)
            nq_questions = load_questions(nq_folder, sample=False, limit=10**9)
            for name, svc in zip(names, services, strict=True):
                out["columns"][name]["nq"] = {**ask_nq(svc, nq_questions), **indexing}
    return out


def measure_revision(rev: str, args: argparse.Namespace) -> dict:
    """Check out `rev` into a temporary git worktree and run this script against its src/."""
    with tempfile.TemporaryDirectory(prefix="qa-bot-rev-") as tmp:
        checkout, result = Path(tmp) / "checkout", Path(tmp) / "result.json"
        git = ["git", "-C", str(ROOT), "worktree"]
        added = subprocess.run([*git, "add", "--detach", str(checkout), rev], capture_output=True, text=True)
        if added.returncode:
            sys.exit(f"--compare {rev}: cannot check it out: {added.stderr.strip().splitlines()[-1]}")
        try:
            cmd = [sys.executable, __file__, "--emit-json", str(result), "--data", str(args.data),
                   "--questions", str(args.questions), *(["--skip-nq"] if args.skip_nq else [])]
            subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(checkout / "src")}, check=True)
            got = json.loads(result.read_text())
        finally:
            subprocess.run([*git, "remove", "--force", str(checkout)], check=True, capture_output=True)
    if not Path(got["qa_bot"]).is_relative_to(checkout):
        raise RuntimeError(f"--compare {rev}: the subprocess imported qa_bot from {got['qa_bot']}, not the checkout")
    return got


# -- question file check ---------------------------------------------------------------------------
def check_questions(data: Path, questions_file: Path) -> list[str]:
    """Problems in the question file: a gold string missing from one of its files, an `absent`
    string present in the corpus (or its scope), or a listed file that does not exist."""
    corpus = data / "docs-corpus" / "docs"
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    lowered = {p.relative_to(corpus).as_posix(): " ".join(reference_text(p).lower().split()) for p in files}
    problems = []
    for q in load_doc_questions(questions_file):
        for f in q.files:
            if f not in lowered:
                problems.append(f"{q.id}: no such file {f}")
            elif not holds_gold(reference_text(corpus / f), q.expect_any):
                problems.append(f"{q.id}: {f} holds none of {list(q.expect_any)}")
        for s in q.absent:
            found = [f for f, text in lowered.items() if (q.scope in (None, f)) and " ".join(s.lower().split()) in text]
            if found:
                problems.append(f"{q.id}: 'absent' string {s!r} occurs in {', '.join(found)}")
    return problems


def composition(questions: list[DocQuestion]) -> str:
    by_source: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for q in questions:
        key = "unanswerable" if q.refuse else q.source_kind
        by_source[key] = by_source.get(key, 0) + 1
        by_kind[q.kind] = by_kind.get(q.kind, 0) + 1
    fmt = lambda d: ", ".join(f"{k} {v}" for k, v in sorted(d.items()))  # noqa: E731
    return f"{len(questions)} questions; by source: {fmt(by_source)}; by kind: {fmt(by_kind)}"


# -- output ----------------------------------------------------------------------------------------
def print_failures(name: str, records: list[dict], console: Console) -> None:
    console.print(f"[bold]{name}: docs questions that failed a check[/]", highlight=False)
    for r in records:
        problems = failures(r)
        if not problems:
            continue
        answer = " ".join(r["text"].split())[:160]
        head = f"- {r['id']} ({r['kind']}, {r['source']}) {r['q']!r}"
        console.print(f"{head}: {'; '.join(problems)}\n    answer: {answer}",
                      highlight=False, markup=False)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding docs-corpus/ and nq-dev-subset/")
    p.add_argument("--questions", type=Path, default=QUESTIONS, help="the docs question file (YAML)")
    p.add_argument("--compare", metavar="REV", help="also measure this git revision, side by side")
    p.add_argument("--skip-nq", action="store_true", help="skip the NQ subset")
    p.add_argument("--answerers", default="features,reader",
                   help="comma-separated QA_BOT_ANSWERER values, each a column over the same indexes; "
                        "the first is the 'this tree' column")
    p.add_argument("--verbose", action="store_true", help="list every docs question that failed a check")
    p.add_argument("--check", action="store_true", help="only validate the question file against the corpus")
    p.add_argument("--json", type=Path, help="also write every number and per-question record to this file")
    p.add_argument("--emit-json", type=Path, help=argparse.SUPPRESS)  # one column, for --compare's subprocess
    return p.parse_args()


def main() -> None:
    args = parse_args()
    args.data, args.questions = args.data.resolve(), args.questions.resolve()
    console = Console(width=None if sys.stdout.isatty() else 120)
    if not (args.data / "docs-corpus" / "docs").is_dir():
        sys.exit(f"--data {args.data}: no docs-corpus/docs folder there")
    if args.check:
        problems = check_questions(args.data, args.questions)
        console.print(composition(load_doc_questions(args.questions)), highlight=False)
        for line in problems:
            console.print(line, highlight=False, markup=False)
        sys.exit(1 if problems else 0)
    if args.emit_json:
        args.emit_json.write_text(json.dumps(measure(args.data, args.questions, args.skip_nq)))
        return
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    answerers = [a.strip() for a in args.answerers.split(",") if a.strip()]
    here = measure(args.data, args.questions, args.skip_nq, answerers)["columns"]
    columns = {"this tree" if i == 0 else f"this tree: {name}": c for i, (name, c) in enumerate(here.items())}
    if args.compare:
        columns[args.compare] = measure_revision(args.compare, args)["columns"]["default"]
    console.print(composition(load_doc_questions(args.questions)), highlight=False)
    judged = set(columns)
    console.print(metrics_table("docs-corpus questions", DOCS_ROWS, {n: c["docs"] for n, c in columns.items()}, judged))
    if not args.skip_nq:
        nq = {n: c["nq"] for n, c in columns.items()}
        nq_folder = args.data / "nq-dev-subset"
        nq[BM25_COLUMN] = bm25_baseline(nq_folder, load_questions(nq_folder, sample=False, limit=10**9))
        console.print(metrics_table("NQ dev subset", NQ_ROWS, nq, judged))
    if args.verbose:
        for name, c in columns.items():
            print_failures(name, c["docs_records"], console)
    wall_s = time.perf_counter() - started
    console.print(f"total wall time: {wall_s:.0f} s; 1-min load average {load_start:.1f} at start, "
                  f"{os.getloadavg()[0]:.1f} at end on {os.cpu_count()} CPUs", highlight=False)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"wall_s": wall_s, "columns": columns}, indent=1))


if __name__ == "__main__":
    main()
