"""LangChainInstrumentor: every run traced with no code change, and cleanly removable."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points

import pytest
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler, LangChainInstrumentor

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


@pytest.fixture
def instrumented(telemetry: Telemetry) -> Iterator[LangChainInstrumentor]:
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    yield instrumentor
    instrumentor.uninstrument()


def test_instrument_traces_runs_without_callbacks(
    telemetry: Telemetry, instrumented: LangChainInstrumentor
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION)
    assert [s.attributes["gen_ai.operation.name"] for s in telemetry.spans()] == [
        "retrieval",
        "chat",
        "invoke_workflow",
    ]


def test_uninstrument_stops_tracing(telemetry: Telemetry) -> None:
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    instrumentor.uninstrument()
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION)
    assert telemetry.spans() == ()


def test_instrument_twice_records_each_run_once(
    telemetry: Telemetry, instrumented: LangChainInstrumentor
) -> None:
    LangChainInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION)
    assert len(telemetry.spans()) == 3


def test_handler_in_config_with_instrumentor_gives_no_duplicates(
    telemetry: Telemetry, instrumented: LangChainInstrumentor
) -> None:
    own = Telemetry()
    handler = CallbackHandler(tracer_provider=own.tracer_provider)
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert len(own.spans()) == 3, "the user's handler records the run"
    assert telemetry.spans() == (), "the global handler stays out of it"


def test_handler_in_config_of_a_nested_call_gives_no_duplicates(
    telemetry: Telemetry, instrumented: LangChainInstrumentor
) -> None:
    from langchain_core.runnables import RunnableLambda

    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider)
    inner = fake_chat("ok")
    outer = RunnableLambda(lambda x, config: inner.invoke(x, config=config))
    outer.invoke("hi", config={"callbacks": [handler]})
    assert sorted(s.name for s in telemetry.spans()) == [
        "chat gpt-4o-mini",
        "invoke_workflow RunnableLambda",
    ]


def test_entry_point_is_registered_for_opentelemetry_instrument() -> None:
    # Other LangChain instrumentations (tests/adopt's) register the same name: ours is one.
    found = [
        ep
        for ep in entry_points(group="opentelemetry_instrumentor")
        if ep.name == "langchain" and ep.value.startswith("semtrace_langchain")
    ]
    assert len(found) == 1 and found[0].load() is LangChainInstrumentor


def test_declared_framework_range_matches_the_instruments_extra() -> None:
    from importlib.metadata import requires

    from packaging.requirements import Requirement
    from semtrace_langchain.package import _instruments

    declared = [Requirement(r) for r in requires("semtrace-langchain") or []]
    extra = {(r.name, r.specifier) for r in declared if r.marker and "instruments" in str(r.marker)}
    assert extra == {(Requirement(i).name, Requirement(i).specifier) for i in _instruments}
