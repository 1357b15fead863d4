"""Cold one-shot `qa-bot ask`: wall and CPU time of whole fresh processes, optionally against a baseline.

    .venv/bin/python bench/cold_ask.py                       # this checkout, over seeds/
    .venv/bin/python bench/cold_ask.py --baseline main       # and main's code, runs interleaved
    .venv/bin/python bench/cold_ask.py --corpus DIR --runs 5 --question "..."

Each version indexes the corpus into its own scratch index (its own code, its own format), runs
one unmeasured `ask` (Python bytecode compiled, files in the page cache), then `--runs` measured
ones, alternating between versions so both see the same machine load. Reported per version:
median wall seconds, median CPU seconds (user + system of the process and its children), peak
RSS; with a baseline also the ratios. Target: median wall <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ChildRun, measure_child  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many countries co-sponsored the resolution?"


@dataclass
class Version:
    name: str
    src: Path
    index_dir: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.src), "QA_BOT_INDEX_DIR": str(self.index_dir)}

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "qa_bot.cli", *args]


def baseline_source(ref: str, into: Path) -> Path:
    """`ref`'s src/ folder, extracted from git."""
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", metavar="GIT_REF", help="also measure this commit's code")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qa-bot-cold-") as tmp:
        scratch = Path(tmp)
        versions = [Version("this checkout", ROOT / "src", scratch / "ix-new")]
        if args.baseline:
            (scratch / "base").mkdir()
            versions.insert(0, Version(f"baseline {args.baseline}", baseline_source(args.baseline, scratch / "base"),
                                       scratch / "ix-base"))
        for v in versions:
            subprocess.run(v.cli("index", str(args.corpus)), env=v.env(), cwd=scratch, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            measure_child(v.cli("ask", args.question), v.env(), scratch)  # warm-up, not counted
        runs: dict[str, list[ChildRun]] = {v.name: [] for v in versions}
        for _ in range(args.runs):
            for v in versions:
                runs[v.name].append(measure_child(v.cli("ask", args.question), v.env(), scratch))

    print(f"cold `qa-bot ask` over {args.corpus}, median of {args.runs} whole-process runs")
    print(f"{'version':<28} {'wall s':>7} {'cpu s':>7} {'peak RSS MiB':>13}")
    medians = {}
    for name, rs in runs.items():
        wall, cpu = statistics.median(r.wall_s for r in rs), statistics.median(r.cpu_s for r in rs)
        medians[name] = (wall, cpu)
        print(f"{name:<28} {wall:>7.2f} {cpu:>7.2f} {max(r.rss_mb for r in rs):>13.0f}")
    if args.baseline:
        (bw, bc), (nw, nc) = medians.values()
        print(f"ratio this/baseline: wall {nw / bw:.2f}, cpu {nc / bc:.2f}")


if __name__ == "__main__":
    main()
