"""The bot end to end: the real discord.py client against the fake Discord."""

from __future__ import annotations

import json
import logging
import re

import pytest

from qa_bot.discord_bot import Services
from qa_bot.discord_bot.bot import intents
from qa_bot.discord_bot.format import LIMIT

from tests.conftest import make_settings as make_settings_for

from .conftest import SpyService
from .fake_discord import ALICE, BOB, DM_CHANNEL, DOCS_B, GENERAL, GUILD_ID, MESSAGE_CONTENT, OFF_LIMITS

pytestmark = pytest.mark.asyncio

COUNTRIES = "How many countries co-sponsored the resolution?"


def spy(bot) -> SpyService:
    return bot.services.default


async def settle(fake, bot) -> None:
    """Everything the bot was going to do about earlier events is done: it answers in order,
    so once a later question is answered, an ignored one would have shown by now."""
    asked = await fake.slash("Who led the Group of Governmental Experts?", author=BOB)
    await fake.reply(asked)


async def test_mention_gets_a_threaded_reply_with_sources(fake, start_bot):
    bot = await start_bot()
    asked = await fake.say(COUNTRIES, mention=True)
    [post] = await fake.reply(asked)

    thread = fake.threads[asked.message_id]  # a thread started from the question
    assert int(thread["parent_id"]) == GENERAL and thread["name"] == COUNTRIES
    assert post.where == int(thread["id"])
    typing = [t for t, method, path, _ in fake.requests if path.endswith(f"/channels/{thread['id']}/typing")]
    assert typing and typing[0] < post.t  # "typing…" showed while answering
    text, sources = post.content.split("\n\n**Sources**\n")
    assert "107 countries" in text and text.rstrip().endswith("]")
    assert re.match(r"\[1\] 000\\_a9a644aeed6d5ccb\.txt, lines? \d", sources)  # relative to seeds/
    assert post.payload["allowed_mentions"]["parse"] == []
    assert post.custom_ids == ["qa-bot:vote:up", "qa-bot:vote:down"]
    assert spy(bot).questions == [COUNTRIES]  # the mention itself is not part of the question


async def test_slash_command_is_deferred_then_followed_up(fake, start_bot):
    bot = await start_bot()
    assert any(path == f"/api/v10/applications/800/guilds/{GUILD_ID}/commands" for _, _, path, _ in fake.requests)
    asked = await fake.slash(COUNTRIES)
    [post] = await fake.reply(asked)

    inter = fake.interactions[asked.where]
    assert inter.acked == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "qa-bot is thinking…"
    assert inter.acked_at - inter.created < 1.0 and inter.acked_at < post.t
    assert post.via == "webhook" and not post.ephemeral
    assert "107 countries" in post.content and "**Sources**" in post.content
    assert post.payload["allowed_mentions"]["parse"] == []
    assert spy(bot).questions == [COUNTRIES]


async def test_global_sync_without_a_guild(fake, start_bot):
    await start_bot(guild_id=None)
    assert [path for _, method, path, _ in fake.requests if method == "PUT"] == [
        "/api/v10/applications/800/commands"
    ]
    assert fake.commands["ask"]["options"][0]["name"] == "question"


async def test_slow_answer_still_meets_the_interaction_deadline(fake, start_bot, seed_index, encoder):
    fake.interaction_deadline = 0.4
    slow = SpyService(make_settings_for(seed_index), encoder=encoder, delay=0.8)
    await start_bot(services=Services(slow))
    asked = await fake.slash(COUNTRIES)
    [post] = await fake.reply(asked)
    assert fake.interactions[asked.where].acked == 5
    assert "107 countries" in post.content  # answered after 0.8 s although the deadline is 0.4 s


