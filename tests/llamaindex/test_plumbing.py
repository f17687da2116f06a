"""Internal spans are hidden (children re-parented) unless trace_all_runs; state stays bounded."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from llama_index.core import VectorStoreIndex
from llama_index.core.callbacks import (
    CallbackManager,
    CBEventType,
    LlamaDebugHandler,
    TokenCountingHandler,
)
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.query_engine import RetrieverQueryEngine
from semtrace import Settings
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import QUESTION, AnswerLLM
from tests.llamaindex.helpers import attrs, only, parent_name

INTERNALS = ("_query", "synthesize", "get_response", "predict", "split_text", "_retrieve")


def test_internal_spans_are_hidden_and_their_children_reparented(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert not any(internal in s.name for s in telemetry.spans() for internal in INTERNALS)
    completion = only(telemetry, "text_completion")  # ran inside _query > synthesize > predict
    assert parent_name(telemetry, completion) == "invoke_workflow RetrieverQueryEngine"


class _ProbedEmbedding(MockEmbedding):
    """A mock embedding that calls ``probe`` while it embeds a query."""

    probe: Callable[[], None] = lambda: None

    def _get_query_embedding(self, query: str) -> list[float]:
        self.probe()
        return super()._get_query_embedding(query)


def test_plumbing_never_reaches_the_recorder(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument()
    seen: list[tuple[int, int]] = []

    def probe() -> None:
        tracker: Any = instrumentor.tracker
        seen.append((tracker.open_spans, tracker.recorder.open_runs))

    embed = _ProbedEmbedding(embed_dim=8, model_name="text-embedding-3-small", probe=probe)
    index.as_query_engine(llm=AnswerLLM(), embed_model=embed).query(QUESTION)
    # Open while the query embeds: the engine call, its retrieval and the embeddings call
    # (recorded), and _query, _retrieve, _get_query_embedding (plumbing, tracker only).
    [(tracker_spans, recorder_runs)] = seen
    assert recorder_runs == 3
    assert tracker_spans > recorder_runs
    assert telemetry.tree()[:3] == [
        "invoke_workflow RetrieverQueryEngine",
        "  retrieval SimpleVectorStore",
        "    embeddings text-embedding-3-small",
    ]


def test_trace_all_runs_shows_every_dispatcher_span_as_a_step(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(trace_all_runs=True)
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    names = {s.name for s in telemetry.spans()}
    assert {
        "RetrieverQueryEngine._query",
        "CompactAndRefine.synthesize",
        "AnswerLLM.predict",
    } <= names
    assert parent_name(telemetry, only(telemetry, "text_completion")) == "AnswerLLM.predict"
    step = telemetry.span("CompactAndRefine.synthesize")
    assert attrs(step)["semtrace.run.name"] == "CompactAndRefine.synthesize"
    assert parent_name(telemetry, step) == "RetrieverQueryEngine._query"


def test_trace_all_runs_keeps_a_streamed_query_in_one_trace(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(trace_all_runs=True)
    list(index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION).response_gen)
    assert len({s.context.trace_id for s in telemetry.spans()}) == 1


def test_streams_never_finished_are_ended_past_the_bound(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument(settings=Settings(max_open_runs=16))
    engine = index.as_query_engine(llm=AnswerLLM(), streaming=True)
    kept = []
    for i in range(30):
        response = engine.query(f"{QUESTION} #{i}")
        next(response.response_gen)  # an LLM stream and its query, both left open
        kept.append(response)
        assert instrumentor.tracker is not None and instrumentor.tracker.open_spans <= 16
        assert instrumentor.tracker.recorder.open_runs <= 16
    assert len(telemetry.by_operation("invoke_workflow")) >= 20  # the oldest were ended
    del kept, response
    gc.collect()
    assert len(telemetry.by_operation("invoke_workflow")) == 30


def test_legacy_callback_manager_users_get_the_same_spans(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    debug = LlamaDebugHandler(print_trace_on_end=False)
    manager = CallbackManager([debug, TokenCountingHandler()])
    llm = AnswerLLM(callback_manager=manager)
    RetrieverQueryEngine.from_args(index.as_retriever(), llm=llm, callback_manager=manager).query(
        QUESTION
    )
    assert telemetry.tree() == [
        "invoke_workflow RetrieverQueryEngine",
        "  retrieval SimpleVectorStore",
        "    embeddings text-embedding-3-small",
        "  text_completion gpt-4o-mini",
    ]
    assert debug.get_event_pairs(CBEventType.QUERY)  # the callback handlers still work alongside


async def test_trace_all_runs_changes_no_other_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(trace_all_runs=True)
    response = await index.as_query_engine(llm=AnswerLLM(), streaming=True).aquery(QUESTION)
    [t async for t in response.async_response_gen()]
    ops = [attrs(s).get("gen_ai.operation.name") for s in telemetry.spans()]
    assert sorted(o for o in ops if o) == [
        "embeddings",
        "invoke_workflow",
        "retrieval",
        "text_completion",
    ]


def test_dropped_operations_are_not_recorded_and_their_children_reparented(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(drop_operations="no_embeddings")
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert telemetry.tree() == [
        "invoke_workflow RetrieverQueryEngine",
        "  retrieval SimpleVectorStore",
        "  text_completion gpt-4o-mini",
    ]
