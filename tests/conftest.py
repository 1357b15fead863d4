"""Shared fixtures: a real index over seeds/ built once per test session."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa_bot.embeddings import make_encoder
from qa_bot.evaluate import load_cases
from qa_bot.indexer import Index
from qa_bot.service import QAService
from qa_bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_CASES = ROOT / "tests" / "cases" / "seeds.yaml"
# Issue 9's paraphrases of the seed article (each refused once) and a word the answer must hold.
PARAPHRASES = {c.question: c.expect_any[0] for c in load_cases(SEED_CASES) if c.note == "paraphrase"}


def torch_modules_after(code: str) -> list[str]:
    """The torch modules a fresh interpreter has imported after running `code` (a run-time path
    must import none: torch costs seconds and is not needed to answer)."""
    probe = code + "\nimport sys\nprint(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def make_settings(index_dir: Path, **overrides) -> Settings:
    # _env_file=None: a developer's .env must not change what the tests see.
    return Settings(_env_file=None, index_dir=index_dir, **overrides)


@pytest.fixture(scope="session")
def encoder():
    return make_encoder(make_settings(Path("unused")))


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, encoder) -> Path:
    """An index of seeds/, built once; tests must not write to it."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    Index(make_settings(index_dir), encoder).sync([SEEDS])
    return index_dir


@pytest.fixture(scope="session")
def seed_service(seed_index, encoder) -> QAService:
    return QAService(make_settings(seed_index), encoder=encoder)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of seeds/ for tests that edit documents."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder
