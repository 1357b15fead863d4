#!/usr/bin/env bash
# Creates .venv and installs qa-bot with everything its tests need.
# torch==2.13.0 (the CPU build on this machine's disk) goes in first: anything else that
# pulls torch would otherwise fetch a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
[ -x .venv/bin/python ] || python3 -m venv .venv
quiet .venv/bin/python -m pip install -q --upgrade pip
quiet .venv/bin/python -m pip install -q "torch==2.13.0"
quiet .venv/bin/python -m pip install -q -e ".[dev]"
