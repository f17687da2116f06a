"""A hosted OTLP endpoint that wants headers: OTEL_EXPORTER_OTLP_HEADERS reaches it, and a wrong key
only costs the telemetry, never the app.

No hosted service is reachable from here, so a stdlib OTLP/HTTP receiver on 127.0.0.1 plays one:
it answers 401 unless ``authorization: Bearer s3cr3t key`` and ``x-tenant: acme`` are present
(the header value is percent-encoded in the variable, as the OTel spec's format requires).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from helpers import EXAMPLES, child_env, run_python
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

WANT = {"authorization": "Bearer s3cr3t key", "x-tenant": "acme"}


@dataclass
class Hosted:
    url: str
    accepted: list[tuple[str, Any]] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def hosted() -> Iterator[Hosted]:
    state = Hosted(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = all(self.headers.get(k) == v for k, v in WANT.items())
            with state.lock:
                if not ok:
                    state.refused += 1
                elif self.path == "/v1/traces":
                    req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                    state.accepted.append((self.path, req))
                else:
                    req = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
                    state.accepted.append((self.path, req))
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def _run(hosted: Hosted, headers: str) -> Any:
    return run_python(
        [str(EXAMPLES / "langchain_quickstart.py")],
        child_env(OTEL_EXPORTER_OTLP_ENDPOINT=hosted.url, OTEL_EXPORTER_OTLP_HEADERS=headers),
    )


def test_headers_reach_the_endpoint_and_a_wrong_key_breaks_nothing(hosted: Hosted) -> None:
    with ThreadPoolExecutor(2) as pool:
        good = pool.submit(_run, hosted, "authorization=Bearer%20s3cr3t%20key,x-tenant=acme")
        bad = pool.submit(_run, hosted, "authorization=Bearer%20wrong,x-tenant=acme")
        good_run, bad_run = good.result(), bad.result()  # both exit 0, no traceback

    spans = sorted(
        span.name
        for path, req in hosted.accepted
        if path == "/v1/traces"
        for rs in req.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    )
    assert spans == [
        "chat gpt-4o-mini",
        "invoke_workflow RunnableSequence",
        "retrieval InMemoryVectorStore",
    ]
    metric_names = {
        m.name
        for path, req in hosted.accepted
        if path == "/v1/metrics"
        for rm in req.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= metric_names
    # The wrong key: refused (traces and metrics), reported as a warning, the app unaffected.
    assert hosted.refused >= 2
    assert "answer:" in bad_run.stdout and "answer:" in good_run.stdout
    assert "401" in bad_run.stderr
