"""Backend views: chosen by configure() or SEMTRACE_BACKEND_VIEW, applied at export only.

Without a view the spans are exactly the conventions plus ``semtrace.*``. Phoenix's own
span kinds were read from a running Phoenix (tests/e2e/test_backend_views.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import fault_count, semconv
from semtrace.export.views import ViewExporter, choose_view, is_langfuse_endpoint
from semtrace.export.views.phoenix import phoenix_view

from tests.core.views_pipeline import recorded_spans, run_pipeline

# ----------------------------------------------------------------------- no view: standard


def _is_ours(key: str) -> bool:
    return key in semconv.STANDARD_ATTRIBUTES or key.startswith("semtrace.")


def test_without_a_view_spans_carry_only_convention_and_semtrace_attributes() -> None:
    spans = recorded_spans()
    assert len(spans) == 9
    for span in spans:
        foreign = [k for k in span.attributes or {} if not _is_ours(k)]
        assert not foreign, (span.name, foreign)
        own = [k for k in span.attributes or {} if k.startswith("semtrace.")]
        for key in own:
            known = key in semconv.OWN_ATTRIBUTES or key.startswith(semconv.SEMTRACE_QUALITY_PREFIX)
            assert known, (span.name, key)


# ------------------------------------------------------------------------- ViewExporter


def test_view_adds_attributes_to_the_exported_copy_only() -> None:
    exporter = InMemorySpanExporter()
    run_pipeline(ViewExporter(exporter, lambda span: {"x.view": span.name}, "test"))
    for span in exporter.get_finished_spans():
        assert span.attributes["x.view"] == span.name


def test_a_failing_view_exports_the_span_unchanged_and_counts_the_fault() -> None:
    def broken(span: ReadableSpan) -> Mapping[str, Any]:
        raise RuntimeError("view bug")

    before = fault_count("view broken")
    exporter = InMemorySpanExporter()
    run_pipeline(ViewExporter(exporter, broken, "broken"))
    spans = exporter.get_finished_spans()
    assert len(spans) == 9
    assert fault_count("view broken") == before + 9


def test_view_exporter_passes_flush_and_shutdown_through() -> None:
    class Recording(SpanExporter):
        def __init__(self) -> None:
            self.calls: list[str] = []

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            self.calls.append("export")
            return SpanExportResult.SUCCESS

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            self.calls.append("flush")
            return True

        def shutdown(self) -> None:
            self.calls.append("shutdown")

    inner = Recording()
    wrapped = ViewExporter(inner, phoenix_view, "phoenix")
    assert wrapped.export([]) is SpanExportResult.SUCCESS
    assert wrapped.force_flush(10)
    wrapped.shutdown()
    assert inner.calls == ["export", "flush", "shutdown"]


# ------------------------------------------------------------------------------- Phoenix


def test_phoenix_view_names_only_the_kinds_phoenix_leaves_unknown() -> None:
    exporter = InMemorySpanExporter()
    run_pipeline(ViewExporter(exporter, phoenix_view, "phoenix"))
    kinds = {
        s.name: (s.attributes or {}).get("openinference.span.kind")
        for s in exporter.get_finished_spans()
    }
    assert kinds == {
        "invoke_workflow rag": "CHAIN",
        "evaluate judge": "EVALUATOR",
        "rerank rerank-v1": "RERANKER",
        "parser": "CHAIN",
        # Phoenix derives these from gen_ai.operation.name itself.
        "invoke_agent researcher": None,
        "embeddings text-embedding-3-small": None,
        "retrieval docs": None,
        "execute_tool search": None,
        "chat gpt-4o-mini": None,
    }


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        pytest.param({"gen_ai.operation.name": "rerank"}, "RERANKER", id="rerank"),
        pytest.param({"semtrace.run.name": "parser"}, "CHAIN", id="step"),
        pytest.param({"gen_ai.operation.name": "chat"}, None, id="chat"),
        pytest.param({}, None, id="foreign-span"),
    ],
)
def test_phoenix_kind_of_other_spans(attributes: dict[str, Any], kind: str | None) -> None:
    span = ReadableSpan("s", attributes=attributes)
    assert phoenix_view(span).get("openinference.span.kind") == kind


# ----------------------------------------------------------------------------- choosing


@pytest.mark.parametrize(
    ("endpoint", "langfuse"),
    [
        ("https://cloud.langfuse.com/api/public/otel", True),
        ("https://us.cloud.langfuse.com/api/public/otel/v1/traces", True),
        ("http://localhost:3000/api/public/otel/", True),
        ("http://localhost:4318", False),
        ("http://localhost:4318/v1/traces", False),
        ("http://example.com/api/public/otelx", False),
        ("", False),
    ],
)
def test_langfuse_endpoint_is_recognised_by_its_path(endpoint: str, langfuse: bool) -> None:
    assert is_langfuse_endpoint(endpoint) is langfuse


@pytest.fixture
def no_view_env() -> Iterator[None]:
    saved = os.environ.pop("SEMTRACE_BACKEND_VIEW", None)
    yield
    os.environ.pop("SEMTRACE_BACKEND_VIEW", None)
    if saved is not None:
        os.environ["SEMTRACE_BACKEND_VIEW"] = saved


@pytest.mark.usefixtures("no_view_env")
def test_choice_argument_then_environment_then_endpoint() -> None:
    langfuse = "https://cloud.langfuse.com/api/public/otel"
    assert choose_view(None, langfuse) == "langfuse"
    assert choose_view(None, "http://localhost:4318") == "none"
    assert choose_view("none", langfuse) == "none"
    assert choose_view("Phoenix", langfuse) == "phoenix"
    os.environ["SEMTRACE_BACKEND_VIEW"] = "phoenix"
    assert choose_view(None, langfuse) == "phoenix"
    assert choose_view("langfuse", "http://localhost:4318") == "langfuse"


@pytest.mark.usefixtures("no_view_env")
def test_a_bad_environment_value_warns_and_falls_back_to_the_endpoint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    os.environ["SEMTRACE_BACKEND_VIEW"] = "datadog"
    assert choose_view(None, "https://cloud.langfuse.com/api/public/otel") == "langfuse"
    assert "SEMTRACE_BACKEND_VIEW" in caplog.text


def test_a_bad_argument_raises() -> None:
    with pytest.raises(ValueError, match="langfuse, phoenix, none"):
        choose_view("datadog")


# ------------------------------------------------------- configure(), in a fresh interpreter


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """An OTLP/HTTP receiver on 127.0.0.1: (base url, [(path, request)])."""
    received: list[tuple[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path.endswith("/v1/traces"):
                req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                received.append((self.path, req))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


EMIT = """
    import sys
    from opentelemetry import trace
    from semtrace.export.setup import configure, flush

    view = sys.argv[1] if len(sys.argv) > 1 else None
    configure(service_name="svc", backend_view=view)
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span(
        "invoke_workflow rag",
        attributes={"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "rag"},
    ):
        with tracer.start_as_current_span(
            "retrieval docs", attributes={"gen_ai.operation.name": "retrieval"}
        ):
            pass
    assert flush(10_000)
"""


def _emit(*args: str, **env: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    clean.update(env, OTEL_METRICS_EXPORTER="none")
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EMIT), *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _attributes(received: list[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _, request in received:
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    out[span.name] = {
                        a.key: getattr(a.value, a.value.WhichOneof("value"))
                        for a in span.attributes
                    }
    return out


def test_configure_picks_the_langfuse_view_for_langfuses_endpoint(
    collector: tuple[str, list[tuple[str, Any]]],
) -> None:
    url, received = collector
    _emit(OTEL_EXPORTER_OTLP_ENDPOINT=f"{url}/api/public/otel")
    assert {path for path, _ in received} == {"/api/public/otel/v1/traces"}
    spans = _attributes(received)
    assert spans["retrieval docs"]["langfuse.observation.type"] == "retriever"
    assert spans["invoke_workflow rag"]["langfuse.observation.type"] == "chain"
    assert spans["invoke_workflow rag"]["langfuse.trace.name"] == "rag"


def test_environment_none_turns_the_automatic_langfuse_view_off(
    collector: tuple[str, list[tuple[str, Any]]],
) -> None:
    url, received = collector
    _emit(OTEL_EXPORTER_OTLP_ENDPOINT=f"{url}/api/public/otel", SEMTRACE_BACKEND_VIEW="none")
    spans = _attributes(received)
    assert spans and not any(k.startswith("langfuse.") for a in spans.values() for k in a)


def test_configure_argument_selects_the_phoenix_view(
    collector: tuple[str, list[tuple[str, Any]]],
) -> None:
    url, received = collector
    _emit("phoenix", OTEL_EXPORTER_OTLP_ENDPOINT=url)
    spans = _attributes(received)
    assert spans["invoke_workflow rag"]["openinference.span.kind"] == "CHAIN"
    assert "openinference.span.kind" not in spans["retrieval docs"]


def test_other_endpoints_get_no_view(collector: tuple[str, list[tuple[str, Any]]]) -> None:
    url, received = collector
    _emit(OTEL_EXPORTER_OTLP_ENDPOINT=url)
    spans = _attributes(received)
    assert len(spans) == 2
    keys = {k for a in spans.values() for k in a}
    assert keys == {"gen_ai.operation.name", "gen_ai.workflow.name"}, json.dumps(sorted(keys))


def test_configure_rejects_an_unknown_view_before_setting_anything() -> None:
    script = """
        from opentelemetry import trace
        from semtrace.export.setup import configure
        try:
            configure(backend_view="datadog")
        except ValueError as exc:
            assert "backend_view" in str(exc), exc
            assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
        else:
            raise SystemExit("no ValueError")
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
