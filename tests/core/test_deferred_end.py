"""Nothing waits for the tokenizer: a call ended while its encoding loads is counted later.

The encoding's load is held at a gate (tiktoken's loader waits for it), so "the encoding is
not loaded yet when the call ends" is certain rather than a race.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import tiktoken
from semtrace import _worker as worker
from semtrace import semconv
from semtrace._telemetry import tokens
from semtrace.records import ModelEnd, ModelStart, Usage, WorkflowStart
from semtrace.testing import Telemetry

from tests.core.model_calls import answer, chat

ENCODING = "o200k_base"


@pytest.fixture
def gated_load(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A fresh load of every encoding, held until the event is set."""
    gate = threading.Event()
    real = tiktoken.get_encoding

    def held(name: str) -> Any:
        gate.wait(30)
        return real(name)

    monkeypatch.setattr(tiktoken, "get_encoding", held)
    monkeypatch.setattr(tokens, "_ready", {})
    monkeypatch.setattr(tokens, "_loads", {})
    try:
        yield gate
    finally:
        gate.set()
        worker.drain(30)


def _chat() -> ModelStart:
    return chat("What is a GIL?")


def _answer(usage: Usage | None = None) -> ModelEnd:
    return answer("A global interpreter lock.", usage=usage)


@pytest.mark.parametrize("background", [False, True], ids=["on-the-caller", "on-the-worker"])
def test_a_call_ended_before_its_encoding_loaded_is_counted_once_it_has(
    telemetry: Telemetry, gated_load: threading.Event, background: bool
) -> None:
    recorder = telemetry.recorder(
        count_tokens=True, default_encoding=ENCODING, background=background
    )
    recorder.start("root", None, WorkflowStart(name="rag"))
    recorder.start("call", "root", _chat())
    recorder.end("call", _answer())  # returns at once: the encoding is held at the gate
    ended_ns = time.time_ns()
    recorder.end("root", None)
    # Nothing has ended yet: the root waits for its child, the child for its counts.
    assert telemetry.exporter.get_finished_spans() == ()
    assert worker.pending() >= 1  # the call's end (and the worker's queue, if used)
    assert telemetry.exporter.get_finished_spans() == ()
    gated_load.set()
    call, root = telemetry.spans()  # drains the deferred end
    assert call.name == "chat gpt-4o-mini"
    assert call.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert call.attributes[semconv.SEMTRACE_USAGE_SOURCE] == semconv.USAGE_SOURCE_TIKTOKEN
    assert call.end_time <= ended_ns  # its true end, not when it was counted
    assert root.attributes[semconv.SEMTRACE_TRACE_INPUT_TOKENS] > 0  # roll-ups saw the count
    (usage_points,) = [telemetry.metric_points(semconv.METRIC_TOKEN_USAGE)]
    assert {p.attributes[semconv.GEN_AI_TOKEN_TYPE] for p in usage_points} == {
        semconv.TOKEN_TYPE_INPUT,
        semconv.TOKEN_TYPE_OUTPUT,
    }
    # Counted on the thread that loaded the encoding, still with the call's span current.
    assert {e.span_id for p in usage_points for e in p.exemplars} == {call.context.span_id}
    telemetry.assert_spans_well_formed()


def test_a_call_the_provider_counted_ends_at_once(
    telemetry: Telemetry, gated_load: threading.Event
) -> None:
    recorder = telemetry.recorder(count_tokens=True, default_encoding=ENCODING, background=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer(Usage(input_tokens=7, output_tokens=3)))
    (span,) = telemetry.exporter.get_finished_spans()
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7


def test_past_the_bound_the_caller_does_the_work_itself(
    telemetry: Telemetry, gated_load: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "MAX_PENDING", 0)
    monkeypatch.setattr(tokens, "_LOCAL_LOAD_WAIT_S", 0.01)  # so that the caller gives up
    recorder = telemetry.recorder(count_tokens=True, default_encoding=ENCODING, background=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    (span,) = telemetry.exporter.get_finished_spans()  # ended by the caller, not dropped
    assert span.name == "chat gpt-4o-mini"
