"""Fuzz the per-file path of `qa-bot index` with thousands of mutated PDF, HTML, Markdown and
text files (tests/fuzzfiles.py) and count the crashes: any error other than a one-line skip.

    .venv/bin/python bench/fuzz.py                 # 3,000 files
    .venv/bin/python bench/fuzz.py --count 10000 --seed 7

Each file goes through `indexer.read_chunks`, exactly what `sync` does with a file's bytes
(extract, then chunk). Exit status 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fuzzfiles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from qa_bot.chunking import make_splitter
    from qa_bot.embeddings import Encoder
    from qa_bot.indexer import read_chunks
    from qa_bot.ingest import IngestError
    from qa_bot.settings import Settings
    from tests.fuzzfiles import cases

    settings = Settings(_env_file=None)
    encoder = Encoder(settings.embed_backend, settings.model_cache_dir, settings.embed_batch_size)
    splitter = make_splitter(encoder.count_tokens, settings.chunk_tokens)
    tally: Counter = Counter()
    crashes: list[str] = []
    slowest = (0.0, "")
    started = time.perf_counter()
    for i, (suffix, data) in enumerate(cases(args.count, args.seed)):
        t0 = time.perf_counter()
        try:
            read_chunks(Path(f"case{i}{suffix}"), data, splitter)
            tally[suffix, "indexed"] += 1
        except IngestError as exc:
            tally[suffix, "skipped"] += 1
            if "\n" in str(exc):
                crashes.append(f"case {i} ({suffix}): a skip reason of several lines")
        except Exception as exc:  # noqa: BLE001 - what this bench counts
            crashes.append(f"case {i} ({suffix}): {type(exc).__name__}: {exc}")
        slowest = max(slowest, (time.perf_counter() - t0, f"case {i} ({suffix})"))
    elapsed = time.perf_counter() - started

    print(f"{args.count} mutated files (seed {args.seed}) in {elapsed:.1f} s; "
          f"slowest {slowest[0] * 1000:.0f} ms ({slowest[1]})")
    for suffix in sorted({s for s, _ in tally}):
        print(f"  {suffix:6} {tally[suffix, 'indexed']:5d} indexed, {tally[suffix, 'skipped']:5d} skipped")
    print(f"crashes: {len(crashes)}")
    for line in crashes[:20]:
        print(f"  {line}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
