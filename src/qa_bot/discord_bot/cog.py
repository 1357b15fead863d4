"""The Q&A feature: /ask, mentions, follow-ups in the bot's threads, and 👍/👎 votes."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Generic, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from ..feedback import Vote, record_vote
from ..schema import Answer
from ..service import QAService, make_encoder
from ..settings import Settings
from .format import LIMIT, reply_parts, safe
from .pool import AnswerPool, Busy
from .ratelimit import TokenBuckets

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
MAX_TURNS = 6  # earlier turns a conversation keeps for follow-ups
EDIT_INTERVAL = 1.0  # seconds between edits of a streaming answer (Discord rate-limits edits)
NOT_HERE = "I don't answer questions in this channel."
BUSY = "I'm busy with other questions right now; please try again in a minute."
APOLOGY = "Sorry, something went wrong while answering (error id `{}`). Please try again later."
STALE_VOTE = "I no longer have that answer, so I can't record the vote; ask again to rate a fresh one."
THANKS = {"up": "Thanks for the 👍!", "down": "Thanks; this question goes on the list to improve."}

K = TypeVar("K")
V = TypeVar("V")


class LRU(OrderedDict[K, V], Generic[K, V]):
    """A dict that forgets its least recently written keys beyond `size`."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


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

    # -- /ask -----------------------------------------------------------------------------
    @app_commands.command(name="ask", description="Ask the documents; the answer cites its sources.")
    @app_commands.describe(question="What you want to know")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        question = " ".join(question.split())
        if not self.allowed(interaction.channel):
            return await notice(interaction, NOT_HERE)
        problem = self.check(interaction.user.id, question)
        if problem:
            return await notice(interaction, problem)
        try:
            slot = self.pool.reserve()
        except Busy:
            return await notice(interaction, BUSY)
        home = home_channel(interaction.channel)
        with slot:
            try:
                await interaction.response.defer(thinking=True)  # Discord's 3-second deadline
                draft = Draft(partial(interaction.edit_original_response, allowed_mentions=NO_MENTIONS))
                service = self.services.for_channel(home)
                answer = await slot.run(partial(service.answer, question, on_token=draft.on_token))
                await self.post(answer, home, partial(interaction.followup.send, wait=True,
                                                      allowed_mentions=NO_MENTIONS), await draft.finish())
            except Exception:
                await apologize(partial(notice, interaction), question)

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
        problem = self.check(message.author.id, question)
        if problem:
            return await message.reply(problem, mention_author=False, allowed_mentions=NO_MENTIONS)
        try:
            slot = self.pool.reserve()
        except Busy:
            return await message.reply(BUSY, mention_author=False, allowed_mentions=NO_MENTIONS)
        home = home_channel(channel)
        target = channel
        history = self.conversations.get(channel.id, []) if in_conversation else []
        with slot:
            try:
                if not in_conversation:
                    target = await self.open_thread(message, question)
                service = self.services.for_channel(home)
                draft = Draft(partial(target.send, allowed_mentions=NO_MENTIONS))

                def work() -> Answer:  # a follow-up is made standalone (maybe by the LLM) off the loop too
                    return service.answer(service.condense(question, history), on_token=draft.on_token)

                async with target.typing():
                    answer = await slot.run(work)
                await self.post(answer, home, partial(target.send, allowed_mentions=NO_MENTIONS),
                                await draft.finish())
            except Exception:
                return await apologize(partial(target.send, allowed_mentions=NO_MENTIONS), question)
        if isinstance(target, (discord.Thread, discord.DMChannel)):
            turns = self.conversations.get(target.id, []) + [(answer.question, answer.text)]
            self.conversations[target.id] = turns[-MAX_TURNS:]

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


class Draft:
    """A generative answer shown while the LLM writes it: one message, edited at most once per
    EDIT_INTERVAL. Tokens arrive on a worker thread; Discord is only called from the loop."""

    def __init__(self, create: Callable[..., Awaitable[discord.Message]]):
        self.create = create
        self.loop = asyncio.get_running_loop()
        self.text = ""
        self.message: discord.Message | None = None
        self._task: asyncio.Task | None = None
        self._done = asyncio.Event()
        self._last = -math.inf  # when the draft was last shown

    def on_token(self, token: str) -> None:
        self.loop.call_soon_threadsafe(self._add, token)

    def _add(self, token: str) -> None:
        self.text += token
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._show())

    async def _show(self) -> None:
        shown = None
        while shown != self.text and not self._done.is_set():
            wait = self._last + EDIT_INTERVAL - time.monotonic()
            if wait > 0:
                try:  # finish() ends the wait: the checked answer is ready
                    await asyncio.wait_for(self._done.wait(), wait)
                    return
                except TimeoutError:
                    pass
            shown, self._last = self.text, time.monotonic()
            content = safe(shown)[: LIMIT - 2] + " …"  # a long draft shows its beginning
            try:
                if self.message is None:
                    self.message = await self.create(content=content)
                else:
                    self.message = await self.message.edit(content=content, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:  # a lost draft edit is harmless: the final one counts
                log.warning("could not show the draft answer (HTTP %s)", exc.status)

    async def finish(self) -> discord.Message | None:
        """Stop editing; the message to turn into the checked answer, if one was shown."""
        self._done.set()
        if self._task is not None:
            await self._task
        return self.message


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
