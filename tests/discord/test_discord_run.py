"""`qa-bot discord` start-up failures: one clear line, a non-zero exit, never the token."""

from __future__ import annotations

import logging

import discord
import yarl

from qa_bot.discord_bot import run
from tests.conftest import make_settings

from .conftest import fake_in_thread

SECRET = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"


def test_missing_token_is_one_line_and_exit_2(seed_index, capsys):
    assert run(make_settings(seed_index)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "qa-bot: error: no Discord bot token: set DISCORD_TOKEN in the environment or in .env\n"


def test_rejected_token_is_one_line_exit_2_and_never_shown(seed_index, capsys, caplog, monkeypatch):
    with fake_in_thread() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
        with caplog.at_level(logging.DEBUG):
            code = run(make_settings(seed_index, discord_token=SECRET))
        [(_, method, path, _)] = fake.requests
    assert code == 2 and (method, path) == ("GET", "/api/v10/users/@me")  # Discord said 401
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("qa-bot: error: Discord rejected the bot token")
    shown = out + err + caplog.text + "".join(str(r.args) for r in caplog.records)
    pieces = {SECRET[i:i + 6] for i in range(len(SECRET) - 5)}
    assert not [p for p in pieces if p in shown]  # not even partially
