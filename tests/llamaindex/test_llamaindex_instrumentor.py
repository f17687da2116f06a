"""The instrumentor adds one span and one event handler to the root dispatcher, and removes them."""

from __future__ import annotations

from importlib.metadata import entry_points

from llama_index.core import VectorStoreIndex
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.tools import FunctionTool
from opentelemetry import trace
from semtrace.testing import Telemetry
from semtrace_llamaindex import LlamaIndexInstrumentor
from semtrace_llamaindex.events import EventHandler
from semtrace_llamaindex.handler import SpanHandler

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import QUESTION, AnswerLLM


def _ours() -> tuple[int, int]:
    root = get_dispatcher()
    return (
        sum(isinstance(h, SpanHandler) for h in root.span_handlers),
        sum(isinstance(h, EventHandler) for h in root.event_handlers),
    )


def test_instrument_twice_registers_one_span_handler_and_one_event_handler(
    instrument: Instrument,
) -> None:
    instrument()
    instrument()
    LlamaIndexInstrumentor().instrument()
    assert _ours() == (1, 1)


def test_uninstrument_removes_both_handlers(instrument: Instrument) -> None:
    instrument().uninstrument()
    assert _ours() == (0, 0)


def test_nothing_is_recorded_after_uninstrument(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument().uninstrument()
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert telemetry.spans() == ()


def test_instrument_again_after_uninstrument_records_again(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument().uninstrument()
    instrument()
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert telemetry.tree()[0] == "invoke_workflow RetrieverQueryEngine"
    assert _ours() == (1, 1)


def test_uninstrument_ends_spans_still_open(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument()
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    next(response.response_gen)
    instrumentor.uninstrument()
    assert {s.name for s in telemetry.spans()} >= {
        "invoke_workflow RetrieverQueryEngine",
        "text_completion gpt-4o-mini",
    }
    list(response.response_gen)  # finishing the stream afterwards records nothing more
    assert len(telemetry.spans()) == 4


def test_entry_point_loads_the_instrumentor() -> None:
    # Other LlamaIndex instrumentations (tests/adopt's) register the same name: ours is one.
    found = [
        ep
        for ep in entry_points(group="opentelemetry_instrumentor")
        if ep.name == "llama_index" and ep.value.startswith("semtrace_llamaindex")
    ]
    assert [ep.load() for ep in found] == [LlamaIndexInstrumentor]


def test_instrumentation_dependencies_name_llama_index_core() -> None:
    assert any(
        d.startswith("llama-index-core")
        for d in LlamaIndexInstrumentor().instrumentation_dependencies()
    )


def test_uninstrument_during_a_call_leaves_no_current_span_once_it_returns(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrumentor = instrument()

    def shut_down(a: int) -> int:
        """Uninstrument while this tool's span is current."""
        instrumentor.uninstrument()
        return a

    assert FunctionTool.from_defaults(shut_down).call(a=1).content == "1"
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert _ours() == (0, 0)  # the span handler retired once the call returned
    assert [s.name for s in telemetry.spans()] == ["execute_tool shut_down"]
