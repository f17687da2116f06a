"""The handler never breaks the application and never grows without bound."""

from __future__ import annotations

import math
import uuid

import pytest
from semtrace import Settings, semconv
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
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, capture_content=True)
    run, child = uuid.uuid4(), uuid.uuid4()
    handler.on_chain_start(payload, payload, run_id=run, metadata=payload, name=payload)  # type: ignore[arg-type]
    handler.on_chat_model_start(
        payload,
        [[payload]],
        run_id=child,
        parent_run_id=run,
        invocation_params=payload,
        metadata=payload,
    )  # type: ignore[arg-type]
    handler.on_llm_new_token(payload, run_id=child)  # type: ignore[arg-type]
    handler.on_llm_end(payload, run_id=child)
    handler.on_tool_start(payload, payload, run_id=uuid.uuid4(), parent_run_id=run, inputs=payload)  # type: ignore[arg-type]
    handler.on_retriever_start(payload, payload, run_id=uuid.uuid4(), parent_run_id=run)  # type: ignore[arg-type]
    handler.on_retriever_end(payload, run_id=uuid.uuid4())  # type: ignore[arg-type]
    handler.on_chain_end(payload, run_id=run)
    handler.on_chain_error(payload, run_id=uuid.uuid4())  # type: ignore[arg-type]
    handler.recorder.close()  # the runs this left open end, marked abandoned
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


def test_end_of_an_unknown_run_is_ignored(handler: CallbackHandler) -> None:
    handler.on_chain_end({}, run_id=uuid.uuid4())
    handler.on_llm_error(RuntimeError("x"), run_id=uuid.uuid4())
    assert handler.recorder.open_runs == 0


def test_no_span_is_built_for_a_sampled_out_trace(handler: CallbackHandler) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sampled_out = CallbackHandler(tracer_provider=provider)
    assert (
        rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [sampled_out]}) == ANSWER
    )
    assert exporter.get_finished_spans() == ()
    assert sampled_out.recorder.open_runs == 0
