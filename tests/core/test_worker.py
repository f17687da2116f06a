"""Nothing waits on the caller's thread: ended runs become telemetry on semtrace's worker.

The worker is held busy at a gate (a piece of work that waits for an event), so "the
worker has not got to it yet" is certain rather than a race.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
import time

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Recorder, Settings, semconv
from semtrace import _worker as worker
from semtrace.export.processors import WrappingProcessor
from semtrace.records import ModelEnd, ModelStart, Usage, ValueEnd, WorkflowStart
from semtrace.testing import Telemetry

from tests.core.model_calls import answer, chat


def _chat() -> ModelStart:
    return chat("What is a GIL?")


def _answer() -> ModelEnd:
    return answer("A lock.", usage=Usage(input_tokens=5, output_tokens=2))


def test_a_run_ends_on_the_worker_with_its_true_end_time(
    telemetry: Telemetry, busy_worker: threading.Event
) -> None:
    recorder = telemetry.recorder(count_tokens=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())  # returns at once: the worker is busy
    returned_ns = time.time_ns()
    assert telemetry.exporter.get_finished_spans() == ()
    time.sleep(0.01)  # the worker gets to it later than the call ended
    busy_worker.set()
    (span,) = telemetry.spans()
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 5
    assert span.end_time <= returned_ns


def test_a_full_queue_finishes_the_run_on_the_callers_thread(
    telemetry: Telemetry, busy_worker: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "MAX_QUEUED", 0)
    recorder = telemetry.recorder(count_tokens=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    (span,) = telemetry.exporter.get_finished_spans()  # not dropped, not waiting
    assert span.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 2


def test_background_off_finishes_every_run_on_the_callers_thread(
    telemetry: Telemetry, busy_worker: threading.Event
) -> None:
    recorder = telemetry.recorder(count_tokens=False, background=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    assert [s.name for s in telemetry.exporter.get_finished_spans()] == ["chat gpt-4o-mini"]


def test_the_root_still_ends_after_its_children(
    telemetry: Telemetry, busy_worker: threading.Event
) -> None:
    recorder = telemetry.recorder(count_tokens=False)
    recorder.start("root", None, WorkflowStart(name="rag"))
    recorder.start("call", "root", _chat())
    recorder.end("call", _answer())
    recorder.end("root", ValueEnd(output="A lock."))
    busy_worker.set()
    assert [s.name for s in telemetry.spans()] == ["chat gpt-4o-mini", "invoke_workflow rag"]
    telemetry.assert_spans_well_formed()


def test_an_app_span_around_a_chain_is_passed_on_after_the_chains_spans(
    busy_worker: threading.Event,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(WrappingProcessor(SimpleSpanProcessor(exporter)))
    recorder = Recorder(Settings(count_tokens=False), tracer_provider=provider)
    with provider.get_tracer("app").start_as_current_span("POST /ask"):
        recorder.start("root", None, WorkflowStart(name="rag"))
        recorder.end("root", ValueEnd(output="A lock."))
    assert exporter.get_finished_spans() == ()  # the app's span waits for its trace
    busy_worker.set()
    assert worker.drain(10)
    assert [s.name for s in exporter.get_finished_spans()] == ["invoke_workflow rag", "POST /ask"]


def test_what_the_app_changes_after_a_run_returned_is_not_recorded(
    telemetry: Telemetry, busy_worker: threading.Event
) -> None:
    recorder = telemetry.recorder(count_tokens=False, capture=semtrace_span_only())
    state = {"messages": ["What is a GIL?", "A lock."]}
    recorder.start("root", None, WorkflowStart(name="graph"))
    recorder.end("root", ValueEnd(output=state))
    state["messages"].append("Next question")  # the app reuses its state
    state["step"] = 2  # type: ignore[assignment]
    busy_worker.set()
    (span,) = telemetry.spans()
    recorded = span.attributes[semconv.SEMTRACE_OUTPUT_VALUE]
    assert "A lock." in recorded
    assert "Next question" not in recorded and "step" not in recorded


def test_metric_points_keep_the_runs_span_as_their_exemplar(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(count_tokens=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    (span,) = telemetry.spans()
    (point,) = telemetry.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert [e.span_id for e in point.exemplars] == [span.context.span_id]


def test_work_that_drains_from_the_worker_does_not_wait_for_itself() -> None:
    results: list[bool] = []
    assert worker.submit(lambda: results.append(worker.drain(30)))
    assert worker.drain(10)  # would time out if the worker waited for itself
    assert len(results) == 1


def test_a_forked_child_starts_with_no_work_of_its_parent(busy_worker: threading.Event) -> None:
    context = multiprocessing.get_context("fork")
    child = context.Process(target=_child_submits_and_drains)
    child.start()  # the parent's worker is busy and holds queued work at the fork
    child.join(30)
    assert child.exitcode == 0


def _child_submits_and_drains() -> None:
    ran: list[int] = []
    ok = worker.pending() == 0 and worker.submit(lambda: ran.append(1))
    raise SystemExit(0 if ok and worker.drain(10) and ran == [1] else 1)


def semtrace_span_only() -> object:
    from semtrace.config import CaptureMode

    return CaptureMode.SPAN_ONLY


def test_the_worker_gives_way_while_the_app_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "QUIET_S", 30.0)  # "busy" for the whole test
    monkeypatch.setattr(worker, "MAX_DELAY_S", 30.0)
    ran = threading.Event()
    assert worker.submit(ran.set)  # a submit is the app being busy too
    assert not ran.wait(0.2)
    assert worker.drain(10)  # a flush does not wait for the app to be quiet
    assert ran.is_set()


def test_work_waits_for_a_quiet_app_only_so_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "QUIET_S", 30.0)
    monkeypatch.setattr(worker, "MAX_DELAY_S", 0.05)
    ran = threading.Event()
    assert worker.submit(ran.set)
    assert ran.wait(10)  # no drain: the app that is never quiet still gets its telemetry


def test_an_app_never_quiet_gets_its_work_done_at_the_rate_it_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "QUIET_S", 30.0)
    monkeypatch.setattr(worker, "MAX_DELAY_S", 0.2)
    ran: list[int] = []
    last = threading.Event()
    for i in range(49):  # one after another: 10 s if each waited its own delay
        assert worker.submit(functools.partial(ran.append, i))
    assert worker.submit(last.set)
    assert last.wait(5)
    assert ran == list(range(49))


def test_a_failed_runs_traceback_is_formatted_on_the_callers_thread(
    telemetry: Telemetry, parsed_on: list[str]
) -> None:
    # Python 3.11 parses source to format a traceback; two threads parsing at once fail
    # ("AST constructor recursion depth mismatch"), so the worker must never do it.
    recorder = telemetry.recorder(count_tokens=False)
    recorder.start("call", None, _chat())
    try:
        raise ValueError("the model refused")
    except ValueError as error:
        recorder.fail("call", error)
    (span,) = telemetry.spans()
    assert span.events[0].attributes["exception.stacktrace"]
    assert "semtrace-telemetry" not in parsed_on


def test_a_fault_on_the_worker_is_logged_without_parsing_source(
    parsed_on: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    import uuid

    from semtrace.safety import record_fault

    def failing_work() -> None:
        try:
            {}["missing"]
        except KeyError:
            record_fault(f"test {uuid.uuid4()}")

    caplog.set_level("DEBUG", logger="semtrace.safety")
    assert worker.submit(failing_work)
    assert worker.drain(10)
    [logged] = [r.getMessage() for r in caplog.records if "test " in r.getMessage()]
    assert "failing_work" in logged and "KeyError" in logged  # the traceback is there
    assert "semtrace-telemetry" not in parsed_on
