"""The doctor says when another instrumentation records no content for the verdicts."""

from __future__ import annotations

from semtrace.doctor.adopt import content_sources_finding
from semtrace.doctor.finding import Severity

OFFICIAL = "opentelemetry-instrumentation-genai-langchain"


def test_the_official_instrumentations_default_is_no_content() -> None:
    finding = content_sources_finding([OFFICIAL], env={})
    assert finding is not None and finding.severity is Severity.INFO
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY" in (finding.fix or "")


def test_content_on_is_ok() -> None:
    env = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY"}
    finding = content_sources_finding([OFFICIAL], env=env)
    assert finding is not None and finding.severity is Severity.OK


def test_openinference_hiding_inputs_is_named() -> None:
    env = {"OPENINFERENCE_HIDE_INPUTS": "true"}
    finding = content_sources_finding(["openinference-instrumentation-langchain"], env=env)
    assert finding is not None and "OPENINFERENCE_HIDE_INPUTS" in (finding.fix or "")


def test_openllmetry_content_off_is_named() -> None:
    env = {"TRACELOOP_TRACE_CONTENT": "false"}
    finding = content_sources_finding(["opentelemetry-instrumentation-langchain"], env=env)
    assert finding is not None and "TRACELOOP_TRACE_CONTENT=true" in (finding.fix or "")


def test_no_other_instrumentation_no_finding() -> None:
    assert content_sources_finding(["langchain-core"], env={}) is None
