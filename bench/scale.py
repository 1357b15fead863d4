"""Store and retrieval cost as the corpus grows: embedded Chroma vs a Chroma server.

Synthetic 384-d unit vectors (clustered, like real embeddings) and short synthetic texts stand
in for chunks, so the encoder is not the bottleneck; everything else is qa-bot's own path:
`Store.upsert` / `Store.dense_search` (Chroma, cosine HNSW) and `LexicalIndex` (BM25).
Each (mode, size) runs in a fresh subprocess so RSS is that run's alone.

    .venv/bin/python bench/scale.py                       # 10k and 100k, both modes
    .venv/bin/python bench/scale.py --sizes 10000 --modes embedded

Measured per run: add throughput (chunks/s), dense query p50/p95 (top 40, as the retriever
asks), BM25 build time and query p95, hybrid p95 (dense + BM25 per question), RSS (the bot
process; in server mode also the server's), disk, and in server mode the cost a bot process
pays to rebuild its BM25 from the server's chunks after a sync (fetch + build).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from qa_bot.lexical import LexicalIndex  # noqa: E402
from qa_bot.schema import Chunk  # noqa: E402
from qa_bot.storage import Storage  # noqa: E402

DIM, QUERIES, TOP = 384, 200, 40
P95_BUDGET_MS = 50.0


@dataclass
class Run:
    mode: str
    size: int
    add_per_s: float
    dense_p50_ms: float
    dense_p95_ms: float
    bm25_build_s: float
    bm25_p95_ms: float
    hybrid_p95_ms: float
    bot_rss_mb: float
    server_rss_mb: float | None
    disk_mb: float
    reload_s: float | None  # server mode: fetch committed chunks + build BM25, per bot process


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def synthetic(n: int, start: int, rng: np.random.Generator, centres: np.ndarray, vocab: list[str]):
    """n chunks with vectors near random centres (topics) and 40-word texts drawn per topic."""
    topic = rng.integers(0, len(centres), n)
    vecs = centres[topic] + rng.normal(0, 0.6 / np.sqrt(DIM), (n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    chunks = []
    for i, t in enumerate(topic):
        words = rng.choice(200, 40) + int(t) * 50  # topics share some words, like real documents
        text = " ".join(vocab[w % len(vocab)] for w in words)
        k = start + i
        chunks.append(Chunk(f"c{k}", f"/corpus/doc{k // 20}.txt", text, 0, len(text), 1, 1, None, None))
    return chunks, vecs


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q) * 1000)


def one(mode: str, size: int, url: str | None, work: Path) -> Run:
    rng = np.random.default_rng(size)
    centres = rng.normal(0, 1, (max(size // 200, 10), DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vocab = [f"w{i}x" for i in range(20000)]
    store = Storage(work / f"ix-{size}", url).store
    base_rss = rss_mb()

    t0, all_chunks = time.perf_counter(), []
    for start in range(0, size, 5000):
        chunks, vecs = synthetic(min(5000, size - start), start, rng, centres, vocab)
        store.upsert(chunks, vecs)
        all_chunks += chunks
    add_s = time.perf_counter() - t0

    queries = [c.text for c in all_chunks[:: max(1, size // QUERIES)][:QUERIES]]
    qvecs = synthetic(QUERIES, 0, rng, centres, vocab)[1]
    t0 = time.perf_counter()
    lexical = LexicalIndex.build(all_chunks)
    bm25_build = time.perf_counter() - t0
    dense, lex = [], []
    for vec, text in zip(qvecs, queries):
        t = time.perf_counter()
        store.dense_search(vec, TOP)
        dense.append(time.perf_counter() - t)
        t = time.perf_counter()
        lexical.search(" ".join(text.split()[:8]), TOP)
        lex.append(time.perf_counter() - t)
    hybrid = [d + b for d, b in zip(dense, lex)]

    reload_s = None
    if url:
        del lexical
        t0 = time.perf_counter()
        LexicalIndex.build(store.chunks())
        reload_s = time.perf_counter() - t0
    return Run(
        mode, size, size / add_s, percentile_ms(dense, 50), percentile_ms(dense, 95), bm25_build,
        percentile_ms(lex, 95), percentile_ms(hybrid, 95), rss_mb() - base_rss, None,
        disk_mb(work) if url is None else float("nan"), reload_s,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(mode: str, size: int) -> Run:
    """One run in a fresh subprocess (and, for server mode, a fresh `chroma run`)."""
    work = Path(tempfile.mkdtemp(prefix=f"scale-{mode}-{size}-"))
    server, url = None, None
    try:
        if mode == "server":
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(work / "server"),
                 "--host", "127.0.0.1", "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            time.sleep(3)
        out = subprocess.run(
            [sys.executable, __file__, "--one", mode, str(size), url or "", str(work)],
            capture_output=True, text=True, check=True,
        ).stdout
        run = Run(**json.loads(out.strip().splitlines()[-1]))
        if server is not None:
            run.server_rss_mb = rss_mb(server.pid)
            run.disk_mb = disk_mb(work / "server")
        return run
    finally:
        if server is not None:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


def table(runs: list[Run]) -> str:
    head = ("mode", "chunks", "add/s", "dense p50", "dense p95", "bm25 build", "bm25 p95", "hybrid p95",
            "bot RSS", "server RSS", "disk", "BM25 reload")
    rows = [head] + [(
        r.mode, f"{r.size:,}", f"{r.add_per_s:,.0f}", f"{r.dense_p50_ms:.1f} ms", f"{r.dense_p95_ms:.1f} ms",
        f"{r.bm25_build_s:.1f} s", f"{r.bm25_p95_ms:.1f} ms", f"{r.hybrid_p95_ms:.1f} ms", f"{r.bot_rss_mb:,.0f} MB",
        "-" if r.server_rss_mb is None else f"{r.server_rss_mb:,.0f} MB", f"{r.disk_mb:,.0f} MB",
        "-" if r.reload_s is None else f"{r.reload_s:.1f} s",
    ) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(" | ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows)


def summary(runs: list[Run]) -> list[str]:
    lines = []
    mem_total = int(Path("/proc/meminfo").read_text().split()[1]) / 1024  # MB
    for mode in sorted({r.mode for r in runs}):
        mine = sorted((r for r in runs if r.mode == mode), key=lambda r: r.size)
        ok = [r.size for r in mine if r.hybrid_p95_ms < P95_BUDGET_MS]
        lines.append(f"{mode}: largest measured size with hybrid p95 < {P95_BUDGET_MS:.0f} ms: "
                     + (f"{max(ok):,} chunks" if ok else "none"))
        big, small = mine[-1], mine[0]
        held = big.bot_rss_mb + (big.server_rss_mb or 0)
        base = small.bot_rss_mb + (small.server_rss_mb or 0)
        # The slope between the smallest and largest runs, so fixed start-up memory is not counted.
        per_chunk_kb = ((held - base) / (big.size - small.size) if big.size > small.size else held / big.size) * 1024
        lines.append(f"{mode}: ~{per_chunk_kb:.1f} KB RAM per extra chunk (vectors, HNSW, texts, BM25) "
                     f"-> {mem_total:,.0f} MB RAM holds ~{mem_total * 1024 / per_chunk_kb / 1e6:.1f}M chunks; "
                     f"1M chunks ~ {per_chunk_kb * 1e6 / 2**20:.1f} GB, add ~ {1e6 / big.add_per_s / 60:.0f} min "
                     "(extrapolated linearly)")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated chunk counts")
    ap.add_argument("--modes", default="embedded,server")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "scale.json")
    ap.add_argument("--one", nargs=4, metavar=("MODE", "SIZE", "URL", "WORK"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        mode, size, url, work = args.one
        print(json.dumps(asdict(one(mode, int(size), url or None, Path(work)))))
        return
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        for mode in args.modes.split(","):
            runs.append(measure(mode, size))
            print(f"done {mode} {size:,}", file=sys.stderr, flush=True)
    print(table(runs))
    for line in summary(runs):
        print(line)
    args.out.write_text(json.dumps([asdict(r) for r in runs], indent=1))


if __name__ == "__main__":
    main()