async def test_long_answer_is_split_between_sentences_and_source_lines(fake, start_bot, build_index, encoder):
    filler = ("while the committee reviewed the accounts, the auditors checked every ledger line, the "
              "treasurer signed the statement, and the board approved the minutes of the annual meeting")
    doc = "\n".join(f"In year {2000 + i} the Quillon river fund paid {10 + i} million crowns to the harbour "
                    f"trust, {filler}, as the river fund report for {2000 + i} records." for i in range(14))
    index = build_index({"fund.txt": doc})
    settings = make_settings_for(index, max_answer_sentences=14, top_k=14)
    await start_bot(services=Services(SpyService(settings, encoder=encoder)), max_answer_sentences=14)
    asked = await fake.slash("How much did the Quillon river fund pay to the harbour trust?")
    posts = await fake.reply(asked)

    assert len(posts) >= 3 and all(len(p.content) <= LIMIT for p in posts)
    assert [bool(p.custom_ids) for p in posts] == [False] * (len(posts) - 1) + [True]
    answer_text, sources = "\n".join(p.content for p in posts).split("**Sources**\n")
    markers = re.findall(r"\[(\d+)\]", answer_text)
    assert len(markers) >= 8 and markers == [str(n) for n in range(1, len(markers) + 1)]
    for p in posts:
        assert not re.search(r"\[\d*$|^\d*\]", p.content)  # no marker cut at either end
    for line in sources.splitlines():  # every source line whole: number, file, place, full quote
        assert re.fullmatch(r"\[\d+\] .*fund\.txt, line \d+: “.*”", line), line
    assert len(sources.splitlines()) == len(markers)


async def test_hostile_markdown_links_and_paths_in_documents_stay_inert(fake, start_bot, build_index, encoder):
    """Issue 11 items 8 and 10, through the real bot: no masked link, no unfurl, no server path."""
    doc = ("# Ferry **times** [see](<https://evil.example/heading>)\n\n"
           "The Quillon ferry leaves at 9 [docs](<https://evil.example/masked>) from pier __4__, "
           "timetable at HTTPS://Ferry.example/times, chat at discord.gg/quillon.\n")
    index = build_index({"ferry_[x](y).md": doc})
    await start_bot(services=Services(SpyService(make_settings_for(index), encoder=encoder)))
    asked = await fake.slash("When does the Quillon ferry leave?")
    [post] = await fake.reply(asked)

    assert "leaves at 9" in post.content and "**Sources**\n[1] " in post.content
    assert not re.search(r"(?<!\\)\]\(", post.content), post.content  # no masked link anywhere
    assert str(index.parent) not in post.content and "extra-docs" not in post.content
    assert "[1] ferry\\_[x]\\(y).md" in post.content  # named inside its folder, escaped
    assert "<https://discord.gg/quillon>" in post.content and post.unfurls == []


async def test_mentions_in_documents_and_questions_never_ping(fake, start_bot, build_index, encoder):
    doc = ("Release notes for the Zorblat festival.\n"
           "The Zorblat festival opens on 3 March; @everyone and @here are invited, organiser <@123> "
           "and the <@&456> crew will be there, tickets at https://zorblat.example/tickets.\n")
    index = build_index({"zorblat.txt": doc})
    settings = make_settings_for(index)
    await start_bot(services=Services(SpyService(settings, encoder=encoder)))
    asked = await fake.say("@everyone when does the Zorblat festival open?", mention=True)
    [post] = await fake.reply(asked)

    assert "@everyone" in post.content and "<@123>" in post.content and "<@&456>" in post.content
    assert post.payload["allowed_mentions"]["parse"] == []
    assert post.pings == [] and post.unfurls == []
    assert "<https://zorblat.example/tickets>" in post.content


async def test_rate_limit_per_user_with_a_clear_private_message(fake, start_bot):
    bot = await start_bot(discord_rate_burst=2, discord_rate_per_minute=1)
    for _ in range(2):
        await fake.reply(await fake.slash(COUNTRIES))
    limited = await fake.slash(COUNTRIES)
    [post] = await fake.wait_for(lambda: fake.posts_to(limited) or None)
    assert post.via == "callback" and post.ephemeral
    assert re.fullmatch(r"You're asking faster than I can answer; try again in \d+ s\.", post.content)
    assert fake.interactions[limited.where].acked == 4

    mention = await fake.say(COUNTRIES, mention=True)  # the same user, another way in
    [post] = await fake.wait_for(lambda: fake.posts_to(mention) or None)
    assert post.content.startswith("You're asking faster") and post.payload["allowed_mentions"]["parse"] == []
    assert asked_not_threaded(fake, mention)

    await fake.reply(await fake.slash(COUNTRIES, author=BOB))  # others are not affected
    assert len(spy(bot).questions) == 3


