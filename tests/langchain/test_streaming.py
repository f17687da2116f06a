"""Streaming: first-chunk latency, and spans that end even when the caller walks away."""

from __future__ import annotations

import asyncio

from opentelemetry import trace
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


def test_streamed_chat_records_time_to_first_chunk(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    chunks = list(fake_chat("one two three").stream("hi", config={"callbacks": [handler]}))
    assert len(chunks) > 1
    chat = telemetry.span("chat gpt-4o-mini")
    assert chat.attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert chat.attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] >= 0


def test_streamed_chain_counts_output_tokens_with_tiktoken(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    "".join(rag_chain(fake_chat(ANSWER)).stream(QUESTION, config={"callbacks": [handler]}))
    chat = telemetry.by_operation("chat")[0]
    assert chat.attributes[semconv.SEMTRACE_USAGE_SOURCE] == "tiktoken"
    assert chat.attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0


def test_abandoned_stream_ends_every_span_and_leaves_nothing_current(
    telemetry: Telemetry, handler: CallbackHandler, no_current_span: None
) -> None:
    stream = rag_chain(fake_chat(ANSWER)).stream(QUESTION, config={"callbacks": [handler]})
    next(stream)
    next(stream)
    stream.close()
    assert handler.recorder.open_runs == 0
    assert telemetry.by_operation("invoke_workflow"), "the workflow span was not ended"
    assert not trace.get_current_span().get_span_context().is_valid


def test_abandoned_stream_root_is_not_marked_failed(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    # LangChain reports a closed stream as a normal end (on_chain_end(None)), not an error.
    stream = rag_chain(fake_chat(ANSWER)).stream(QUESTION, config={"callbacks": [handler]})
    next(stream)
    stream.close()
    root = telemetry.by_operation("invoke_workflow")[0]
    assert root.status.is_ok


def test_query_after_an_abandoned_stream_is_a_new_trace(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    stream = rag_chain(fake_chat(ANSWER)).stream(QUESTION, config={"callbacks": [handler]})
    next(stream)
    stream.close()
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    roots = telemetry.by_operation("invoke_workflow")
    assert len(roots) == 2 and roots[0].context.trace_id != roots[1].context.trace_id
    assert roots[1].parent is None


async def test_abandoned_async_stream_ends_every_span(
    telemetry: Telemetry, handler: CallbackHandler, no_current_span: None
) -> None:
    stream = rag_chain(fake_chat(ANSWER)).astream(QUESTION, config={"callbacks": [handler]})
    await stream.__anext__()
    await stream.aclose()
    for _ in range(200):  # LangChain delivers the GeneratorExit callbacks a few ticks later
        if handler.recorder.open_runs == 0:
            break
        await asyncio.sleep(0.01)
    assert handler.recorder.open_runs == 0
    [root] = telemetry.by_operation("invoke_workflow")
    assert root.attributes[semconv.SEMTRACE_RUN_CANCELLED] is True
    assert root.status.is_unset
