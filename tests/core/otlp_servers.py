"""Real local servers for the doctor's probe: OTLP receivers, and servers that are not OTLP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@dataclass
class Received:
    """What an HTTP server was sent: one (path, headers, body) per request."""

    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


def _handler(status: int, content_type: str | None, received: Received) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.requests.append((self.path, dict(self.headers.items()), body))
            reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def http_server(
    status: int = 200, content_type: str | None = "application/x-protobuf"
) -> Iterator[tuple[int, Received]]:
    """An HTTP server on 127.0.0.1 answering every POST with ``status`` and ``content_type``.

    The defaults make it an OTLP/HTTP receiver (an empty ``ExportTraceServiceResponse``).
    """
    received = Received()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(status, content_type, received))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def plain_http_server() -> Iterator[int]:
    """An HTTP server with no POST handler at all (answers 501), like a web app's port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self, received: list[Any]) -> None:
        self.received = received

    def Export(self, request: Any, context: Any) -> Any:
        self.received.append(dict(context.invocation_metadata()))
        return trace_service_pb2.ExportTraceServiceResponse()


@contextmanager
def grpc_otlp_server() -> Iterator[tuple[int, list[Any]]]:
    """A real OTLP/gRPC trace receiver on 127.0.0.1; yields its port and received metadata."""
    received: list[Any] = []
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(received), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, received
    finally:
        server.stop(grace=None)