async def test_question_length_limit(fake, start_bot):
    bot = await start_bot(discord_max_question_chars=40)
    asked = await fake.slash("x" * 41)
    [post] = await fake.wait_for(lambda: fake.posts_to(asked) or None)
    assert post.ephemeral and "under 40 characters (yours has 41)" in post.content
    assert spy(bot).questions == []


async def test_a_429_from_discord_is_retried(fake, start_bot):
    await start_bot()
    fake.rate_limit_next("POST", r"/channels/\d+/messages$", retry_after=0.3)
    asked = await fake.say(COUNTRIES, mention=True)
    [post] = await fake.reply(asked)
    tries = [t for t, method, path, _ in fake.requests if method == "POST" and path.endswith("/messages")]
    assert len(tries) == 2 and tries[1] - tries[0] >= 0.3
    assert "107 countries" in post.content


async def test_channel_not_allowlisted_means_no_retrieval(fake, start_bot):
    bot = await start_bot(discord_channels=[GENERAL])
    quiet = await fake.say(COUNTRIES, channel_id=OFF_LIMITS, mention=True)
    refused = await fake.slash(COUNTRIES, channel_id=OFF_LIMITS)
    [post] = await fake.wait_for(lambda: fake.posts_to(refused) or None)
    assert post.ephemeral and post.content == "I don't answer questions in this channel."

    await settle(fake, bot)  # in GENERAL, which is allowed
    assert spy(bot).questions == ["Who led the Group of Governmental Experts?"]
    assert fake.posts_to(quiet) == [] and quiet.message_id not in fake.threads
    assert not [p for _, _, p, _ in fake.requests if f"/channels/{OFF_LIMITS}/" in p]


async def test_a_mapped_channel_only_sees_its_own_documents(fake, start_bot, seed_index, build_index, encoder):
    zorblat = build_index({"zorblat.txt": "The Zorblat festival opens on 3 March in Quenton harbour.\n"})
    default = SpyService(make_settings_for(seed_index), encoder=encoder)
    mapped = SpyService(make_settings_for(zorblat), encoder=encoder)
    await start_bot(services=Services(default, {DOCS_B: mapped}))

    [in_b] = await fake.reply(await fake.slash("When does the Zorblat festival open?", channel_id=DOCS_B))
    [seed_in_b] = await fake.reply(await fake.slash(COUNTRIES, channel_id=DOCS_B))
    [in_general] = await fake.reply(await fake.slash("When does the Zorblat festival open?"))

    assert "3 March" in in_b.content and "zorblat.txt" in in_b.content
    assert seed_in_b.content.startswith("Sorry, I could not find")  # the seed document is not there
    assert "107" not in seed_in_b.content
    assert in_general.content.startswith("Sorry, I could not find")
    assert mapped.questions == ["When does the Zorblat festival open?", COUNTRIES]
    assert default.questions == ["When does the Zorblat festival open?"]

    # A thread inherits its parent's documents, whichever way it is asked in.
    started = await fake.say("Where does the Zorblat festival open?", channel_id=DOCS_B, mention=True, author=BOB)
    [in_thread] = await fake.reply(started)
    thread_id = int(fake.threads[started.message_id]["id"])
    in_thread_slash = await fake.slash("When does the Zorblat festival open?", channel_id=thread_id, author=BOB)
    [slash_in_thread] = await fake.reply(in_thread_slash)
    assert "Quenton" in in_thread.content and "3 March" in slash_in_thread.content
    assert len(mapped.questions) == 4 and len(default.questions) == 1


