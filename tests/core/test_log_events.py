"""The GenAI events through the Logs API: names, attributes, content, and their span.

The conventions define ``gen_ai.client.inference.operation.details`` and
``gen_ai.evaluation.result`` as events (log records with an event name) carrying the
context of the span they belong to. Their span-event form stays on by default for
trace-only backends (``Settings.span_events``); ``EVENT_ONLY`` keeps content off spans.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry._logs import NoOpLoggerProvider, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    LogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace import ReadableSpan
from semtrace import CaptureMode, Evaluation, Recorder, Sample, Settings, semconv
from semtrace.records import Message, ModelEnd, ModelStart, TextPart, ToolDefinition, Usage
from semtrace.testing import Telemetry

from tests.conformance import schemas

DETAILS = semconv.EVENT_INFERENCE_DETAILS
EVALUATION = semconv.EVENT_EVALUATION_RESULT


class Fails:
    """An inline evaluator whose verdict is always ``fail``."""

    name = "always_fails"
    background = False
    operations = frozenset({"chat"})

    def evaluate(self, sample: Sample) -> Evaluation | None:
        return Evaluation(self.name, 0.1, "fail", "not good enough")


class Passes(Fails):
    name = "always_passes"

    def evaluate(self, sample: Sample) -> Evaluation | None:
        return Evaluation(self.name, 0.9, "pass", None)


def _call(recorder: Recorder, prompt: str = "hello", answer: str = "hi there") -> None:
    start = ModelStart(
        "openai",
        "gpt-4o-mini",
        [Message("system", [TextPart("be brief")]), Message("user", [TextPart(prompt)])],
        tools=[ToolDefinition(name="add", description="adds", parameters={"type": "object"})],
        server_address="api.openai.com",
    )
    recorder.start("call", None, start)
    end = ModelEnd(
        [Message("assistant", [TextPart(answer)])],
        finish_reasons=["stop"],
        response_id="resp-1",
        response_model="gpt-4o-mini-2024",
        usage=Usage(input_tokens=12, output_tokens=3),
    )
    recorder.end("call", end)


def _chat_span(telemetry: Telemetry) -> ReadableSpan:
    return telemetry.span("chat gpt-4o-mini")


def _content_on(span: ReadableSpan) -> set[str]:
    """The content attributes on the span and on its events."""
    keys = set(span.attributes or {}) & semconv.CONTENT_ATTRIBUTES
    for event in span.events:
        keys |= set(event.attributes or {}) & semconv.CONTENT_ATTRIBUTES
    return keys


# --- gen_ai.client.inference.operation.details ---


def test_the_details_event_is_a_log_record_of_the_call_span(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(capture=CaptureMode.EVENT_ONLY, background=False))
    span = _chat_span(telemetry)
    [event] = telemetry.events(DETAILS)
    assert event.event_name == DETAILS
    assert event.trace_id == span.context.trace_id
    assert event.span_id == span.context.span_id
    assert event.severity_number == SeverityNumber.DEBUG


def test_the_details_event_carries_the_attributes_of_its_span(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(capture=CaptureMode.EVENT_ONLY, background=False))
    [event] = telemetry.events(DETAILS)
    attrs = dict(event.attributes or {})
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024"
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == "resp-1"
    assert list(attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS]) == ["stop"]
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert attrs["server.address"] == "api.openai.com"
    assert not [k for k in attrs if k.startswith("semtrace.")]


def test_the_details_event_holds_its_content_as_structured_values(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(capture=CaptureMode.EVENT_ONLY, background=False))
    [event] = telemetry.events(DETAILS)
    attrs = dict(event.attributes or {})
    [user] = attrs[semconv.GEN_AI_INPUT_MESSAGES]
    assert user["role"] == "user" and user["parts"][0]["content"] == "hello"
    [answer] = attrs[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert answer["parts"][0]["content"] == "hi there" and answer["finish_reason"] == "stop"
    assert attrs[semconv.GEN_AI_SYSTEM_INSTRUCTIONS][0]["content"] == "be brief"
    assert attrs[semconv.GEN_AI_TOOL_DEFINITIONS][0]["name"] == "add"


def test_event_only_leaves_no_content_on_the_span_or_its_events(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(capture=CaptureMode.EVENT_ONLY, background=False))
    assert _content_on(_chat_span(telemetry)) == set()
    assert telemetry.events(DETAILS)


def test_span_and_event_writes_content_on_the_span_and_in_the_log_event(
    telemetry: Telemetry,
) -> None:
    _call(telemetry.recorder(capture=CaptureMode.SPAN_AND_EVENT, background=False))
    span = _chat_span(telemetry)
    assert semconv.GEN_AI_OUTPUT_MESSAGES in (span.attributes or {})
    assert [e.name for e in span.events] == [DETAILS]  # the span-event form, as before
    assert telemetry.events(DETAILS)


def test_span_only_writes_no_details_event(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(capture=CaptureMode.SPAN_ONLY, background=False))
    assert semconv.GEN_AI_OUTPUT_MESSAGES in (_chat_span(telemetry).attributes or {})
    assert telemetry.events(DETAILS) == ()


def test_no_content_writes_no_details_event(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(background=False))
    assert telemetry.events(DETAILS) == ()


def test_the_details_event_content_keeps_the_content_length_limit(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(
        capture=CaptureMode.EVENT_ONLY, max_content_length=200, background=False
    )
    _call(recorder, prompt="x" * 50_000, answer="y" * 50_000)
    [event] = telemetry.events(DETAILS)
    attrs = dict(event.attributes or {})
    for key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        text = json.dumps(attrs[key], ensure_ascii=False, separators=(",", ":"))
        assert len(text) <= 200, key


# --- gen_ai.evaluation.result ---


def test_an_evaluation_is_a_log_record_of_the_evaluated_span(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(evaluators=[Fails()], quality_signals=False, background=False))
    span = _chat_span(telemetry)
    [event] = telemetry.events(EVALUATION)
    attrs = dict(event.attributes or {})
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)
    assert attrs[semconv.GEN_AI_EVALUATION_NAME] == "always_fails"
    assert attrs[semconv.GEN_AI_EVALUATION_SCORE_VALUE] == 0.1
    assert attrs[semconv.GEN_AI_EVALUATION_SCORE_LABEL] == "fail"
    assert attrs[semconv.GEN_AI_EVALUATION_EXPLANATION] == "not good enough"
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == "resp-1"
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_every_evaluation_event_on_a_span_is_also_a_log_record(telemetry: Telemetry) -> None:
    _call(telemetry.recorder(evaluators=[Fails(), Passes()], background=False))
    on_span = [
        e.attributes[semconv.GEN_AI_EVALUATION_NAME]
        for e in _chat_span(telemetry).events
        if e.name == EVALUATION and e.attributes
    ]
    logged = [e.attributes[semconv.GEN_AI_EVALUATION_NAME] for e in telemetry.events(EVALUATION)]
    assert sorted(logged) == sorted(on_span) == ["always_fails", "always_passes"]


def test_span_events_off_writes_the_events_as_log_records_only(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(
        capture=CaptureMode.SPAN_AND_EVENT,
        evaluators=[Fails()],
        span_events=False,
        background=False,
    )
    _call(recorder)
    assert _chat_span(telemetry).events == ()
    assert telemetry.events(DETAILS) and telemetry.events(EVALUATION)


def test_without_a_logger_provider_the_span_events_are_still_written(
    telemetry: Telemetry,
) -> None:
    recorder = Recorder(
        Settings(background=False),
        tracer_provider=telemetry.tracer_provider,
        logger_provider=NoOpLoggerProvider(),
        evaluators=[Fails()],
    )
    _call(recorder)
    assert [e.name for e in _chat_span(telemetry).events] == [EVALUATION]
    assert telemetry.events() == ()


class _Raises(LogRecordExporter):
    def export(self, batch: Sequence[Any]) -> Any:
        raise RuntimeError("log backend down")

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class _ProcessorRaises(SimpleLogRecordProcessor):
    def on_emit(self, log_record: Any) -> None:
        raise RuntimeError("processor bug")

    emit = on_emit  # older SDKs


@pytest.mark.parametrize(
    "processor", [SimpleLogRecordProcessor(_Raises()), _ProcessorRaises(_Raises())]
)
def test_a_failing_logs_pipeline_never_breaks_the_run(telemetry: Telemetry, processor: Any) -> None:
    provider = LoggerProvider()
    provider.add_log_record_processor(processor)
    recorder = Recorder(
        Settings(capture=CaptureMode.SPAN_AND_EVENT, background=False),
        tracer_provider=telemetry.tracer_provider,
        logger_provider=provider,
        evaluators=[Fails(), Passes()],
    )
    _call(recorder)
    span = _chat_span(telemetry)
    attrs = dict(span.attributes or {})
    assert semconv.GEN_AI_OUTPUT_MESSAGES in attrs
    assert attrs["semtrace.quality.always_fails"] == 0.1  # each verdict after a failed emit
    assert attrs["semtrace.quality.always_passes"] == 0.9
    assert [e.name for e in span.events] == [EVALUATION, EVALUATION, DETAILS]


def test_span_events_is_checked_when_settings_are_built() -> None:
    with pytest.raises(ValueError, match="span_events"):
        Settings(span_events="no")  # type: ignore[arg-type]


def test_semtrace_span_events_false_turns_the_span_event_form_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEMTRACE_SPAN_EVENTS", "false")
    assert Settings.resolve().span_events is False
    monkeypatch.setenv("SEMTRACE_SPAN_EVENTS", "maybe")
    assert Settings.resolve().span_events is True  # a bad value warns, and keeps the default
    monkeypatch.delenv("SEMTRACE_SPAN_EVENTS")
    assert Settings.resolve().span_events is True


def test_the_suites_schema_check_reads_the_structured_content_of_log_events(
    telemetry: Telemetry,
) -> None:
    _call(telemetry.recorder(capture=CaptureMode.EVENT_ONLY, background=False))
    [event] = telemetry.events(DETAILS)
    assert schemas.problems("details", event.attributes) == []
    unfinished = {**event.attributes, semconv.GEN_AI_OUTPUT_MESSAGES: ({"role": "a", "parts": ()},)}
    [problem] = schemas.problems("details", unfinished)
    assert "finish_reason" in problem
