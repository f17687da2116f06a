"""What only the worker reads is translated there: a model's prompt, parameters, response.

An integration hands the recorder the framework's own objects (``LazySequence``,
``LazyParams``, ``LazyEnd``); the caller's thread never translates them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from semtrace import _worker as worker
from semtrace import semconv
from semtrace.records import (
    LazyEnd,
    LazyParams,
    LazySequence,
    Message,
    ModelEnd,
    ModelStart,
    TextPart,
    Usage,
    WorkflowStart,
)
from semtrace.safety import fault_count
from semtrace.testing import Telemetry


def _as_message(text: str) -> Message:
    return Message("user", [TextPart(text)])


def _translate_all(texts: Sequence[str]) -> list[Message]:
    return [_as_message(t) for t in texts]


def test_a_lazy_prompt_is_translated_on_first_read_and_only_once() -> None:
    translated: list[str] = []

    def translate(texts: Sequence[str]) -> list[Message]:
        translated.extend(texts)
        return _translate_all(texts)

    messages = LazySequence(functools.partial(translate, ("Hi", "What is a GIL?")))
    assert translated == []  # building the record costs no translation
    assert [m.parts[0].content for m in messages] == ["Hi", "What is a GIL?"]  # type: ignore[union-attr]
    assert len(messages) == 2 and messages[-1] == _as_message("What is a GIL?")
    assert next(reversed(messages)) == _as_message("What is a GIL?")
    assert messages == [_as_message("Hi"), _as_message("What is a GIL?")]
    assert translated == ["Hi", "What is a GIL?"]


def test_a_mapped_sequence_keeps_the_items_it_was_given_not_later_ones() -> None:
    prompt = ["Hi"]
    messages = LazySequence.mapped(_as_message, prompt)
    prompt.append("added by the app after the call")
    assert messages == [_as_message("Hi")]


def test_a_prompt_that_fails_to_translate_reads_as_none_and_is_counted() -> None:
    def broken() -> list[Message]:
        raise ValueError("unreadable message")

    before = fault_count("LazySequence")
    assert list(LazySequence(broken)) == []
    assert fault_count("LazySequence") == before + 1


@pytest.mark.parametrize("background", [True, False], ids=["worker", "inline"])
def test_a_lazy_end_is_read_where_the_run_is_completed(
    telemetry: Telemetry, background: bool
) -> None:
    recorder = telemetry.recorder(count_tokens=False, background=background)
    read_on: list[threading.Thread] = []

    def read() -> ModelEnd:
        read_on.append(threading.current_thread())
        return ModelEnd(
            [_as_message("A lock.")],
            usage=Usage(input_tokens=5, output_tokens=2),
            response_id="resp-1",
        )

    prompt = LazySequence(functools.partial(_translate_all, ("Hi",)))
    recorder.start("call", None, ModelStart("openai", "gpt-4o-mini", prompt))
    recorder.end("call", LazyEnd(read))
    (span,) = telemetry.spans()
    assert span.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 5
    assert span.attributes[semconv.GEN_AI_RESPONSE_ID] == "resp-1"
    expected = "semtrace-telemetry" if background else threading.current_thread().name
    assert [t.name for t in read_on] == [expected]


def test_the_caller_returns_before_the_response_is_read(
    telemetry: Telemetry, busy_worker: threading.Event
) -> None:
    recorder = telemetry.recorder(count_tokens=False, background=True)
    read = threading.Event()

    def read_later() -> ModelEnd:
        read.set()
        return ModelEnd([_as_message("A lock.")])

    recorder.start("call", None, ModelStart("openai", "gpt-4o-mini", []))
    recorder.end("call", LazyEnd(read_later))
    assert not read.is_set()  # the worker is busy: nobody has read the response yet
    busy_worker.set()
    assert worker.drain(30)
    assert read.is_set()


def test_a_response_that_fails_to_read_loses_its_facts_not_the_span(
    telemetry: Telemetry,
) -> None:
    recorder = telemetry.recorder(count_tokens=False, background=True)

    def broken() -> ModelEnd:
        raise KeyError("generations")

    before = fault_count("Recorder.end read")
    recorder.start("root", None, WorkflowStart(name="rag"))
    recorder.start("call", "root", ModelStart("openai", "gpt-4o-mini", []))
    recorder.end("call", LazyEnd(broken))
    recorder.end("root", None)
    call, root = telemetry.spans()
    assert call.name == "chat gpt-4o-mini" and root.name == "invoke_workflow rag"
    assert semconv.GEN_AI_RESPONSE_ID not in call.attributes
    assert fault_count("Recorder.end read") == before + 1


def test_lazy_params_read_on_first_use_and_a_fault_reads_as_none() -> None:
    reads: list[int] = []

    def read() -> dict[str, Any]:
        reads.append(1)
        return {"temperature": 0.2}

    params = LazyParams(read)
    assert reads == []
    assert dict(params) == {"temperature": 0.2} and params["temperature"] == 0.2
    assert reads == [1]

    def broken() -> dict[str, Any]:
        raise AttributeError("model object without fields")

    before = fault_count("LazyParams")
    assert dict(LazyParams(broken)) == {}
    assert fault_count("LazyParams") == before + 1


@pytest.mark.parametrize("how", ["ended", "abandoned"])
def test_request_parameters_reach_the_span_however_the_call_ends(
    telemetry: Telemetry, how: str
) -> None:
    recorder = telemetry.recorder(count_tokens=False, background=True)
    params = LazyParams(lambda: {"temperature": 0.2, "max_tokens": 64})
    recorder.start("call", None, ModelStart("openai", "gpt-4o-mini", [], params=params))
    if how == "ended":
        recorder.end("call", ModelEnd([_as_message("A lock.")]))
    else:
        recorder.close()
    (span,) = telemetry.spans()
    assert span.attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert span.attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 64