async def test_follow_up_in_the_bot_thread_is_resolved(fake, start_bot):
    bot = await start_bot()
    assert fake.identifies[-1]["intents"] & MESSAGE_CONTENT == MESSAGE_CONTENT == intents().value & MESSAGE_CONTENT
    first = await fake.say("What did Joe Biden attend?", mention=True)
    await fake.reply(first)
    thread_id = int(fake.threads[first.message_id]["id"])

    follow = await fake.say("When was it?", channel_id=thread_id)  # no mention needed in the thread
    [post] = await fake.reply(follow)

    assert spy(bot).questions == ["What did Joe Biden attend?", "When was it? (Joe Biden, attend)"]
    assert post.where == thread_id and "Wednesday night" in post.content and "[1]" in post.content
    assert len(fake.threads) == 1  # the follow-up did not start another thread


async def test_messages_that_are_not_for_the_bot_are_ignored(fake, start_bot):
    bot = await start_bot(discord_allow_dms=False)
    await fake.say("@everyone lunch?")  # @everyone is not a mention of the bot
    await fake.say(COUNTRIES, channel_id=DM_CHANNEL)  # DMs are off by default
    await settle(fake, bot)
    assert spy(bot).questions == ["Who led the Group of Governmental Experts?"]
    assert not [p for p in fake.posts if p.where in (GENERAL, DM_CHANNEL)]


async def test_dms_when_allowed(fake, start_bot):
    await start_bot(discord_allow_dms=True)
    [post] = await fake.reply(await fake.say(COUNTRIES, channel_id=DM_CHANNEL))
    assert "107 countries" in post.content and post.payload["allowed_mentions"]["parse"] == []


async def test_votes_are_logged_without_user_and_survive_a_restart(fake, start_bot, tmp_path):
    await start_bot()
    [answer] = await fake.reply(await fake.say(COUNTRIES, mention=True, author=ALICE))
    click = await fake.click(answer, "qa-bot:vote:down", author=BOB)
    [thanks] = await fake.wait_for(lambda: fake.posts_to(click) or None)
    assert thanks.ephemeral and "Thanks" in thanks.content

    [line] = (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    vote = json.loads(line)
    assert vote["vote"] == "down" and vote["question"] == COUNTRIES and vote["channel_id"] == GENERAL
    assert "107 countries" in vote["answer"] and vote["citations"][0]["quote"]
    for who in (ALICE, BOB):
        assert who["id"] not in line and who["username"] not in line

    await start_bot()  # a fresh process: the old message's buttons still get an answer
    click = await fake.click(answer, "qa-bot:vote:up")
    [stale] = await fake.wait_for(lambda: fake.posts_to(click) or None)
    assert stale.ephemeral and "no longer have that answer" in stale.content


async def test_an_error_gets_an_apology_with_an_id_and_the_bot_keeps_going(fake, start_bot, seed_index,
                                                                            encoder, caplog):
    broken = SpyService(make_settings_for(seed_index), encoder=encoder, fail_on="kaboom")
    await start_bot(services=Services(broken))
    with caplog.at_level(logging.ERROR, logger="qa_bot"):
        failed = await fake.slash("kaboom: how many countries?")
        [apology] = await fake.wait_for(lambda: fake.posts_to(failed) or None)
        error_id = re.fullmatch(r"Sorry, something went wrong while answering \(error id `([0-9a-f]{8})`\)\. "
                                r"Please try again later\.", apology.content)[1]
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info and "simulated failure" in str(record.exc_info[1])

    [post] = await fake.reply(await fake.slash(COUNTRIES))
    assert "107 countries" in post.content


async def test_a_full_queue_answers_busy(fake, start_bot, seed_index, encoder):
    slow = SpyService(make_settings_for(seed_index), encoder=encoder, delay=0.5)
    await start_bot(services=Services(slow), discord_workers=1, discord_queue_size=1)
    first, second, third = [await fake.slash(COUNTRIES, author=user) for user in (ALICE, BOB, {**ALICE, "id": "503"})]
    [busy] = await fake.wait_for(lambda: fake.posts_to(third) or None)
    assert busy.ephemeral and busy.content.startswith("I'm busy with other questions")
    for asked in (first, second):
        [post] = await fake.reply(asked)
        assert "107 countries" in post.content
    assert len(slow.questions) == 2


def asked_not_threaded(fake, asked) -> bool:
    return asked.message_id not in fake.threads
