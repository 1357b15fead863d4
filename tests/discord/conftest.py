"""Fixtures for the Discord tests: a fake Discord on 127.0.0.1 and the real bot pointed at it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import discord
import pytest
import pytest_asyncio
import yarl

from qa_bot.discord_bot import QABot, Services
from qa_bot.indexer import sync
from qa_bot.service import QAService
from qa_bot.storage import Storage
from tests.conftest import make_settings

from .fake_discord import GUILD_ID, FakeDiscord


class SpyService(QAService):
    """The real answer service, recording each question it is asked, a follow-up as it was made
    standalone (and, to stand in for a big index or a bug, optionally slower or failing on a marker)."""

    def __init__(self, *args, delay: float = 0.0, fail_on: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions: list[str] = []
        self.delay = delay
        self.fail_on = fail_on
        self._asking = threading.local()  # which entry of `questions` this thread is answering

    def condense(self, question: str, history):
        standalone = super().condense(question, history)
        self.questions[self._asking.index] = standalone
        return standalone

    def answer(self, question: str, **kwargs):
        self._asking.index = len(self.questions)
        self.questions.append(question)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_on and self.fail_on in question:
            raise RuntimeError("simulated failure inside the answer service")
        return super().answer(question, **kwargs)


def point_discord_py_at(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))


@pytest.fixture
def build_index(tmp_path, encoder):
    """Index a folder of {name: text} documents; returns the index folder."""
    def build(docs: dict[str, str], name: str = "extra") -> Path:
        folder = tmp_path / f"{name}-docs"
        folder.mkdir()
        for file, text in docs.items():
            (folder / file).write_text(text, encoding="utf-8")
        index_dir = tmp_path / f"{name}-index"
        sync([folder], make_settings(index_dir), encoder, Storage(index_dir))
        return index_dir

    return build


@pytest_asyncio.fixture
async def fake(monkeypatch) -> FakeDiscord:
    fake = FakeDiscord()
    await fake.start()
    point_discord_py_at(monkeypatch, fake)
    yield fake
    await fake.stop()
    # Rules no test may break, whatever it is about.
    assert [p.pings for p in fake.posts if p.pings] == [], "a message would have pinged someone"
    assert [p.unfurls for p in fake.posts if p.unfurls] == [], "a link would have unfurled"
    assert fake.violations == [], "the bot broke a Discord rule"


@pytest_asyncio.fixture
async def start_bot(fake, seed_index, encoder, tmp_path):
    """start_bot(services=None, guild_id=GUILD_ID, **settings) -> a connected QABot."""
    running: list[tuple[QABot, asyncio.Task]] = []

    async def start(services: Services | None = None, guild_id: int | None = GUILD_ID, **overrides) -> QABot:
        overrides.setdefault("discord_token", fake.token)
        overrides.setdefault("feedback_log", tmp_path / "feedback.jsonl")
        settings = make_settings(seed_index, **overrides)
        services = services or Services(SpyService(settings, encoder=encoder))
        # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE before
        # `ready`; a fake with one guild has nothing more to send.
        bot = QABot(settings, services, guild_id, guild_ready_timeout=0.05)
        task = asyncio.create_task(bot.start(fake.token))
        running.append((bot, task))
        await fake.wait_ready()
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        return bot

    yield start
    for bot, task in running:
        await asyncio.wait_for(bot.close(), 5)
        await asyncio.wait_for(task, 5)


@contextmanager
def fake_in_thread() -> Iterator[FakeDiscord]:
    """A fake Discord on its own event loop, for code that runs its own (qa_bot.discord_bot.run)."""
    started = threading.Event()
    box: dict = {}

    async def serve() -> None:
        box["fake"], box["loop"], box["stop"] = FakeDiscord(), asyncio.get_running_loop(), asyncio.Event()
        await box["fake"].start()
        started.set()
        await asyncio.wait_for(box["stop"].wait(), 60)
        await box["fake"].stop()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10), "the fake Discord did not start"
    try:
        yield box["fake"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
