"""The Q&A feature: /ask, mentions, follow-ups in the bot's threads, and 👍/👎 votes."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from ..embeddings import make_encoder
from ..feedback import Vote, record_vote
from ..followup import remember
from ..schema import Answer
from ..service import QAService
from ..settings import Settings
from .draft import NO_MENTIONS, Draft
from .format import reply_parts
from .lru import LRU
from .pool import AnswerPool, Busy
from .ratelimit import TokenBuckets

log = logging.getLogger(__name__)

NOT_HERE = "I don't answer questions in this channel."
BUSY = "I'm busy with other questions right now; please try again in a minute."
APOLOGY = "Sorry, something went wrong while answering (error id `{}`). Please try again later."
STALE_VOTE = "I no longer have that answer, so I can't record the vote; ask again to rate a fresh one."
THANKS = {"up": "Thanks for the 👍!", "down": "Thanks; this question goes on the list to improve."}

class Services:
    """Which answer service a channel gets: a mapped channel only ever sees its own index."""

    def __init__(self, default: QAService, by_channel: dict[int, QAService] | None = None):
        self.default = default
        self.by_channel = by_channel or {}

    @classmethod
    def load(cls, settings: Settings) -> Services:
        encoder = make_encoder(settings)  # one model in memory, shared by every index
        by_channel = {
            channel: QAService(settings, index_dir=folder, encoder=encoder)
            for channel, folder in settings.discord_channel_indexes.items()
        }
        return cls(QAService(settings, encoder=encoder), by_channel)

    def for_channel(self, channel_id: int | None) -> QAService:
        return self.by_channel.get(channel_id, self.default) if channel_id is not None else self.default


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where one answer goes: its parts, its streamed draft, an apology if it fails."""

    send: Callable[..., Awaitable[discord.Message | None]]
    draft: Callable[..., Awaitable[discord.Message]]
    fail: Callable[[str], Awaitable[Any]]
    typing: Callable[[], AbstractAsyncContextManager[Any]] = nullcontext
    conversation: Any = None  # the thread or DM whose follow-ups this answer resolves


@dataclass(frozen=True, slots=True)
class Posted:
    """An answer the bot posted, kept so a vote on it can be logged with what it rates."""

    answer: Answer
    channel_id: int | None


def home_channel(channel: Any) -> int | None:
    """The channel whose allowlist entry and index apply (a thread's parent); None if unknown."""
    if isinstance(channel, discord.Thread):
        return channel.parent_id
    if isinstance(channel, discord.PartialMessageable) or getattr(channel, "guild", None) is None:
        return None  # an uncached thread or a group DM: its parent cannot be checked
    return channel.id


