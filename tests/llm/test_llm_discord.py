"""The Discord bot with an LLM backend: the answer streams into one message, edited at most
about once a second, and ends as the checked answer with its sources and vote buttons."""

from __future__ import annotations

import pytest

from qa_bot.discord_bot import Services
from tests.conftest import make_settings
from tests.discord.conftest import SpyService, build_index, fake, start_bot  # noqa: F401  (fixtures)

from .fake_openai import Reply
from .test_generative import COUNTRIES, good

pytestmark = pytest.mark.asyncio

# ~40 words at 0.05 s: about 2 s of streaming, which unthrottled would be ~40 edits.
PADDED = "Apart from Russia and the US, 107 countries have co-sponsored the document, " + \
         "and reports suggest that the First Committee of the 76th session of the UNGA has adopted " + \
         "a draft resolution on international information security by consensus [{n}]."


def padded(body: dict) -> str:
    from .conftest import passage_with

    return PADDED.format(n=passage_with(body, "107 countries"))


async def llm_bot(start_bot, fake_llm, seed_index, encoder):
    settings = make_settings(seed_index, llm="openai:fake-model", llm_base_url=fake_llm.base_url)
    return await start_bot(services=Services(SpyService(settings, encoder=encoder)))


def assert_throttled(edits) -> None:
    gaps = [b.t - a.t for a, b in zip(edits, edits[1:-1])]  # the final edit may follow at once
    assert all(g >= 0.9 for g in gaps), gaps


async def test_mention_streams_into_one_message_then_shows_the_checked_answer(
        fake, start_bot, fake_llm, seed_index, encoder):
    await llm_bot(start_bot, fake_llm, seed_index, encoder)
    fake_llm.add(Reply(padded, chunk_delay=0.05))
    asked = await fake.say(COUNTRIES, mention=True)
    posts = await fake.reply(asked, timeout=20)

    [created] = [p for p in posts if p.via == "channel"]
    edits = [p for p in posts if p.via == "edit"]
    assert all(int(e.message["id"]) == int(created.message["id"]) for e in edits)  # one message throughout
    assert created.content.endswith(" …") and 2 <= len(edits) <= 5
    assert any(e.content.endswith(" …") for e in edits[:-1])  # drafts in between
    assert_throttled([created] + edits)
    final = edits[-1]
    assert final.custom_ids == ["qa-bot:vote:up", "qa-bot:vote:down"]
    assert final.content.startswith("Apart from Russia and the US, 107 countries") and "**Sources**\n[1]" in final.content
    assert " …" not in final.content


async def test_slash_command_streams_into_the_original_response(fake, start_bot, fake_llm, seed_index, encoder):
    await llm_bot(start_bot, fake_llm, seed_index, encoder)
    fake_llm.add(Reply(good, chunk_delay=0.05))
    asked = await fake.slash(COUNTRIES)
    posts = await fake.reply(asked, timeout=20)

    assert {p.via for p in posts} == {"edit"}  # the deferred response itself, no extra message
    assert len({int(p.message["id"]) for p in posts}) == 1
    assert "107 countries" in posts[-1].content and posts[-1].custom_ids
    assert_throttled(posts)


async def test_failing_backend_posts_the_extractive_answer_with_a_notice(
        fake, start_bot, fake_llm, seed_index, encoder):
    await llm_bot(start_bot, fake_llm, seed_index, encoder)
    fake_llm.add(Reply(status=500))
    [post] = await fake.reply(await fake.say(COUNTRIES, mention=True), timeout=20)
    assert post.via == "channel" and "107 countries" in post.content and "**Sources**" in post.content
    assert post.content.rstrip().splitlines()[-1].startswith("-# The language model (openai:fake-model) failed")
