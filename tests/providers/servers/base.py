"""A recording HTTP server on 127.0.0.1 that each provider module fills with its wire format.

A test sets :attr:`ProviderServer.answer` (what the model "says", in the conventions' terms),
and optionally :attr:`ProviderServer.fail` (an HTTP status to answer with, to the requests
whose path ends with :attr:`ProviderServer.fail_on`), :attr:`ProviderServer.cut_stream` (a
stream that breaks off midway) or :attr:`ProviderServer.stream_error` (a stream in which the
provider reports an error). The provider module's ``route`` turns the request and the answer
into bytes; every request is kept in
:attr:`ProviderServer.requests` so tests can check what the client sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class ToolCall:
    """One tool call the model asks for."""

    name: str = "get_weather"
    arguments: dict[str, Any] = field(default_factory=lambda: {"city": "Paris"})
    id: str = "call_weather_1"


@dataclass
class Answer:
    """A model answer, with usage as the GenAI conventions count it.

    ``input_tokens`` includes cache reads and writes; ``output_tokens`` includes reasoning.
    Each server splits the counts the way its provider reports them.
    """

    model: str
    id: str = "resp-0001"
    text: str = "Paris is the capital of France."
    finish: str = "stop"  # "stop", "length" or "tool_call"
    input_tokens: int = 21
    output_tokens: int = 7
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0
    tool: ToolCall | None = None

    def pieces(self) -> list[str]:
        """The text as stream deltas, word by word."""
        words = self.text.split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)]


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    """What to send: a whole body, or chunks sent with chunked transfer encoding."""

    status: int = 200
    body: bytes = b""
    chunks: Iterable[bytes] | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Reply:
        """A JSON reply."""
        return cls(status=status, body=json.dumps(payload).encode(), headers=headers)


class ProviderServer:
    """Serve one provider's API on an ephemeral port of 127.0.0.1 while the ``with`` block runs.

    Subclasses implement :meth:`route` and :meth:`error`.
    """

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.fail: int | None = None
        self.fail_on = ""  # with ``fail``: only requests whose path ends with this
        self.cut_stream = False
        self.stream_error = False  # the provider's own error event midway (where documented)
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The ephemeral port the server got."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` with no trailing slash."""
        return f"http://{self.host}:{self.port}"

    def route(self, request: Request) -> Reply:
        """The reply to a request the provider's API would accept."""
        raise NotImplementedError

    def error(self, status: int) -> Reply:
        """The provider's documented error body for ``status``."""
        raise NotImplementedError

    def calls(self, suffix: str) -> list[Request]:
        """The requests whose path ends with ``suffix``."""
        return [r for r in self.requests if r.path.endswith(suffix)]

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked streams, so a cut stream is an error

        def do_GET(self) -> None:
            self._answer_unless_gone()

        def do_POST(self) -> None:
            self._answer_unless_gone()

        def _answer_unless_gone(self) -> None:
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):
                # The client stopped reading (a test that leaves a stream early): not a
                # failure of the server, and no traceback on the test output.
                self.close_connection = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            server.requests.append(request)
            failing = server.fail and request.path.endswith(server.fail_on)
            reply = server.error(server.fail) if failing else server.route(request)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunks is None:
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunks = list(reply.chunks)
            if server.cut_stream:
                # Half the stream, then the connection drops without the closing chunk.
                chunks = chunks[: max(1, len(chunks) // 2)]
            for chunk in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            if server.cut_stream:
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


def sse(events: Iterable[tuple[str | None, Any]]) -> list[bytes]:
    """Server-sent events: ``(event name or None, data)``; str data is sent as is."""
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {text}\n\n".encode())
    return out


def ndjson(objects: Iterable[Any]) -> list[bytes]:
    """Newline-delimited JSON, one object a chunk."""
    return [json.dumps(o).encode() + b"\n" for o in objects]
