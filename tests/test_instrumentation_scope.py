"""Spans and metrics say which integration made them: its package, version and schema URL."""

from __future__ import annotations

import semtrace_langchain
import semtrace_llamaindex
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.langchain.pipelines import fake_chat
from tests.llamaindex.fakes import AnswerLLM


def _scopes(telemetry: Telemetry) -> set[tuple[str, str | None, str | None]]:
    found = set()
    for span in telemetry.spans():
        scope = span.instrumentation_scope
        assert scope is not None
        found.add((scope.name, scope.version, scope.schema_url))
    return found


def _metric_scopes(telemetry: Telemetry) -> set[tuple[str, str | None, str | None]]:
    data = telemetry.metric_reader.get_metrics_data()
    assert data is not None
    return {
        (sm.scope.name, sm.scope.version, sm.scope.schema_url)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        if sm.metrics
    }


def test_langchain_spans_and_metrics_carry_the_integration_scope(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
    expected = {("semtrace_langchain", semtrace_langchain.__version__, semconv.SCHEMA_URL)}
    assert _scopes(telemetry) == expected
    assert _metric_scopes(telemetry) == expected


def test_llamaindex_spans_and_metrics_carry_the_integration_scope(telemetry: Telemetry) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    try:
        AnswerLLM(answer="ok", model="gpt-4o-mini").complete("hello")
    finally:
        instrumentor.uninstrument()
    expected = {("semtrace_llamaindex", semtrace_llamaindex.__version__, semconv.SCHEMA_URL)}
    assert _scopes(telemetry) == expected
    assert _metric_scopes(telemetry) == expected