def strip_mention(content: str, user_id: int) -> str:
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"qa-bot:vote:(?P<vote>up|down)"):
    """👍/👎 under an answer. The custom_id is fixed, so buttons keep working after a restart."""

    def __init__(self, vote: Vote):
        emoji = "👍" if vote == "up" else "👎"
        super().__init__(discord.ui.Button(emoji=emoji, style=discord.ButtonStyle.secondary,
                                           custom_id=f"qa-bot:vote:{vote}"))
        self.vote: Vote = vote

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str]) -> VoteButton:
        return cls(match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(QACog.__cog_name__)
        await cog.on_vote(interaction, self.vote)


def vote_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up"))
    view.add_item(VoteButton("down"))
    return view


class QACog(commands.Cog, name="QA"):
    """Answers questions from the documents, wherever the settings allow."""

    def __init__(self, bot: commands.Bot, settings: Settings, services: Services):
        self.bot = bot
        self.settings = settings
        self.services = services
        self.pool = AnswerPool(settings.discord_workers, settings.discord_queue_size)
        self.buckets = TokenBuckets(settings.discord_rate_per_minute, settings.discord_rate_burst)
        self.conversations: LRU[int, list[tuple[str, str]]] = LRU(1000)  # thread/DM id -> turns
        self.posted: LRU[int, Posted] = LRU(5000)  # message id -> what it answered

    async def cog_unload(self) -> None:
        self.pool.shutdown()

    # -- gates, all before any retrieval ---------------------------------------------------
    def allowed(self, channel: Any) -> bool:
        if isinstance(channel, discord.DMChannel):
            return self.settings.discord_allow_dms
        home = home_channel(channel)
        allowlist = self.settings.discord_channels
        return home is not None and (not allowlist or home in allowlist)

    def check(self, user_id: int, question: str) -> str | None:
        """Why this question is not taken now, or None. Only a taken question costs a token."""
        if not question:
            return "Ask me a question, e.g. `/ask question: What is this document about?`"
        limit = self.settings.discord_max_question_chars
        if len(question) > limit:
            return f"Please keep questions under {limit} characters (yours has {len(question)})."
        wait = self.buckets.take(user_id)
        if wait:
            return f"You're asking faster than I can answer; try again in {math.ceil(wait)} s."
        return None

    # -- /ask ---------------------------------------------------------------------------------
    @app_commands.command(name="ask", description="Ask the documents; the answer cites its sources.")
    @app_commands.describe(question="What you want to know")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        if not self.allowed(interaction.channel):
            return await notice(interaction, NOT_HERE)
        say = partial(notice, interaction)

        async def deliver() -> Delivery:
            await interaction.response.defer(thinking=True)  # Discord's 3-second deadline
            return Delivery(
                send=partial(interaction.followup.send, wait=True, allowed_mentions=NO_MENTIONS),
                draft=partial(interaction.edit_original_response, allowed_mentions=NO_MENTIONS), fail=say)

        await self._answer(interaction.user.id, " ".join(question.split()), home_channel(interaction.channel),
                           [], say, deliver)

    # -- mentions, DMs and follow-ups -------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None:
            return
        channel = message.channel
        in_conversation = isinstance(channel, discord.DMChannel) or (
            isinstance(channel, discord.Thread) and channel.owner_id == me.id
        )
        # Not `me.mentioned_in`: that is also true for @everyone.
        if not (in_conversation or any(u.id == me.id for u in message.mentions)):
            return
        if not self.allowed(channel):
            return  # silently: the bot has no business in this channel
        question = strip_mention(message.content, me.id)

        async def deliver() -> Delivery:
            target = channel if in_conversation else await self.open_thread(message, question)
            send = partial(target.send, allowed_mentions=NO_MENTIONS)
            return Delivery(send=send, draft=send, fail=send, typing=target.typing, conversation=target)

        history = self.conversations.get(channel.id, []) if in_conversation else []
        await self._answer(message.author.id, question, home_channel(channel), history,
                           partial(message.reply, mention_author=False, allowed_mentions=NO_MENTIONS), deliver)

    async def _answer(self, user_id: int, question: str, home: int | None, history: list[tuple[str, str]],
                      say: Callable[[str], Awaitable[Any]], deliver: Callable[[], Awaitable[Delivery]]) -> None:
        """The one way a question is answered, whichever way it came: the per-user gates (told
        through `say`), a worker slot, then `deliver()` opens where the answer goes; the answer
        streams there as a draft and is posted with its vote buttons. Never raises."""
        problem = self.check(user_id, question)
        if problem:
            return await say(problem)
        try:
            slot = self.pool.reserve()
        except Busy:
            return await say(BUSY)
        out: Delivery | None = None
        with slot:
            try:
                out = await deliver()
                draft = Draft(out.draft)
                service = self.services.for_channel(home)
                async with out.typing():
                    answer = await slot.run(partial(service.answer, question, history=history,
                                                    on_token=draft.on_token))
                await self.post(answer, home, out.send, await draft.finish())
            except Exception:
                return await apologize(out.fail if out else say, question)
        if isinstance(out.conversation, (discord.Thread, discord.DMChannel)):
            key = out.conversation.id
            self.conversations[key] = remember(self.conversations.get(key, []), answer)

    async def open_thread(self, message: discord.Message, question: str) -> discord.abc.Messageable:
        """A thread for the answer and its follow-ups; the channel itself where that fails."""
        if isinstance(message.channel, discord.TextChannel):
            try:
                return await message.create_thread(name=question[:100], auto_archive_duration=1440)
            except discord.HTTPException as exc:  # e.g. no Create Public Threads permission
                log.warning("cannot start a thread in channel %s (HTTP %s); answering in the channel",
                            message.channel.id, exc.status)
        return message.channel

    # -- posting and votes ------------------------------------------------------------------
    async def post(self, answer: Answer, home: int | None,
                   send: Callable[..., Awaitable[discord.Message | None]],
                   draft: discord.Message | None = None) -> None:
        """Send the reply in parts; the vote buttons go under the last one. A streamed draft
        message becomes the first part, so the checked answer replaces what the LLM wrote."""
        parts = reply_parts(answer, self.services.for_channel(home).roots)
        for i, part in enumerate(parts):
            extra = {"view": vote_view()} if i == len(parts) - 1 else {}
            if i == 0 and draft is not None:
                message = await draft.edit(content=part, allowed_mentions=NO_MENTIONS, **extra)
            else:
                message = await send(part, **extra)
        # Passages are what makes an Answer big, and a vote does not need them.
        self.posted[message.id] = Posted(replace(answer, passages=[]), home)

    async def on_vote(self, interaction: discord.Interaction, vote: Vote) -> None:
        posted = self.posted.get(interaction.message.id) if interaction.message else None
        if posted is None:
            return await notice(interaction, STALE_VOTE)
        try:
            await asyncio.to_thread(record_vote, self.settings.feedback_log, posted.answer, vote,
                                    posted.channel_id)
            await notice(interaction, THANKS[vote])
        except Exception:
            await apologize(partial(notice, interaction), posted.answer.question)


async def notice(interaction: discord.Interaction, text: str) -> None:
    """A short message only the asker sees."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def apologize(send: Callable[[str], Awaitable[Any]], question: str) -> None:
    """Log the current exception under a fresh id and tell the user that id (call in `except`)."""
    error_id = uuid.uuid4().hex[:8]
    log.exception("answering failed (error id %s) for question %r", error_id, question)
    try:
        await send(APOLOGY.format(error_id))
    except discord.HTTPException:
        log.warning("could not deliver the apology for error id %s", error_id)
