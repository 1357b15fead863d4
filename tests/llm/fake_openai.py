"""A scripted OpenAI-compatible server on 127.0.0.1: the network peer of the generative tests.

Each request to /v1/chat/completions takes the next `Reply` from the script (an empty script
answers 500). A reply can be slow, fail, stream (SSE) or not, or send a raw body as is.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any


@dataclass
class Reply:
    text: str | Callable[[dict[str, Any]], str] = ""  # or made from the request body
    status: int = 200
    delay: float = 0.0  # seconds before anything is sent
    chunk_delay: float = 0.0  # seconds between streamed chunks
    raw: bytes | None = None  # sent instead of a well-formed body (after a 200 and SSE headers if streaming)


@dataclass
class FakeOpenAI:
    script: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except ConnectionError:  # the client gave up (its timeout): expected in these tests
                    pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
                reply = fake.script.popleft() if fake.script else Reply(status=500)
                if callable(reply.text):
                    reply.text = reply.text(body)
                time.sleep(reply.delay)
                if self.path != "/v1/chat/completions" or reply.status != 200:
                    return self._send(reply.status or 404, {"error": {"message": "scripted failure",
                                                                      "type": "server_error"}})
                if body.get("stream"):
                    return self._stream(reply, body["model"])
                if reply.raw is not None:
                    return self._send(200, None, reply.raw)
                self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply.text}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })

            def _send(self, status: int, obj: Any, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                if reply.raw is not None:
                    self.wfile.write(reply.raw)
                    return
                pieces = [w + " " for w in reply.text.split(" ")]
                pieces[-1] = pieces[-1][:-1]
                for i, piece in enumerate(pieces + [None]):
                    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": {"content": piece} if piece is not None else {},
                                          "finish_reason": None if piece is not None else "stop"}]}
                    if i:
                        time.sleep(reply.chunk_delay)
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *replies: Reply) -> None:
        self.script.extend(replies)
