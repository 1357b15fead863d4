"""The fake must catch what Discord rejects, or the bot tests prove nothing."""

from __future__ import annotations

import aiohttp
import pytest

from .fake_discord import GENERAL

pytestmark = pytest.mark.asyncio


async def test_fake_enforces_discord_rules(fake):
    auth = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.api_base}/channels/{GENERAL}/messages", json={"content": "x" * 2001},
                             headers=auth) as r:
            assert r.status == 400 and (await r.json())["code"] == 50035
            assert r.headers["Content-Type"] == "application/json"
        async with http.post(f"{fake.api_base}/webhooks/800/unknown", json={"content": "hi"}) as r:
            assert r.status == 404 and (await r.json())["code"] == 10015
        async with http.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot wrong"}) as r:
            assert r.status == 401
        async with http.post(f"{fake.api_base}/channels/{GENERAL}/messages", headers=auth,
                             json={"content": "@everyone see https://example.com/x and <@5>"}) as r:
            assert r.status == 200
        async with http.post(f"{fake.api_base}/channels/{GENERAL}/messages", headers=auth,
                             json={"content": "@everyone <@5>", "allowed_mentions": {"parse": ["users"]}}) as r:
            assert r.status == 200
    assert len(fake.violations) == 2
    assert fake.posts[-2].pings == ["@everyone", "user 5"] and fake.posts[-2].unfurls == ["https://example.com/x"]
    assert fake.posts[-1].pings == ["user 5"]
    # Leave the fake clean for its own teardown checks.
    fake.violations.clear()
    fake.posts.clear()
