"""A retrieval service: a LlamaIndex retriever behind a small HTTP API, traced with semtrace.

Run:  uv run python examples/cross_service/retrieval_service.py [--port 8008]

    POST /retrieve  {"query": "...", "top_k": 2}
    -> 200          {"nodes": [{"id": "...", "text": "...", "score": 0.9}, ...]}

The caller's trace context arrives in the W3C ``traceparent`` / ``tracestate`` headers; the
service reads them with ``opentelemetry.propagate.extract`` and opens its SERVER span in that
context, so the LlamaIndex retrieval span joins the caller's trace. (With a framework such as
FastAPI or Flask, ``opentelemetry-instrumentation-fastapi`` / ``-flask`` / ``-wsgi`` do exactly
this for you; here the standard library's ``http.server`` keeps the example dependency-free.)

Exports as ``semtrace.configure()`` does: OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, a
trace tree on stderr otherwise. Listens on 127.0.0.1 only. Runs offline: a MockEmbedding that
hashes words.
Stop it with Ctrl-C or SIGTERM: spans still queued are exported on the way out.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/: the offline helper

import semtrace
from _offline import use_bundled_tiktoken_files
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from semtrace_llamaindex import LlamaIndexInstrumentor

DOCS = {
    "with": "The with statement wraps the execution of a block with methods defined by a "
    "context manager.",
    "for": "A for loop iterates over the items of any sequence, such as a list or a string.",
    "lambda": "A lambda expression creates a small anonymous function.",
}
HOST = "127.0.0.1"


class WordHashEmbedding(MockEmbedding):
    """MockEmbedding that hashes words into dimensions: texts that share words score higher."""

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.embed_dim
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[zlib.crc32(word.encode()) % self.embed_dim] += 1.0
        vector[0] += 1e-3  # never all zeros (cosine similarity would be undefined)
        return vector

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


def build_index() -> VectorStoreIndex:
    documents = [Document(text=text, id_=f"doc-{key}") for key, text in DOCS.items()]
    return VectorStoreIndex.from_documents(documents, embed_model=WordHashEmbedding(embed_dim=64))


def make_handler(index: VectorStoreIndex) -> type[BaseHTTPRequestHandler]:
    tracer = trace.get_tracer("retrieval_service")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            # The caller's trace context, from the W3C traceparent/tracestate headers.
            parent = propagate.extract(dict(self.headers.items()))
            with tracer.start_as_current_span(
                "POST /retrieve",
                context=parent,
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": "POST",
                    "http.route": "/retrieve",
                    "url.path": self.path,
                    "url.scheme": "http",
                    "server.address": HOST,
                    "server.port": self.connection.getsockname()[1],
                },
            ) as span:
                status, body = self._retrieve()
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            self._reply(status, body)

        def _retrieve(self) -> tuple[int, dict[str, Any]]:
            if self.path != "/retrieve":
                return 404, {"error": "not found"}
            try:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                query = str(request["query"])
                top_k = int(request.get("top_k", 2))
            except (KeyError, TypeError, ValueError) as exc:
                return 400, {"error": f"bad request: {exc!r}"}
            nodes = index.as_retriever(similarity_top_k=top_k).retrieve(query)
            return 200, {
                "nodes": [
                    {"id": n.node.node_id, "text": n.node.get_content(), "score": n.score}
                    for n in nodes
                ]
            }

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="LlamaIndex retrieval service")
    parser.add_argument("--port", type=int, default=8008, help="0 picks a free port")
    args = parser.parse_args()

    use_bundled_tiktoken_files(Path(__file__).resolve().parents[1])
    semtrace.configure(service_name="retrieval-service")
    LlamaIndexInstrumentor().instrument()

    server = ThreadingHTTPServer((HOST, args.port), make_handler(build_index()))
    # SIGTERM as Ctrl-C: leave serve_forever() and return, so the exit hook exports queued spans.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"retrieval service listening on http://{HOST}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
