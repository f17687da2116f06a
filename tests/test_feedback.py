"""semtrace.feedback joins a user's score to an earlier trace, by every kind of target."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import semtrace
from langchain_core.tools import tool
from opentelemetry.sdk.trace import ReadableSpan
from semtrace import TraceRef, semconv
from semtrace._recording import feedback as userfeedback
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.langchain.pipelines import fake_chat
from tests.llamaindex.fakes import AnswerLLM


def handler(telemetry: Telemetry) -> CallbackHandler:
    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )


def answer_once(telemetry: Telemetry) -> None:
    """One traced call (its recorder becomes feedback's default sink), then no spans."""
    fake_chat("Paris.").invoke("Capital?", config={"callbacks": [handler(telemetry)]})
    assert telemetry.spans()  # ended (deferred ends waited for)
    telemetry.clear()


def root_of(telemetry: Telemetry) -> ReadableSpan:
    [root] = [s for s in telemetry.spans() if s.parent is None]
    return root


def feedback_span(telemetry: Telemetry) -> ReadableSpan:
    [span] = [s for s in telemetry.spans() if s.name == "feedback user_feedback"]
    return span


def assert_joined(telemetry: Telemetry, root: ReadableSpan, score: float, label: str) -> None:
    span = feedback_span(telemetry)
    assert span.context.trace_id == root.context.trace_id
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    [event] = span.events
    assert event.name == semconv.EVENT_EVALUATION_RESULT
    assert event.attributes[semconv.GEN_AI_EVALUATION_NAME] == "user_feedback"
    assert event.attributes[semconv.GEN_AI_EVALUATION_SCORE_VALUE] == score
    assert event.attributes[semconv.GEN_AI_EVALUATION_SCORE_LABEL] == label
    points = telemetry.metric_points(semconv.METRIC_FEEDBACK_SCORE)
    assert [(p.sum, p.attributes[semconv.GEN_AI_EVALUATION_SCORE_LABEL]) for p in points] == [
        (score, label)
    ]


@pytest.mark.parametrize("as_text", [False, True], ids=["uuid", "string"])
def test_feedback_by_langchain_run_id_after_export(telemetry: Telemetry, as_text: bool) -> None:
    run_id = uuid.uuid4()
    fake_chat("Paris.").invoke(
        "Capital?", config={"callbacks": [handler(telemetry)], "run_id": run_id}
    )
    root = root_of(telemetry)  # already exported
    target: Any = str(run_id) if as_text else run_id
    assert semtrace.feedback(target, 0.0, label="wrong", comment="It is Lyon.") is True
    assert_joined(telemetry, root, 0.0, "wrong")
    [event] = feedback_span(telemetry).events
    assert event.attributes[semconv.GEN_AI_EVALUATION_EXPLANATION] == "It is Lyon."


def test_feedback_is_also_a_log_event_of_its_feedback_span(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, logger_provider=telemetry.logger_provider
    )
    run_id = uuid.uuid4()
    fake_chat("Paris.").invoke("Capital?", config={"callbacks": [handler], "run_id": run_id})
    assert semtrace.feedback(run_id, 0.0, label="wrong", comment="It is Lyon.") is True
    span = feedback_span(telemetry)
    [event] = telemetry.events(semconv.EVENT_EVALUATION_RESULT)
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)
    assert dict(event.attributes or {}) == dict(span.events[0].attributes or {})


def test_feedback_by_captured_reference_in_langchain(telemetry: Telemetry) -> None:
    with semtrace.trace_capture() as captured:
        fake_chat("Paris.").invoke("Capital?", config={"callbacks": [handler(telemetry)]})
    assert captured.ref is not None
    assert semtrace.feedback(captured.ref, 1.0, label="helpful")
    assert_joined(telemetry, root_of(telemetry), 1.0, "helpful")


def test_feedback_by_captured_reference_in_llamaindex(telemetry: Telemetry) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    try:
        with semtrace.trace_capture() as captured:
            AnswerLLM().complete("Capital of France?")
    finally:
        instrumentor.uninstrument()
    assert captured.ref is not None
    assert semtrace.feedback(captured.ref, 0.5, label="meh")
    assert_joined(telemetry, root_of(telemetry), 0.5, "meh")


def test_feedback_by_ids_from_the_apps_logs(telemetry: Telemetry) -> None:
    fake_chat("Paris.").invoke("Capital?", config={"callbacks": [handler(telemetry)]})
    root = root_of(telemetry)
    logged = (format(root.context.trace_id, "032x"), format(root.context.span_id, "016x"))
    telemetry_providers = handler(telemetry)  # the process's recorder is the default sink
    assert telemetry_providers is not None
    assert semtrace.feedback(TraceRef.from_hex(*logged), 0.2, label="slow")
    assert_joined(telemetry, root, 0.2, "slow")
    assert semtrace.feedback(logged, 0.2, label="slow")  # a plain pair of hex strings


