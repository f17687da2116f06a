"""A fake OpenAI-compatible server on 127.0.0.1, for tests that run the real ``openai`` SDK.

Answers ``POST /v1/chat/completions`` with a fixed reply and token usage, as JSON or, for
``"stream": true``, as server-sent events (with a final usage chunk when the request asks
for ``stream_options.include_usage``). Every request body is kept in ``requests``.

Example:
    with FakeOpenAI() as server:
        ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = "Paris is the capital of France."
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
INPUT_TOKENS = 21
OUTPUT_TOKENS = 7


class FakeOpenAI:
    """Serve the fake API on an ephemeral port of 127.0.0.1 while the ``with`` block runs."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.requests))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give the client: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def completion(model: str) -> dict[str, Any]:
    """A whole chat completion, with usage."""
    return {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(),
    }


def chunks(model: str, include_usage: bool) -> list[dict[str, Any]]:
    """The streamed chunks of the same completion, word by word."""
    base = {"id": "chatcmpl-fake-1", "object": "chat.completion.chunk", "created": 1_700_000_000}
    words = REPLY.split(" ")
    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
    out = [_chunk(base, model, {"role": "assistant", "content": ""}, None)]
    out += [_chunk(base, model, {"content": piece}, None) for piece in pieces]
    out.append(_chunk(base, model, {}, "stop"))
    if include_usage:
        out.append({**base, "model": model, "choices": [], "usage": _usage()})
    return out


def _chunk(base: dict[str, Any], model: str, delta: dict[str, Any], finish: str | None) -> Any:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    return {**base, "model": model, "choices": [choice]}


def _usage() -> dict[str, int]:
    return {
        "prompt_tokens": INPUT_TOKENS,
        "completion_tokens": OUTPUT_TOKENS,
        "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
    }


def _handler_for(requests: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                return
            requests.append(body)
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._send_events(chunks(RESPONSE_MODEL, include_usage))
            else:
                self._send_json(200, completion(RESPONSE_MODEL))

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_events(self, events: list[dict[str, Any]]) -> None:
            lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
            data = "".join(lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
