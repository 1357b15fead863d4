"""`qa-bot discord`: the bot, its start-up, and the one-line failures a user can fix."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp
import discord
from discord.ext import commands

from ..reader import ReaderError
from ..settings import Settings
from ..store import StoreError
from .cog import NO_MENTIONS, QACog, Services, VoteButton

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Only what the bot reads. Message content is privileged; without it, messages that do
    not mention the bot (follow-ups in its threads) arrive blank."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    return wanted


class QABot(commands.Bot):
    def __init__(self, settings: Settings, services: Services, guild_id: int | None = None, **options):
        super().__init__(command_prefix=commands.when_mentioned, help_command=None, intents=intents(),
                         allowed_mentions=NO_MENTIONS, **options)
        self.settings = settings
        self.services = services
        self.guild_id = guild_id

    async def setup_hook(self) -> None:
        await self.add_cog(QACog(self, self.settings, self.services))
        self.add_dynamic_items(VoteButton)  # votes on answers posted before a restart still land
        guild = discord.Object(self.guild_id) if self.guild_id else None
        if guild:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:  # mentions still work; say why /ask will not
            log.error("could not sync /ask%s (HTTP %s: %s); was the bot invited with the "
                      "applications.commands scope?", f" to guild {self.guild_id}" if guild else "",
                      exc.status, exc.text)
        else:
            log.info("synced %s to %s", ", ".join(f"/{c.name}" for c in synced),
                     f"guild {self.guild_id}" if guild else "all guilds (may take up to an hour)")

    async def on_message(self, message: discord.Message) -> None:
        """Questions are not prefix commands: the Q&A cog reads messages itself."""


def run(settings: Settings, guild_id: int | None = None) -> int:
    """Run the bot until stopped; the process exit code."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        return fail("no Discord bot token: set DISCORD_TOKEN in the environment or in .env")
    try:
        services = Services.load(settings)
    except (StoreError, ReaderError) as exc:
        return fail(str(exc))
    if not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.INFO, root=True)
    try:
        asyncio.run(serve(QABot(settings, services, guild_id), token))
    except discord.LoginFailure:
        return fail("Discord rejected the bot token in DISCORD_TOKEN; copy a fresh one from the "
                    "Developer Portal (Bot > Reset Token)")
    except discord.PrivilegedIntentsRequired:
        return fail("enable the Message Content Intent for the bot in the Developer Portal (Bot page)")
    except (aiohttp.ClientError, OSError) as exc:
        return fail(f"cannot reach Discord ({exc.__class__.__name__})")
    except KeyboardInterrupt:
        pass
    return 0


async def serve(bot: QABot, token: str) -> None:
    async with bot:
        await bot.start(token)


def fail(message: str) -> int:
    print(f"qa-bot: error: {message}", file=sys.stderr)
    return 2
