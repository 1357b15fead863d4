"""A small Discord on 127.0.0.1 for the real, unmodified discord.py client.

REST routes and a websocket gateway, enough for qa-bot: login, command sync, messages,
typing, threads, interactions and webhook follow-ups. It enforces the Discord rules the bot
must respect and records what the bot did, so tests assert on what reached "Discord":

* content over 2,000 characters -> 400 / 50035; an empty message -> 400 / 50006;
* the initial interaction response after the deadline (3 s) -> 404 / 10062, a second one
  -> 400 / 40060, a follow-up before any response -> 404 / 10015;
* without the message-content intent, messages that do not mention the bot arrive blank;
* a slash command only arrives if the bot registered it;
* each post records whom it would have pinged and which links would unfurl.

Every wait has a timeout; `stop()` closes the gateway and the server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")

MESSAGE_CONTENT = 1 << 15
EPHEMERAL = 1 << 6
LIMIT = 2000
NOW = "2024-01-01T00:00:00+00:00"
# Discord unfurls any link not wrapped in <...>, whatever the scheme's case, and turns a bare
# invite (discord.gg/...) into an invite card even without a scheme.
_BARE_LINK = re.compile(
    r"(?<![<\w])https?://[^\s>]+|(?<![<\w/])(?:discord(?:app)?\.com/invite|discord\.gg)/[^\s>]+", re.IGNORECASE
)
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")


def user(id: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot}


BOT = user(900, "qa-bot", bot=True)
ALICE = user(501, "alice")
BOB = user(502, "bob")
APP_ID = 800
GUILD_ID = 100
GENERAL, DOCS_B, OFF_LIMITS = 1001, 1002, 1003  # text channels of the fake guild
DM_CHANNEL = 2001


@dataclass
class Post:
    """A message the bot made visible (or tried to), with what Discord would do with it."""

    t: float
    via: str  # "channel", "callback", "webhook" or "edit"
    where: int | str  # channel id, or interaction token for callback/webhook posts
    payload: dict[str, Any]
    message: dict[str, Any] | None  # what Discord returned; None if rejected

    @property
    def content(self) -> str:
        return self.payload.get("content") or ""

    @property
    def ephemeral(self) -> bool:
        return bool(self.payload.get("flags", 0) & EPHEMERAL)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.payload.get("components", []) for c in row.get("components", [])
                if "custom_id" in c]

    @property
    def pings(self) -> list[str]:
        """Who Discord would notify: by default every mention in the content pings."""
        am = self.payload.get("allowed_mentions")
        parse = ["everyone", "users", "roles"] if am is None else am.get("parse", [])
        users = set((am or {}).get("users", []))
        roles = set((am or {}).get("roles", []))
        out = [m for m in ("@everyone", "@here") if m in self.content and "everyone" in parse]
        out += [f"user {u}" for u in _USER.findall(self.content) if "users" in parse or u in users]
        out += [f"role {r}" for r in _ROLE.findall(self.content) if "roles" in parse or r in roles]
        return out

    @property
    def unfurls(self) -> list[str]:
        return _BARE_LINK.findall(self.content)


@dataclass
class Interaction:
    id: int
    token: str
    channel_id: int
    created: float
    acked: int | None = None  # callback type of the initial response
    acked_at: float | None = None
    original: dict[str, Any] | None = None  # the response message, once edited into being


@dataclass
class Asked:
    """A question a test put to the bot, and where its answer will appear."""

    t: float
    where: int | str  # channel/thread id for messages, token for slash commands
    message_id: int | None = None


@dataclass
class FakeDiscord:
    token: str = "fake-token"
    heartbeat_interval: float = 0.5
    interaction_deadline: float = 3.0
    port: int = 0

    requests: list[tuple[float, str, str, Any]] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # Discord rules the bot broke
    heartbeats: list[float] = field(default_factory=list)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> registered command
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)  # message id -> thread
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[str, Interaction] = field(default_factory=dict)
    rate_limits: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # injected 429s

    def __post_init__(self) -> None:
        self._ids = itertools.count(10_000)
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._send_lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        api = "/api/v10"
        r.add_get(f"{api}/users/@me", self._me)
        r.add_get(f"{api}/oauth2/applications/@me", self._application)
        r.add_put(f"{api}/applications/{{app}}/commands", self._sync_commands)
        r.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._sync_commands)
        r.add_post(f"{api}/channels/{{channel}}/messages", self._channel_message)
        r.add_post(f"{api}/channels/{{channel}}/typing", self._typing)
        r.add_post(f"{api}/channels/{{channel}}/messages/{{message}}/threads", self._start_thread)
        r.add_post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback)
        r.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        r.add_patch(f"{api}/channels/{{channel}}/messages/{{message}}", self._edit_channel_message)
        r.add_patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self._edit_webhook_message)
        r.add_get("/gateway/", self._gateway)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/"

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await asyncio.wait_for(self._ws.close(code=1001), 5)
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 5)

    # -- what tests do -----------------------------------------------------------------------
    def rate_limit_next(self, method: str, path_regex: str, retry_after: float = 0.2, times: int = 1) -> None:
        """Answer the next `times` matching requests with a 429, as Discord's edge does."""
        self.rate_limits[(method, path_regex)] = [retry_after] * times

    async def wait_ready(self, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.identifies and self._seq >= 2, timeout)

    async def say(self, content: str, channel_id: int = GENERAL, author: dict = ALICE,
                  mention: bool = False) -> Asked:
        """A user posts a message (`mention`: it starts by mentioning the bot)."""
        if mention:
            content = f"<@{BOT['id']}> {content}"
        dm = channel_id == DM_CHANNEL
        mentioned = mention or f"<@{BOT['id']}>" in content
        intents = self.identifies[-1].get("intents", 0) if self.identifies else 0
        message = self._message(channel_id, content, author, guild=not dm)
        if not (intents & MESSAGE_CONTENT or mentioned or dm):
            message["content"] = ""  # Discord blanks content for bots without the intent
        message["mentions"] = [BOT] if mentioned else []
        message["mention_everyone"] = "@everyone" in content or "@here" in content
        if not dm:
            message["member"] = _member()
        self.messages[int(message["id"])] = message
        asked = Asked(time.monotonic(), channel_id, int(message["id"]))
        await self._dispatch("MESSAGE_CREATE", message)
        return asked

    async def slash(self, question: str, channel_id: int = GENERAL, author: dict = ALICE) -> Asked:
        """A user runs `/ask question:<question>`."""
        command = self.commands.get("ask")
        if command is None:
            raise AssertionError("/ask was never registered, so Discord would not offer it")
        data = {"id": command["id"], "name": "ask", "type": 1,
                "options": [{"name": "question", "type": 3, "value": question}]}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        inter = await self._interact(2, data, channel_id, self._channel(channel_id), author)
        return Asked(inter.created, inter.token)

    async def click(self, post: Post, custom_id: str, author: dict = ALICE) -> Asked:
        """A user presses a button under a message the bot posted."""
        if custom_id not in post.custom_ids:
            raise AssertionError(f"no button {custom_id!r} under that message")
        message = post.message
        channel_id = int(message["channel_id"])
        inter = await self._interact(3, {"custom_id": custom_id, "component_type": 2}, channel_id,
                                     self._channel(channel_id), author, message=message)
        return Asked(inter.created, inter.token)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Until `predicate()` is truthy (re-checked on every request the bot makes)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        return predicate()

    def posts_to(self, asked: Asked) -> list[Post]:
        """Posts answering `asked`: in its thread, its channel, or its interaction."""
        where = {asked.where}
        thread = self.threads.get(asked.message_id) if asked.message_id else None
        if thread:
            where.add(int(thread["id"]))
        return [p for p in self.posts if p.where in where and p.t >= asked.t]

    async def reply(self, asked: Asked, timeout: float = 10.0) -> list[Post]:
        """All parts of the answer to `asked` once its last part (the one with buttons) is in."""
        def done() -> list[Post] | None:
            posts = self.posts_to(asked)
            return posts if any(p.custom_ids for p in posts) else None

        return await self.wait_for(done, timeout)

    # -- REST --------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.json() if request.content_type == "application/json" else None
        self.requests.append((time.monotonic(), request.method, request.path, body))
        try:
            for (method, pattern), queue in self.rate_limits.items():
                if queue and method == request.method and re.search(pattern, request.path):
                    return _json({"message": "You are being rate limited.", "retry_after": queue.pop(),
                                  "global": False}, 429, {"Via": "1.1 google"})
            # Interaction callbacks and webhooks authenticate by their token in the path.
            bot_route = re.match(r"/api/v10/(?!interactions/|webhooks/)", request.path)
            if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, 401)
            return await handler(request)
        finally:
            async with self._changed:
                self._changed.notify_all()

    async def _me(self, request: web.Request) -> web.Response:
        return _json(BOT)

    async def _application(self, request: web.Request) -> web.Response:
        return _json({"id": str(APP_ID), "name": "qa-bot", "description": "", "icon": None,
                      "bot_public": False, "bot_require_code_grant": False, "owner": ALICE,
                      "verify_key": "0" * 64, "flags": 0})

    async def _sync_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        out = []
        for cmd in (await request.json()):
            registered = {**cmd, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1",
                          "type": cmd.get("type", 1), "description": cmd.get("description", "")}
            if guild:
                registered["guild_id"] = guild
            self.commands[cmd["name"]] = registered
            out.append(registered)
        return _json(out)

    async def _typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _channel_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        return self._post("channel", channel_id, channel_id, (await request.json()))

    async def _start_thread(self, request: web.Request) -> web.Response:
        parent, message_id = int(request.match_info["channel"]), int(request.match_info["message"])
        name = (await request.json()).get("name") or ""
        if not 1 <= len(name) <= 100:
            return self._violation(400, 50035, f"thread name of {len(name)} characters")
        if message_id in self.threads:
            return self._violation(400, 160004, "a thread has already been created for this message")
        thread = {"id": str(next(self._ids)), "guild_id": str(GUILD_ID), "parent_id": str(parent),
                  "owner_id": BOT["id"], "name": name, "type": 11, "last_message_id": None,
                  "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": NOW, "locked": False}}
        self.threads[message_id] = thread
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return _json(thread, 201)

    async def _callback(self, request: web.Request) -> web.Response:
        inter = self.interactions.get(request.match_info["token"])
        if inter is None or str(inter.id) != request.match_info["id"]:
            return self._violation(404, 10062, "callback for an unknown interaction")
        now = time.monotonic()
        if now - inter.created > self.interaction_deadline:
            return self._violation(404, 10062, f"initial response after {now - inter.created:.2f} s")
        if inter.acked is not None:
            return self._violation(400, 40060, "interaction acknowledged twice")
        body = (await request.json())
        kind = body["type"]
        message = None
        if kind == 4:
            response = self._post("callback", inter.token, inter.channel_id, body.get("data", {}))
            if response.status != 200:
                return response
            message = json.loads(response.body)
        inter.acked, inter.acked_at = kind, now
        resource = {"type": kind} | ({"message": message} if message else {})
        return _json({"interaction": {"id": str(inter.id), "type": 2, "response_message_loading": kind == 5,
                                      "response_message_ephemeral": False}, "resource": resource})

    async def _followup(self, request: web.Request) -> web.Response:
        inter = self.interactions.get(request.match_info["token"])
        if inter is None or inter.acked is None:
            return self._violation(404, 10015, "follow-up before the interaction was acknowledged")
        return self._post("webhook", inter.token, inter.channel_id, (await request.json()))

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["author"]["id"] != BOT["id"]:
            return self._violation(404, 10008, "edit of an unknown message or one the bot did not write")
        return self._edit(int(message["channel_id"]), message, await request.json())

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        """Edits of an interaction's response; `@original` is the deferred "thinking…" one."""
        inter = self.interactions.get(request.match_info["token"])
        if inter is None or inter.acked is None:
            return self._violation(404, 10015, "edit before the interaction was acknowledged")
        which = request.match_info["message"]
        if which == "@original":
            if inter.original is None:
                inter.original = self._message(inter.channel_id, "", BOT, guild=inter.channel_id != DM_CHANNEL)
                self.messages[int(inter.original["id"])] = inter.original
            message = inter.original
        else:
            message = self.messages.get(int(which))
        if message is None:
            return self._violation(404, 10008, "edit of an unknown webhook message")
        return self._edit(inter.token, message, await request.json())

    def _edit(self, where: int | str, message: dict[str, Any], payload: dict[str, Any]) -> web.Response:
        """An edit is recorded as a post (via "edit") of the message's new state."""
        post = Post(time.monotonic(), "edit", where, payload, None)
        self.posts.append(post)
        content = payload.get("content", message["content"]) or ""
        if len(content) > LIMIT:
            return self._violation(400, 50035, f"content of {len(content)} characters")
        message.update(content=content, edited_timestamp=NOW)
        if "components" in payload:
            message["components"] = payload["components"]
        post.message = message
        return _json(message)

    def _post(self, via: str, where: int | str, channel_id: int, payload: dict[str, Any]) -> web.Response:
        post = Post(time.monotonic(), via, where, payload, None)
        self.posts.append(post)
        content = payload.get("content") or ""
        if len(content) > LIMIT:
            return self._violation(400, 50035, f"content of {len(content)} characters")
        if not content and not payload.get("embeds") and not payload.get("components"):
            return self._violation(400, 50006, "empty message")
        message = self._message(channel_id, content, BOT, guild=channel_id != DM_CHANNEL)
        message["components"] = payload.get("components", [])
        message["flags"] = payload.get("flags", 0)
        self.messages[int(message["id"])] = post.message = message
        return _json(message)

    def _violation(self, status: int, code: int, what: str) -> web.Response:
        self.violations.append(what)
        return _json({"message": what, "code": code}, status)

    # -- gateway -----------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data["op"] == 1:
                self.heartbeats.append(time.monotonic())
                await self._send({"op": 11})
            elif data["op"] == 2:
                await self._identify(ws, data["d"])
            async with self._changed:
                self._changed.notify_all()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies.append(d)
        await self._dispatch("READY", {
            "v": 10, "user": BOT, "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
        })
        await self._dispatch("GUILD_CREATE", {
            "id": str(GUILD_ID), "name": "Fake Guild", "owner_id": ALICE["id"], "member_count": 3,
            "unavailable": False, "large": False, "features": [], "emojis": [], "stickers": [],
            "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": "1071698660929",
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
                       "flags": 0}],
            "channels": [self._channel(c) for c in (GENERAL, DOCS_B, OFF_LIMITS)],
            "threads": [], "members": [{**_member(), "user": BOT}], "voice_states": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "joined_at": NOW,
        })

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        async with self._send_lock:
            self._seq += 1
            await self._send({"op": 0, "t": event, "s": self._seq, "d": data})

    async def _send(self, payload: dict[str, Any]) -> None:
        if self._ws is None or self._ws.closed:
            raise AssertionError("the bot is not connected to the gateway")
        await asyncio.wait_for(self._ws.send_str(json.dumps(payload)), 5)

    # -- payloads ----------------------------------------------------------------------------
    async def _interact(self, kind: int, data: dict, channel_id: int, channel: dict, author: dict,
                        message: dict | None = None) -> Interaction:
        inter = Interaction(next(self._ids), f"itoken-{next(self._ids)}", channel_id, time.monotonic())
        self.interactions[inter.token] = inter
        payload = {
            "id": str(inter.id), "application_id": str(APP_ID), "type": kind, "token": inter.token,
            "version": 1, "guild_id": str(GUILD_ID), "channel_id": str(channel_id), "channel": channel,
            "member": {**_member(), "user": author, "permissions": "1071698660929"}, "data": data,
            "app_permissions": "1071698660929", "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        await self._dispatch("INTERACTION_CREATE", payload)
        return inter

    def _channel(self, channel_id: int) -> dict[str, Any]:
        for thread in self.threads.values():
            if int(thread["id"]) == channel_id:
                return thread
        names = {GENERAL: "general", DOCS_B: "docs-b", OFF_LIMITS: "off-limits"}
        return {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": names[channel_id],
                "position": list(names).index(channel_id), "permission_overwrites": [], "nsfw": False,
                "parent_id": None, "topic": None, "last_message_id": None, "rate_limit_per_user": 0}

    def _message(self, channel_id: int, content: str, author: dict, guild: bool) -> dict[str, Any]:
        message = {"id": str(next(self._ids)), "channel_id": str(channel_id), "author": author,
                   "content": content, "timestamp": NOW, "edited_timestamp": None, "tts": False,
                   "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                   "embeds": [], "pinned": False, "type": 0, "flags": 0, "components": []}
        if guild:
            message["guild_id"] = str(GUILD_ID)
        return message


def _member() -> dict[str, Any]:
    return {"roles": [], "joined_at": NOW, "deaf": False, "mute": False, "flags": 0}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only when Content-Type is exactly application/json.
    return web.Response(status=status, body=json.dumps(data).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})
