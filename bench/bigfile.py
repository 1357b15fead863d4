"""Reading and chunking one big text file: MB/s, and whether the time grows linearly with size.

    .venv/bin/python bench/bigfile.py                    # 1, 4 and 50 MB
    .venv/bin/python bench/bigfile.py --sizes 1 4 16

The file is prose made from the seed article's paragraphs, repeated with a counter so no two are
the same. Timed: what `qa-bot index` does with the file before embedding (read, extract, split
into chunks, each with its line numbers: `ingest.load`, then `chunking.chunk_document`). Embedding is measured
by bench/squad.py (chunks/s); a 50 MB file is ~60k chunks, about 10 minutes of embedding there.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_text(path: Path, megabytes: float) -> None:
    paragraphs = [p for p in (ROOT / "seeds" / "000_a9a644aeed6d5ccb.txt").read_text().split("\n\n") if p.strip()]
    target, out, i = int(megabytes * 1_000_000), [], 0
    size = 0
    while size < target:
        piece = f"{i}. {paragraphs[i % len(paragraphs)]}\n\n"
        out.append(piece)
        size += len(piece.encode())
        i += 1
    path.write_text("".join(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 4, 50], help="file sizes in MB")
    args = parser.parse_args()

    from qa_bot.chunking import chunk_document, make_splitter
    from qa_bot.embeddings import Encoder
    from qa_bot.ingest import load
    from qa_bot.settings import Settings

    settings = Settings(_env_file=None)
    encoder = Encoder(settings.embed_backend, settings.model_cache_dir, settings.embed_batch_size)
    print(f"{'MB':>6} | {'chunks':>7} | {'seconds':>7} | {'MB/s':>6} | s per MB")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.sizes:
            path = Path(tmp) / f"big-{mb:g}.txt"
            write_text(path, mb)
            splitter = make_splitter(encoder.count_tokens, settings.chunk_tokens)  # a fresh token cache
            t0 = time.perf_counter()
            chunks = chunk_document(load(path), splitter)
            elapsed = time.perf_counter() - t0
            real = path.stat().st_size / 1e6
            print(f"{real:6.1f} | {len(chunks):7d} | {elapsed:7.2f} | {real / elapsed:6.2f} | {elapsed / real:.3f}")
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