def test_current_trace_inside_a_tool_names_the_running_trace(telemetry: Telemetry) -> None:
    seen: list[TraceRef | None] = []

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        seen.append(semtrace.current_trace())
        return city

    h = handler(telemetry)
    with telemetry.tracer_provider.get_tracer("app").start_as_current_span("request"):
        lookup.invoke({"city": "Paris"}, config={"callbacks": [h]})
    [ref] = seen
    assert ref is not None
    assert ref.trace_id == telemetry.span("request").context.trace_id


def test_current_trace_inside_a_langchain_tool_names_the_tool_span(telemetry: Telemetry) -> None:
    seen: list[TraceRef | None] = []

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        seen.append(semtrace.current_trace())
        return city

    lookup.invoke({"city": "Paris"}, config={"callbacks": [handler(telemetry)]})
    [ref] = seen
    [span] = telemetry.by_operation("execute_tool")
    assert ref == TraceRef(span.context.trace_id, span.context.span_id)


async def test_current_trace_inside_an_async_langchain_tool_names_the_tool_span(
    telemetry: Telemetry,
) -> None:
    seen: list[TraceRef | None] = []

    @tool
    async def lookup(city: str) -> str:
        """Look a city up."""
        seen.append(semtrace.current_trace())
        return city

    await lookup.ainvoke({"city": "Paris"}, config={"callbacks": [handler(telemetry)]})
    [ref] = seen
    [span] = telemetry.by_operation("execute_tool")
    assert ref == TraceRef(span.context.trace_id, span.context.span_id)


def test_no_span_stays_current_after_a_langchain_tool(telemetry: Telemetry) -> None:
    from opentelemetry import trace

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    lookup.invoke({"city": "Paris"}, config={"callbacks": [handler(telemetry)]})
    assert not trace.get_current_span().get_span_context().is_valid
    assert semtrace.current_trace() is None


def test_unknown_run_id_and_bad_scores_are_refused(telemetry: Telemetry) -> None:
    run_id = uuid.uuid4()
    fake_chat("Paris.").invoke(
        "Capital?", config={"callbacks": [handler(telemetry)], "run_id": run_id}
    )
    assert semtrace.feedback(uuid.uuid4(), 1.0) is False
    assert semtrace.feedback(run_id, float("nan")) is False
    assert semtrace.feedback(run_id, True) is False  # type: ignore[arg-type]
    assert not [s for s in telemetry.spans() if s.name.startswith("feedback")]


@pytest.mark.parametrize(
    "target",
    [
        ("0" * 32, "0" * 16),  # what apps log while no span is active
        (0, 0),
        TraceRef(0, 0),
        ("0" * 32, "1" * 16),  # no trace
        ("1" * 32, "0" * 16),  # no span
    ],
    ids=["hex", "ints", "ref", "zero-trace", "zero-span"],
)
def test_feedback_to_zero_ids_is_refused_and_exports_nothing(
    telemetry: Telemetry, target: Any
) -> None:
    answer_once(telemetry)  # its recorder is the default sink
    assert semtrace.feedback(target, 1.0) is False
    assert not telemetry.spans()
    assert not telemetry.metric_points(semconv.METRIC_FEEDBACK_SCORE)


@pytest.mark.parametrize(
    "target",
    [
        ("not hex", "0" * 16),
        ("1" * 33, "1" * 16),  # a trace id is 128 bits
        ("1" * 32, "1" * 17),  # a span id is 64 bits
        (2**128, 1),
        (1, 2**64),
        (-1, 1),
        TraceRef(-5, 7),
        (True, 1),
    ],
    ids=["not-hex", "long-trace", "long-span", "big-trace", "big-span", "negative", "ref", "bool"],
)
def test_feedback_to_invalid_ids_is_refused_and_exports_nothing(
    telemetry: Telemetry, target: Any
) -> None:
    answer_once(telemetry)
    assert semtrace.feedback(target, 1.0) is False
    assert not telemetry.spans()
    assert not telemetry.metric_points(semconv.METRIC_FEEDBACK_SCORE)


def test_run_id_lookup_is_bounded(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(userfeedback, "MAX_RUN_IDS", 2)
    ids = [uuid.uuid4() for _ in range(3)]
    h = handler(telemetry)
    for run_id in ids:
        fake_chat("Paris.").invoke("Capital?", config={"callbacks": [h], "run_id": run_id})
    assert len(userfeedback._roots) <= 2
    assert semtrace.feedback(ids[0], 1.0) is False  # the oldest was forgotten
    assert semtrace.feedback(ids[-1], 1.0) is True
