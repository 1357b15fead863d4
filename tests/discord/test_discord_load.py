"""Load: 50 questions from 10 users at once; all answered, none lost, heartbeats kept."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from .fake_discord import user

pytestmark = pytest.mark.asyncio

QUESTIONS = [
    "How many countries co-sponsored the resolution?",
    "What did Joe Biden attend?",
    "Which platforms did the UN host between 2019 and 2021?",
    "What is the capital of France?",  # a refusal is an answer too
    "Who led the Group of Governmental Experts?",
]


async def test_fifty_questions_from_ten_users_at_once(fake, start_bot, record_property):
    fake.heartbeat_interval = 0.25  # several beats within the run, so a stalled loop shows
    bot = await start_bot(discord_rate_per_minute=600, discord_rate_burst=10, discord_queue_size=50)
    users = [user(600 + i, f"user{i}") for i in range(10)]
    start = time.monotonic()
    asked = await asyncio.gather(*(
        fake.slash(QUESTIONS[i % 5], author=users[i % 10]) if i % 2 else
        fake.say(QUESTIONS[i % 5], author=users[i % 10], mention=True)
        for i in range(50)
    ))
    replies = await asyncio.gather(*(fake.reply(a, timeout=30) for a in asked))
    wall = time.monotonic() - start

    assert len(replies) == 50
    for question, posts in zip(asked, replies):
        [post] = posts  # one answer each, no "busy" or "too fast"
        assert not post.ephemeral and ("[1]" in post.content or post.content.startswith("Sorry, I could not"))
    assert len(bot.services.default.questions) == 50

    latencies = sorted(posts[-1].t - a.t for a, posts in zip(asked, replies))
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[18]
    beats = [t for t in fake.heartbeats if t >= start - fake.heartbeat_interval]
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    figures = {"answered": len(replies), "questions": 50, "wall_s": round(wall, 3), "p50_ms": round(p50 * 1000),
               "p95_ms": round(p95 * 1000), "heartbeats": len(beats), "max_heartbeat_gap_s": round(max(gaps), 3)}
    record_property("discord_load", figures)
    print(f"\ndiscord load: {figures}")

    # Each beat may come late on a busy machine (timer slack), but none may go missing for long.
    assert len(beats) >= wall / (1.5 * fake.heartbeat_interval) - 1
    assert max(gaps) < fake.heartbeat_interval + 0.5  # the event loop never stalled (on-loop answering: seconds)
    assert bot.latency < 1.0 and len(fake.identifies) == 1  # beats acked, no reconnect
