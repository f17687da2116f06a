"""A query engine call is one invoke_workflow trace: retrieval (and its embedding), then the LLM."""

from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor

from llama_index.core import VectorStoreIndex
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import ANSWER, QUESTION, AnswerLLM
from tests.llamaindex.helpers import attrs, only, operations, parent_name, traces


def test_query_records_workflow_retrieval_embedding_and_completion(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM(), similarity_top_k=2).query(QUESTION)
    assert telemetry.tree() == [
        "invoke_workflow RetrieverQueryEngine",
        "  retrieval SimpleVectorStore",
        "    embeddings text-embedding-3-small",
        "  text_completion gpt-4o-mini",
    ]


def test_query_spans_have_genai_kinds_and_attributes(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM(as_chat_model=True), similarity_top_k=2).query(QUESTION)
    root, retrieval, chat = (only(telemetry, op) for op in ("invoke_workflow", "retrieval", "chat"))
    assert root.kind is SpanKind.INTERNAL and attrs(root)["semtrace.framework"] == "llamaindex"
    assert retrieval.kind is SpanKind.INTERNAL
    assert attrs(retrieval)["gen_ai.request.top_k"] == 2
    assert attrs(retrieval)["semtrace.retrieval.document_count"] == 2
    assert chat.kind is SpanKind.CLIENT and chat.name == "chat gpt-4o-mini"
    assert attrs(chat)["gen_ai.request.model"] == "gpt-4o-mini"


def test_chat_model_records_one_chat_span_not_its_inner_completion(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM(as_chat_model=True)).query(QUESTION)
    assert [s.name for s in telemetry.spans() if "gpt-4o-mini" in s.name] == ["chat gpt-4o-mini"]


