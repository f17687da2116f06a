"""The judge (a background evaluator) on other instrumentations' spans.

The :class:`~semtrace.quality.judge.GroundednessJudge` runs on semtrace's evaluator
thread, as for semtrace's own runs; its verdict lands on the judged foreign span: on the
exported copy while the trace is held (within ``judge_wait_s``), and in any case on the
evaluation sinks with that span's ids. Its model here is a plain callable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Settings, semconv
from semtrace.adopt import VerdictProcessor
from semtrace.quality.evaluators import wait_for_evaluations
from semtrace.quality.judge import GroundednessJudge, JudgeReply
from semtrace.testing import Telemetry

from tests.adopt.cases import FABRICATED, GOOD
from tests.adopt.test_processor import rag_trace
from tests.kept_evaluations import Keeping

JUDGE = semconv.SEMTRACE_QUALITY_PREFIX + "groundedness_judge"
FINAL = semconv.SEMTRACE_QUALITY_PREFIX + "groundedness_final"
CHAT = "chat gpt-4o-mini"


def _judge(ask: Callable[[str], JudgeReply | None] | None = None) -> GroundednessJudge:
    return GroundednessJudge(ask or (lambda prompt: JudgeReply("UNSUPPORTED")))


def _judged(answer: str, judge: GroundednessJudge, **options: object) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(
        SimpleSpanProcessor(exporter), settings=Settings(), evaluators=[judge], **options
    )
    provider = TracerProvider()
    provider.add_span_processor(verdicts)
    rag_trace(provider, answer)
    return exporter


def _exported(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    """The span once exported (the trace leaves on the evaluator thread or at its deadline)."""
    for _ in range(1000):
        found = [s for s in exporter.get_finished_spans() if s.name == name]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"{name} was never exported")


def test_the_judges_verdict_lands_on_the_exported_foreign_span() -> None:
    chat = _exported(_judged(FABRICATED, _judge()), CHAT)
    attributes = chat.attributes or {}
    assert attributes[JUDGE + ".label"] == "fail"
    assert attributes[FINAL + ".label"] == "fail"
    judged = [
        e
        for e in chat.events
        if (e.attributes or {}).get(semconv.GEN_AI_EVALUATION_NAME) == "groundedness_judge"
    ]
    assert len(judged) == 1 and judged[0].name == semconv.EVENT_EVALUATION_RESULT


def test_the_judge_runs_on_the_evaluator_thread_not_the_callers() -> None:
    threads: list[str] = []

    def ask(prompt: str) -> JudgeReply:
        threads.append(threading.current_thread().name)
        return JudgeReply("UNSUPPORTED")

    _exported(_judged(FABRICATED, _judge(ask)), CHAT)
    assert threads and threading.main_thread().name not in threads


def test_the_judges_own_model_usage_is_not_written_on_the_foreign_span() -> None:
    chat = _exported(_judged(FABRICATED, _judge()), CHAT)
    assert semconv.SEMTRACE_USAGE_PURPOSE not in (chat.attributes or {})


def test_an_answer_the_judge_is_not_asked_about_does_not_hold_its_trace() -> None:
    # Grounded: the built-in signal passes, the judge is not escalated to; the trace
    # leaves as soon as its (empty) evaluation is over, long before its deadline.
    chat = _exported(_judged(GOOD, _judge(), judge_wait_s=600), CHAT)
    assert JUDGE not in (chat.attributes or {})
    assert (chat.attributes or {})[semconv.SEMTRACE_QUALITY_PREFIX + "groundedness.label"] == "pass"


def test_past_its_deadline_the_trace_leaves_and_the_verdict_reaches_the_sinks(
    sink: Keeping,
) -> None:
    go_on = threading.Event()

    def slow(prompt: str) -> JudgeReply:
        go_on.wait(10)
        return JudgeReply("UNSUPPORTED")

    exporter = _judged(FABRICATED, _judge(slow), judge_wait_s=0.05)
    chat = _exported(exporter, CHAT)  # left while the judge was still thinking
    go_on.set()
    assert JUDGE not in (chat.attributes or {})
    assert wait_for_evaluations(10)
    [record] = [r for r in sink.records if r.name == "groundedness_judge"]
    assert (record.trace_id, record.span_id) == (chat.context.trace_id, chat.context.span_id)
    assert record.label == "fail"


def test_a_verdict_arriving_late_is_a_log_record_of_the_judged_span() -> None:
    go_on = threading.Event()

    def slow(prompt: str) -> JudgeReply:
        go_on.wait(10)
        return JudgeReply("UNSUPPORTED")

    telemetry = Telemetry()
    exporter = _judged(
        FABRICATED, _judge(slow), judge_wait_s=0.05, logger_provider=telemetry.logger_provider
    )
    chat = _exported(exporter, CHAT)
    go_on.set()
    assert wait_for_evaluations(10)
    judged = [
        e
        for e in telemetry.events(semconv.EVENT_EVALUATION_RESULT)
        if (e.attributes or {}).get(semconv.GEN_AI_EVALUATION_NAME) == "groundedness_judge"
    ]
    assert [(e.trace_id, e.span_id) for e in judged] == [
        (chat.context.trace_id, chat.context.span_id)
    ]
    telemetry.shutdown()


def test_past_max_traces_waiting_the_oldest_leaves_without_the_judges_verdict() -> None:
    go_on = threading.Event()

    def slow(prompt: str) -> JudgeReply:
        go_on.wait(10)
        return JudgeReply("UNSUPPORTED")

    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(
        SimpleSpanProcessor(exporter),
        settings=Settings(),
        evaluators=[_judge(slow)],
        max_traces=1,
        judge_wait_s=600,
    )
    provider = TracerProvider()
    provider.add_span_processor(verdicts)
    rag_trace(provider, FABRICATED)
    rag_trace(provider, FABRICATED)  # a second trace waiting: the first one leaves
    chat = _exported(exporter, CHAT)
    go_on.set()
    assert JUDGE not in (chat.attributes or {})
    verdicts.force_flush()
    assert len([s for s in exporter.get_finished_spans() if s.name == CHAT]) == 2


def test_alone_the_judges_verdict_is_emitted_with_the_others() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    verdicts = VerdictProcessor(
        tracer_provider=provider, settings=Settings(), evaluators=[_judge()]
    )
    provider.add_span_processor(verdicts)
    rag_trace(provider, FABRICATED)
    child = _exported(exporter, "evaluate " + CHAT)
    assert (child.attributes or {})[JUDGE + ".label"] == "fail"


def test_a_bad_judge_wait_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="judge_wait_s"):
        VerdictProcessor(judge_wait_s=-1)
