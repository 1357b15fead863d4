"""Start-up: the first questions after the bot says it is ready all get answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from qa_bot.discord_bot import Services
from tests.conftest import ROOT, make_settings

from .fake_discord import user

pytestmark = pytest.mark.asyncio


async def test_a_burst_of_mentions_right_after_start_is_all_answered(fake, start_bot, tmp_path):
    # Indexed by another process, as in production: nothing in this one has opened the store yet.
    docs, index_dir = tmp_path / "docs", tmp_path / "ix"
    docs.mkdir()
    (docs / "keeper.txt").write_text("The lighthouse keeper is called Marguerite Olsen.\n")
    (docs / "ferry.txt").write_text("The ferry to Skellig leaves at nine every morning.\n")
    subprocess.run([sys.executable, "-m", "qa_bot.cli", "--index-dir", str(index_dir), "index", str(docs)],
                   env=os.environ, cwd=ROOT, check=True, capture_output=True, timeout=300)
    settings = make_settings(index_dir, discord_workers=4, discord_queue_size=50)
    await start_bot(Services.load(settings), discord_workers=4, discord_queue_size=50)
    questions = ["What is the name of the lighthouse keeper?", "When does the ferry to Skellig leave?"]
    asked = await asyncio.gather(*(
        fake.say(questions[i % 2], author=user(700 + i % 10, f"user{i % 10}"), mention=True) for i in range(30)
    ))
    replies = await asyncio.gather(*(fake.reply(a, timeout=60) for a in asked))
    texts = [posts[-1].content for posts in replies]
    assert not [t for t in texts if "went wrong" in t]
    assert all(("Olsen" if i % 2 == 0 else "nine") in t for i, t in enumerate(texts))
