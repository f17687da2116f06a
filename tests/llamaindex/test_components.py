"""Retrievers, embeddings, rerankers, chat engines and token usage, each on its own."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import tiktoken
from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import ANSWER, QUESTION, AnswerLLM, ReverseReranker
from tests.llamaindex.helpers import attrs, only, parent_name, traces


def test_retriever_alone_is_a_retrieval_root_span_with_its_documents(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    nodes = index.as_retriever(similarity_top_k=3).retrieve(QUESTION)
    assert telemetry.tree() == [
        "retrieval SimpleVectorStore",
        "  embeddings text-embedding-3-small",
    ]
    retrieval = attrs(only(telemetry, "retrieval"))
    assert retrieval["semtrace.framework"] == "llamaindex"
    assert list(retrieval["semtrace.retrieval.document_ids"]) == [n.node_id for n in nodes]


def test_embedding_span_counts_its_input_tokens_with_tiktoken(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    MockEmbedding(embed_dim=8, model_name="text-embedding-3-small").get_query_embedding(
        "hello world"
    )
    span = telemetry.span("embeddings text-embedding-3-small")
    assert attrs(span)["semtrace.usage.source"] == "tiktoken"
    assert attrs(span)["gen_ai.usage.input_tokens"] == 2
    assert attrs(span)["gen_ai.embeddings.dimension.count"] == 8


def test_embedding_batch_counts_every_text(telemetry: Telemetry, instrument: Instrument) -> None:
    instrument()
    texts = ["hello world", "good morning", "bonjour"]
    embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small", embed_batch_size=2)
    embed.get_text_embedding_batch(texts)
    span = telemetry.span("embeddings text-embedding-3-small")  # one call, two batches
    encoding = tiktoken.encoding_for_model("text-embedding-3-small")
    assert attrs(span)["gen_ai.usage.input_tokens"] == sum(len(encoding.encode(t)) for t in texts)


def test_embedding_span_never_records_the_vectors(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    MockEmbedding(embed_dim=8, model_name="text-embedding-3-small").get_query_embedding("hello")
    values = attrs(telemetry.span("embeddings text-embedding-3-small")).values()
    assert not any(isinstance(v, tuple) and len(v) == 8 for v in values)
    assert not any(isinstance(v, str) and "0.5, 0.5" in v for v in values)


@pytest.mark.parametrize(
    ("raw", "extra", "expected"),
    [
        pytest.param(
            {
                "usage": {
                    "prompt_tokens": 11,
                    "completion_tokens": 7,
                    "prompt_tokens_details": {"cached_tokens": 3},
                }
            },
            {},
            {
                "gen_ai.usage.input_tokens": 11,
                "gen_ai.usage.output_tokens": 7,
                "gen_ai.usage.cache_read.input_tokens": 3,
            },
            id="openai-dict",
        ),
        pytest.param(
            SimpleNamespace(
                usage=SimpleNamespace(
                    input_tokens=12, output_tokens=5, cache_creation_input_tokens=4
                )
            ),
            {},
            {
                # Anthropic's input_tokens leaves the cache writes out; the conventions'
                # input count includes them (issue 13).
                "gen_ai.usage.input_tokens": 16,
                "gen_ai.usage.output_tokens": 5,
                "gen_ai.usage.cache_creation.input_tokens": 4,
            },
            id="anthropic-object",
        ),
        pytest.param(
            None,
            {"prompt_tokens": 9, "completion_tokens": 4},
            {"gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 4},
            id="additional-kwargs",
        ),
    ],
)
def test_provider_usage_is_recorded_with_source_provider(
    telemetry: Telemetry,
    instrument: Instrument,
    raw: Any,
    extra: dict[str, Any],
    expected: dict[str, int],
) -> None:
    instrument()
    AnswerLLM(raw=raw, extra=extra).complete(QUESTION)
    span = attrs(telemetry.span("text_completion gpt-4o-mini"))
    assert span["semtrace.usage.source"] == "provider"
    assert {k: span.get(k) for k in expected} == expected


def test_streamed_usage_on_the_last_chunk_is_provider_usage(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    list(
        AnswerLLM(raw={"usage": {"prompt_tokens": 11, "completion_tokens": 7}}).stream_complete(
            QUESTION
        )
    )
    span = attrs(telemetry.span("text_completion gpt-4o-mini"))
    assert span["semtrace.usage.source"] == "provider"
    assert span["gen_ai.usage.output_tokens"] == 7


def test_without_provider_usage_tokens_are_counted_with_tiktoken(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    AnswerLLM().complete(QUESTION)
    span = attrs(telemetry.span("text_completion gpt-4o-mini"))
    assert span["semtrace.usage.source"] == "tiktoken"
    assert span["gen_ai.usage.input_tokens"] > 0 and span["gen_ai.usage.output_tokens"] > 0


def test_response_id_and_model_come_from_raw(telemetry: Telemetry, instrument: Instrument) -> None:
    instrument()
    raw = {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"finish_reason": "stop"}],
    }
    AnswerLLM(raw=raw, as_chat_model=True).chat([])
    span = attrs(telemetry.span("chat gpt-4o-mini"))
    assert span["gen_ai.response.id"] == "chatcmpl-1"
    assert span["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert list(span["gen_ai.response.finish_reasons"]) == ["stop"]


def test_reranker_records_a_rerank_span_with_the_reranked_documents(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_query_engine(
        llm=AnswerLLM(), similarity_top_k=3, node_postprocessors=[ReverseReranker(top_n=1)]
    )
    response = engine.query(QUESTION)
    rerank = only(telemetry, "rerank")
    assert rerank.name == "rerank fake-rerank"
    assert parent_name(telemetry, rerank) == "invoke_workflow RetrieverQueryEngine"
    assert attrs(rerank)["semtrace.rerank.top_n"] == 1
    assert list(attrs(rerank)["semtrace.retrieval.document_ids"]) == [
        response.source_nodes[0].node_id
    ]


def test_chat_engine_call_is_a_workflow_with_retrieval_and_chat(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_chat_engine(chat_mode="context", llm=AnswerLLM(as_chat_model=True))
    assert str(engine.chat(QUESTION)) == ANSWER
    assert telemetry.tree() == [
        "invoke_workflow ContextChatEngine",
        "  retrieval SimpleVectorStore",
        "    embeddings text-embedding-3-small",
        "  chat gpt-4o-mini",
    ]


def test_streamed_chat_engine_is_one_trace_ended_once_written(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrumentor = instrument()
    engine = index.as_chat_engine(
        chat_mode="condense_plus_context", llm=AnswerLLM(as_chat_model=True)
    )
    response = engine.stream_chat(QUESTION)
    assert "".join(response.response_gen) == ANSWER
    assert len(traces(telemetry)) == 1
    chat = only(telemetry, "chat")
    assert parent_name(telemetry, chat) == "invoke_workflow CondensePlusContextChatEngine"
    assert attrs(chat)["gen_ai.request.stream"] is True
    assert instrumentor.tracker is not None and instrumentor.tracker.open_spans == 0


async def test_async_streamed_chat_engine_is_one_trace(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_chat_engine(
        chat_mode="condense_plus_context", llm=AnswerLLM(as_chat_model=True)
    )
    response = await engine.astream_chat(QUESTION)
    assert "".join([t async for t in response.async_response_gen()]) == ANSWER
    if response.awrite_response_to_history_task is not None:
        await response.awrite_response_to_history_task
    assert len(traces(telemetry)) == 1
    assert (
        parent_name(telemetry, only(telemetry, "chat"))
        == "invoke_workflow CondensePlusContextChatEngine"
    )