def test_retrieval_records_node_ids_and_scores(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    response = index.as_query_engine(llm=AnswerLLM(), similarity_top_k=2).query(QUESTION)
    retrieval = attrs(only(telemetry, "retrieval"))
    assert list(retrieval["semtrace.retrieval.document_ids"]) == [
        n.node_id for n in response.source_nodes
    ]
    assert list(retrieval["semtrace.retrieval.document_scores"]) == [
        n.score for n in response.source_nodes
    ]


async def test_aquery_records_the_same_tree_as_query(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    await index.as_query_engine(llm=AnswerLLM(), similarity_top_k=2).aquery(QUESTION)
    assert telemetry.tree() == [
        "invoke_workflow RetrieverQueryEngine",
        "  retrieval SimpleVectorStore",
        "    embeddings text-embedding-3-small",
        "  text_completion gpt-4o-mini",
    ]


async def test_gathered_aqueries_are_each_their_own_trace_with_their_own_children(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_query_engine(llm=AnswerLLM(), similarity_top_k=2)
    await asyncio.gather(*(engine.aquery(f"{QUESTION} #{i}") for i in range(20)))
    by_trace = traces(telemetry)
    assert len(by_trace) == 20
    for spans in by_trace.values():
        assert sorted(s.name for s in spans) == sorted(
            [
                "invoke_workflow RetrieverQueryEngine",
                "retrieval SimpleVectorStore",
                "embeddings text-embedding-3-small",
                "text_completion gpt-4o-mini",
            ]
        )
        roots = [s for s in spans if s.parent is None]
        assert len(roots) == 1 and roots[0].name.startswith("invoke_workflow")


def test_queries_in_threads_are_each_their_own_trace(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_query_engine(llm=AnswerLLM(), similarity_top_k=2)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: engine.query(f"{QUESTION} #{i}"), range(12)))
    by_trace = traces(telemetry)
    assert len(by_trace) == 12
    assert all(len(spans) == 4 for spans in by_trace.values())
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_streamed_query_is_one_trace_with_the_chat_span_under_the_workflow(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    assert "".join(response.response_gen) == ANSWER
    assert len(traces(telemetry)) == 1
    completion = only(telemetry, "text_completion")
    assert parent_name(telemetry, completion) == "invoke_workflow RetrieverQueryEngine"
    assert attrs(completion)["gen_ai.request.stream"] is True
    assert attrs(completion)["gen_ai.response.time_to_first_chunk"] >= 0


def test_streamed_query_leaves_no_current_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    assert trace.get_current_span() is trace.INVALID_SPAN
    for _ in response.response_gen:
        assert trace.get_current_span() is trace.INVALID_SPAN
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_streamed_query_ends_every_span_once_consumed(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument()
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    assert operations(telemetry) == ["retrieval", "embeddings"]  # the workflow waits for its stream
    list(response.response_gen)
    assert sorted(o or "" for o in operations(telemetry)) == sorted(
        ["invoke_workflow", "retrieval", "embeddings", "text_completion"]
    )
    assert instrumentor.tracker is not None and instrumentor.tracker.open_spans == 0
    assert instrumentor.tracker.recorder.open_runs == 0


def test_stream_abandoned_after_two_chunks_ends_its_spans_as_cancelled(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument()
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    stream = response.response_gen
    next(stream), next(stream)
    assert trace.get_current_span() is trace.INVALID_SPAN
    del response, stream
    gc.collect()
    for op in ("invoke_workflow", "text_completion"):
        span = only(telemetry, op)
        assert attrs(span)["semtrace.run.cancelled"] is True
        assert span.status.status_code is not StatusCode.ERROR
    assert instrumentor.tracker is not None and instrumentor.tracker.open_spans == 0


def test_query_after_an_abandoned_stream_is_a_new_trace(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_query_engine(llm=AnswerLLM(), streaming=True)
    abandoned = engine.query(QUESTION).response_gen
    next(abandoned), next(abandoned)  # kept alive, never finished
    list(engine.query("Where is Lyon?").response_gen)
    index.as_query_engine(llm=AnswerLLM()).query("Where is Marseille?")
    roots = [s for s in telemetry.spans() if s.parent is None]
    assert len(roots) == 2  # the two finished queries; the abandoned one is still open
    by_trace = traces(telemetry)
    assert [len(by_trace[root.context.trace_id]) for root in roots] == [4, 4]
    assert len(by_trace) == 3  # plus the abandoned query's finished retrieval and embedding
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_stream_never_iterated_ends_when_dropped(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    del response
    gc.collect()
    assert attrs(only(telemetry, "invoke_workflow"))["semtrace.run.cancelled"] is True


async def test_async_streamed_query_is_one_trace_with_one_completion_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    response = await index.as_query_engine(llm=AnswerLLM(), streaming=True).aquery(QUESTION)
    text = "".join([t async for t in response.async_response_gen()])
    assert text == ANSWER
    assert len(traces(telemetry)) == 1
    completion = only(
        telemetry, "text_completion"
    )  # astream_complete runs stream_complete: one call
    assert parent_name(telemetry, completion) == "invoke_workflow RetrieverQueryEngine"
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_async_stream_abandoned_after_two_chunks_ends_its_spans_as_cancelled(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument()
    response = await index.as_query_engine(llm=AnswerLLM(), streaming=True).aquery(QUESTION)
    stream = response.async_response_gen()
    await stream.__anext__(), await stream.__anext__()
    await stream.aclose()
    del response, stream
    gc.collect()
    for _ in range(5):  # asyncio closes the dropped inner generators on the next loop turns
        await asyncio.sleep(0)
    for op in ("invoke_workflow", "text_completion"):
        assert attrs(only(telemetry, op))["semtrace.run.cancelled"] is True
    assert instrumentor.tracker is not None and instrumentor.tracker.open_spans == 0
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_gathered_streamed_aqueries_are_each_one_trace_with_one_completion(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_query_engine(llm=AnswerLLM(), streaming=True)

    async def ask(i: int) -> str:
        response = await engine.aquery(f"{QUESTION} #{i}")
        return "".join([t async for t in response.async_response_gen()])

    assert await asyncio.gather(*(ask(i) for i in range(10))) == [ANSWER] * 10
    by_trace = traces(telemetry)
    assert len(by_trace) == 10
    for spans in by_trace.values():
        assert sorted(s.name.split(" ")[0] for s in spans) == [
            "embeddings",
            "invoke_workflow",
            "retrieval",
            "text_completion",
        ]
