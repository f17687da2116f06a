"""``configure(verdicts=True)``: other instrumentations' spans exported over OTLP with verdicts."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from semtrace.export.setup import configure

from tests.core.test_configure import Collector, http_collector, ok, run

__all__ = ["http_collector"]  # the fixture, used by name

# A fabricated answer, recorded by "another instrumentation" in the GenAI conventions.
SCRIPT = """
    import sys
    sys.path.insert(0, {root!r})
    from opentelemetry import trace
    from semtrace.export.setup import configure, flush
    from tests.adopt.cases import FABRICATED
    from tests.adopt.test_processor import rag_trace

    configure(verdicts=True, strip_content={strip})
    rag_trace(trace.get_tracer_provider(), FABRICATED)
    assert flush(10_000)
"""


def _attributes(collector: Collector) -> dict[str, dict[str, str]]:
    return {
        span.name: {a.key: a.value.string_value for a in span.attributes}
        for _, req in collector.requests
        if isinstance(req, trace_service_pb2.ExportTraceServiceRequest)
        for rs in req.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    }


def _script(strip: bool) -> str:
    import pathlib

    root = str(pathlib.Path(__file__).resolve().parents[2])
    return SCRIPT.format(root=root, strip=strip)


def test_spans_reach_the_backend_with_their_verdicts(http_collector: Collector) -> None:
    ok(run(_script(False), OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url))
    spans = _attributes(http_collector)
    assert spans["invoke_workflow rag"]["semtrace.diagnosis"] == "unsupported_answer"
    assert spans["chat gpt-4o-mini"]["semtrace.quality.groundedness.label"] == "fail"


def test_strip_content_keeps_the_text_out_of_the_backend(http_collector: Collector) -> None:
    ok(run(_script(True), OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url))
    chat = _attributes(http_collector)["chat gpt-4o-mini"]
    assert "gen_ai.input.messages" not in chat and "gen_ai.output.messages" not in chat
    assert chat["semtrace.quality.groundedness.label"] == "fail"


def test_strip_content_without_verdicts_is_refused() -> None:
    with pytest.raises(ValueError, match="verdicts"):
        configure(strip_content=True)
