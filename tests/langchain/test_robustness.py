"""The handler never breaks the application and never grows without bound."""

from __future__ import annotations

import math
import uuid

import pytest
from semtrace import Settings, semconv
from semtrace.safety import fault_count, faults
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


class Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def cyclic() -> dict:
    d: dict = {"name": "loop"}
    d["self"] = d
    return d


GARBAGE = [
    None,
    "",
    "x" * 1_000_000,
    b"\x00\xff" * 100,
    math.nan,
    Hostile(),
    cyclic(),
    {1: 2, (3,): 4},
    [[[[[]]]]],
]


@pytest.mark.parametrize("payload", GARBAGE, ids=lambda p: type(p).__name__)
def test_callbacks_tolerate_any_payload(telemetry: Telemetry, payload: object) -> None:
    """Each start either opens a run or counts one fault at its callback; the core never faults.

    What the translation cannot read is lost (and counted) at the callback that received
    it; the recorder takes whatever record it is given, so no fault is counted in it, and
    every run that was opened ends as one valid span.
    """
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, capture_content=True)
    run, child = uuid.uuid4(), uuid.uuid4()
    starts = {
        "on_chain_start": lambda: handler.on_chain_start(
            payload,  # type: ignore[arg-type]
            payload,
            run_id=run,
            metadata=payload,  # type: ignore[arg-type]
            name=payload,
        ),
        "on_chat_model_start": lambda: handler.on_chat_model_start(
            payload,  # type: ignore[arg-type]
            [[payload]],
            run_id=child,
            parent_run_id=run,
            invocation_params=payload,
            metadata=payload,  # type: ignore[arg-type]
        ),
        "on_tool_start": lambda: handler.on_tool_start(
            payload,  # type: ignore[arg-type]
            payload,  # type: ignore[arg-type]
            run_id=uuid.uuid4(),
            parent_run_id=run,
            inputs=payload,
        ),
        "on_retriever_start": lambda: handler.on_retriever_start(
            payload,  # type: ignore[arg-type]
            payload,  # type: ignore[arg-type]
            run_id=uuid.uuid4(),
            parent_run_id=run,
        ),
    }
    before = faults()
    opened = 0
    for name, start in starts.items():
        runs, faulted = handler.recorder.open_runs, fault_count(f"CallbackHandler.{name}")
        start()
        outcome = (
            handler.recorder.open_runs - runs,
            fault_count(f"CallbackHandler.{name}") - faulted,
        )
        assert outcome in ((1, 0), (0, 1)), (name, outcome)
        opened += outcome[0]
    handler.on_llm_new_token(payload, run_id=child)  # type: ignore[arg-type]
    handler.on_llm_end(payload, run_id=child)
    handler.on_retriever_end(payload, run_id=uuid.uuid4())  # type: ignore[arg-type]
    handler.on_chain_end(payload, run_id=run)
    handler.on_chain_error(payload, run_id=uuid.uuid4())  # type: ignore[arg-type]
    handler.recorder.close()  # the runs this left open end, marked abandoned
    new_faults = {k for k, n in faults().items() if n != before.get(k, 0)}
    # A model's prompt, parameters and response are read on the worker: a payload they
    # cannot be read from faults there, and loses those facts only.
    read_later = {"LazySequence", "LazyParams", "Recorder.end read"}
    assert all(site.startswith("CallbackHandler.") or site in read_later for site in new_faults), (
        new_faults
    )
    assert len(telemetry.spans()) == opened
    for span in telemetry.spans():
        for value in span.attributes.values():
            assert isinstance(value, (str, bool, int, float, tuple))


def test_an_exception_inside_semtrace_does_not_reach_the_app(
    telemetry: Telemetry, handler: CallbackHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    from semtrace import fault_count
    from semtrace_langchain import translate

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug in semtrace")

    monkeypatch.setattr(translate, "model_start", broken)
    before = fault_count()
    assert rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]}) == ANSWER
    assert fault_count() > before


def test_runs_that_never_end_are_evicted_past_the_limit(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, settings=Settings(max_open_runs=50)
    )
    for _ in range(500):
        handler.on_chain_start({}, {}, run_id=uuid.uuid4(), name="never-ends")
    assert handler.recorder.open_runs == 50
    evicted = telemetry.spans()
    assert len(evicted) == 450
    assert all(s.attributes[semconv.SEMTRACE_RUN_ABANDONED] is True for s in evicted)
    handler.recorder.close()


def test_runs_older_than_the_timeout_are_ended(telemetry: Telemetry) -> None:
    import time

    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, settings=Settings(run_timeout_s=0.01)
    )
    handler.on_chain_start({}, {}, run_id=uuid.uuid4(), name="stuck")
    time.sleep(0.02)
    handler.on_chain_start({}, {}, run_id=uuid.uuid4(), name="next")
    [stuck] = telemetry.spans()
    assert stuck.name == "invoke_workflow stuck"
    assert stuck.attributes[semconv.SEMTRACE_RUN_ABANDONED] is True
    handler.recorder.close()


def test_hidden_runs_count_toward_the_bound(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, settings=Settings(max_open_runs=10)
    )
    root = uuid.uuid4()
    handler.on_chain_start({}, {}, run_id=root, name="root")
    for _ in range(100):
        handler.on_chain_start({}, {}, run_id=uuid.uuid4(), parent_run_id=root, name="plumbing")
    assert handler.recorder.open_runs == 10
    handler.recorder.close()
    assert handler.recorder.open_runs == 0


def test_end_of_an_unknown_run_is_ignored(telemetry: Telemetry, handler: CallbackHandler) -> None:
    """Ends for runs never started change nothing: no fault, no span, other runs intact."""
    known = uuid.uuid4()
    handler.on_chain_start({}, {}, run_id=known, name="known")
    before = faults()
    handler.on_chain_end({}, run_id=uuid.uuid4())
    handler.on_llm_error(RuntimeError("x"), run_id=uuid.uuid4())
    handler.on_retriever_end([], run_id=uuid.uuid4())
    handler.on_tool_end("x", run_id=uuid.uuid4())
    assert faults() == before  # handled, not swallowed
    assert telemetry.spans() == ()
    assert handler.recorder.open_runs == 1
    handler.on_chain_end({"answer": "ok"}, run_id=known)
    (span,) = telemetry.spans()
    assert span.name == "invoke_workflow known"
    assert semconv.SEMTRACE_RUN_ABANDONED not in span.attributes
    assert handler.recorder.open_runs == 0


def test_no_span_is_built_for_a_sampled_out_trace(telemetry: Telemetry) -> None:
    """A sampled-out trace costs no span work: no content, no signals; metrics still count."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    redacted: list[str] = []

    def redact(text: str) -> str:
        redacted.append(text)
        return text

    sampled_out = CallbackHandler(
        tracer_provider=provider,
        meter_provider=telemetry.meter_provider,
        capture_content=True,
        redact=redact,
    )
    assert (
        rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [sampled_out]}) == ANSWER
    )
    assert exporter.get_finished_spans() == ()
    assert sampled_out.recorder.open_runs == 0
    assert redacted == []  # no content was serialised for spans nobody keeps
    assert telemetry.metric_points(semconv.METRIC_QUALITY_SCORE) == []  # no signal computed
    (duration,) = telemetry.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1  # the call is still counted
