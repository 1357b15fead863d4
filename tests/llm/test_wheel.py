"""A wheel, not the checkout: qa-bot built with `pip wheel` and installed into a fresh virtual
environment must answer with an LLM, its prompts read from inside the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT
from .fake_openai import Reply
from .test_generative import COUNTRIES, good

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv holding only the qa-bot wheel; its dependencies come from this environment."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # setuptools builds in the source tree: keep the checkout clean
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(work / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    [wheel] = (work / "dist").glob("qa_bot-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # A bare path line: the dependencies, but not this environment's editable qa-bot (.pth files
    # in a directory listed this way are not run).
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return python


def test_an_installed_wheel_answers_with_its_packaged_prompts(installed, fake_llm, seed_index, tmp_path):
    fake_llm.add(Reply(good))
    env = {**os.environ, "QA_BOT_INDEX_DIR": str(seed_index), "QA_BOT_LLM": "openai:fake-model",
           "QA_BOT_LLM_BASE_URL": fake_llm.base_url, "PYTHONPATH": ""}
    where = subprocess.run([installed, "-c", "import qa_bot; print(qa_bot.__file__)"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True)
    assert not where.stdout.startswith(str(ROOT))  # the wheel's copy, not the checkout

    done = subprocess.run([installed, "-m", "qa_bot.cli", "ask", "--json", COUNTRIES], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["notice"] is None and "107 countries" in answer["text"] and answer["citations"]
    system = fake_llm.requests[0]["body"]["messages"][0]
    assert system["role"] == "system" and system["content"].strip() == _packaged_system_prompt()


def _packaged_system_prompt() -> str:
    from qa_bot.answer import REFUSAL_TEXT

    return (ROOT / "src" / "qa_bot" / "prompts" / "system.txt").read_text(encoding="utf-8").format(
        refusal=REFUSAL_TEXT).strip()


def test_a_prompts_dir_replaces_packaged_prompts_file_by_file(tmp_path):
    from qa_bot.generative import Prompts

    (tmp_path / "system.txt").write_text("Answer like a pirate. Refuse with: {refusal}\n", encoding="utf-8")
    custom, packaged = Prompts.load(tmp_path), Prompts.load()
    assert custom.system.startswith("Answer like a pirate.") and custom.system != packaged.system
    assert custom.answer.template == packaged.answer.template  # the files it lacks stay packaged
