"""A generative answer shown in Discord while the LLM writes it."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

import discord

from .format import LIMIT, safe

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
EDIT_INTERVAL = 1.0  # seconds between edits of a streaming answer (Discord rate-limits edits)


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
