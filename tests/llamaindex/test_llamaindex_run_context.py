"""Context: the current span while a LlamaIndex span's code runs, and the run's ids.

While a span's code runs it is the current OpenTelemetry span, and never after. User,
session and conversation ids (``semtrace.context``, ``instrument_tags``, a memory's key)
reach every span of their own run, and only of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import semtrace
from llama_index.core import VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import CompletionResponse
from llama_index.core.instrumentation.dispatcher import instrument_tags
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.memory import ChatMemoryBuffer, Memory
from llama_index.core.tools import FunctionTool
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from pydantic import PrivateAttr
from semtrace import semconv
from semtrace.testing import Telemetry
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import ANSWER, QUESTION, AnswerLLM, RendezvousLLM, ToolCallingLLM
from tests.llamaindex.helpers import only, parent_name, traces

# llama-index-workflows finds steps with inspect.getmembers, which trips pydantic's deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")
IDS = (semconv.USER_ID, semconv.SESSION_ID, semconv.GEN_AI_CONVERSATION_ID)


def _reply(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"text": ANSWER})


class HttpLLM(AnswerLLM):
    """An LLM that calls its provider over (mocked) HTTP, like real provider packages."""

    _client: httpx.Client = PrivateAttr()
    _aclient: httpx.AsyncClient = PrivateAttr()

    def __init__(self, tracer_provider: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = httpx.Client(transport=httpx.MockTransport(_reply))
        self._aclient = httpx.AsyncClient(transport=httpx.MockTransport(_reply))
        HTTPXClientInstrumentor.instrument_client(self._client, tracer_provider=tracer_provider)
        HTTPXClientInstrumentor.instrument_client(self._aclient, tracer_provider=tracer_provider)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        text = self._client.post("https://model.test/v1/completions").json()["text"]
        return CompletionResponse(text=text)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        response = await self._aclient.post("https://model.test/v1/completions")
        return CompletionResponse(text=response.json()["text"])


def _http_span(telemetry: Telemetry) -> Any:
    found = [s for s in telemetry.spans() if s.name == "POST"]
    assert len(found) == 1, [s.name for s in telemetry.spans()]
    return found[0]


def test_http_client_span_of_a_model_call_nests_under_its_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=HttpLLM(telemetry.tracer_provider)).query(QUESTION)
    assert parent_name(telemetry, _http_span(telemetry)) == "text_completion gpt-4o-mini"
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_async_http_client_span_nests_under_its_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    await index.as_query_engine(llm=HttpLLM(telemetry.tracer_provider)).aquery(QUESTION)
    assert parent_name(telemetry, _http_span(telemetry)) == "text_completion gpt-4o-mini"
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_query_inside_an_application_span_joins_its_trace(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle request") as request:
        index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    root = only(telemetry, "invoke_workflow")
    assert root.parent is not None and root.parent.span_id == request.get_span_context().span_id


def test_no_span_is_current_after_a_failed_query(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    with contextlib.suppress(RuntimeError):
        index.as_query_engine(llm=AnswerLLM(fail_with="down")).query(QUESTION)
    assert trace.get_current_span() is trace.INVALID_SPAN


# --- the run's ids on every span of it ---


def ids_per_trace(telemetry: Telemetry) -> list[set[tuple[Any, ...]]]:
    """For each trace, the distinct (user, session, conversation) its spans carry."""
    return [
        {tuple(span.attributes.get(key) for key in IDS) for span in spans}
        for spans in traces(telemetry).values()
    ]


def conversation_ids(telemetry: Telemetry) -> list[Any]:
    """The conversation id of every finished span."""
    return [s.attributes.get(semconv.GEN_AI_CONVERSATION_ID) for s in telemetry.spans()]


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _agent() -> FunctionAgent:
    return FunctionAgent(
        name="calculator", tools=[FunctionTool.from_defaults(add)], llm=ToolCallingLLM()
    )


def test_context_block_puts_its_ids_on_every_span_of_a_query(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    with semtrace.context(user_id="u-1", session_id="s-1", conversation_id="c-1"):
        index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert len(telemetry.spans()) == 4
    assert ids_per_trace(telemetry) == [{("u-1", "s-1", "c-1")}]


def test_context_does_not_outlive_its_block(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    with semtrace.context(user_id="u-1"):
        pass
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert all(semconv.USER_ID not in s.attributes for s in telemetry.spans())


def test_instrument_tags_ids_reach_every_span_of_a_query(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    tags = {"user_id": "u-2", "session_id": "s-2", "conversation_id": "c-2"}
    with instrument_tags(tags):
        index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert ids_per_trace(telemetry) == [{("u-2", "s-2", "c-2")}]


async def test_instrument_tags_reach_a_workflow_run_in_its_own_task(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    class Greet(Workflow):
        @step
        async def greet(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result=(await AnswerLLM().acomplete("Hi")).text)

    instrument()
    with instrument_tags({"conversation_id": "c-3"}):
        await Greet().run()
    assert conversation_ids(telemetry) == ["c-3", "c-3"]


def test_chat_engine_memory_key_is_the_conversation_id(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    memory = ChatMemoryBuffer.from_defaults(chat_store_key="conversation-7")
    engine = index.as_chat_engine(chat_mode="context", llm=AnswerLLM(), memory=memory)
    engine.chat(QUESTION)
    assert len(telemetry.spans()) == 4
    assert set(conversation_ids(telemetry)) == {"conversation-7"}


def test_memory_session_id_is_the_conversation_id(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    memory = Memory.from_defaults(session_id="session-8", token_limit=4000)
    engine = index.as_chat_engine(chat_mode="context", llm=AnswerLLM(), memory=memory)
    engine.chat(QUESTION)
    assert set(conversation_ids(telemetry)) == {"session-8"}


def test_turns_of_one_chat_engine_share_one_conversation_id(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_chat_engine(chat_mode="condense_plus_context", llm=AnswerLLM())
    engine.chat(QUESTION)
    engine.chat("And its largest city?")
    assert len(traces(telemetry)) == 2
    assert len(set(conversation_ids(telemetry))) == 1
    assert None not in conversation_ids(telemetry)


def test_shared_default_chat_store_key_is_not_a_conversation_id(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    memory = ChatMemoryBuffer.from_defaults()  # every such memory stores under "chat_history"
    index.as_chat_engine(chat_mode="context", llm=AnswerLLM(), memory=memory).chat(QUESTION)
    assert set(conversation_ids(telemetry)) == {None}


async def test_agent_run_memory_key_is_the_conversation_id(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    memory = ChatMemoryBuffer.from_defaults(chat_store_key="agent-conversation")
    await _agent().run("What is 2 + 3?", memory=memory)
    assert len(telemetry.spans()) == 4
    assert set(conversation_ids(telemetry)) == {"agent-conversation"}


def test_conversation_id_set_by_the_application_wins_over_the_memory_key(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    memory = ChatMemoryBuffer.from_defaults(chat_store_key="memory-key")
    engine = index.as_chat_engine(chat_mode="context", llm=AnswerLLM(), memory=memory)
    with semtrace.context(conversation_id="app-conversation"):
        engine.chat(QUESTION)
    assert set(conversation_ids(telemetry)) == {"app-conversation"}


# --- concurrent calls never mix ids ---


async def test_gathered_queries_keep_their_own_ids(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    calls = 12
    engine = index.as_query_engine(llm=RendezvousLLM(parties=calls))

    async def call(i: int) -> None:
        with semtrace.context(user_id=f"u-{i}", session_id=f"s-{i}", conversation_id=f"c-{i}"):
            await engine.aquery(QUESTION)

    await asyncio.gather(*(call(i) for i in range(calls)))  # all in their model call at once
    per_trace = ids_per_trace(telemetry)
    assert all(len(ids) == 1 for ids in per_trace), "a trace mixed the ids of two calls"
    assert sorted(next(iter(ids)) for ids in per_trace) == sorted(
        (f"u-{i}", f"s-{i}", f"c-{i}") for i in range(calls)
    )


def test_queries_in_threads_keep_their_own_ids(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    calls = 8
    engine = index.as_query_engine(llm=RendezvousLLM(parties=calls))

    def call(i: int) -> None:
        with (
            semtrace.context(user_id=f"u-{i}", session_id=f"s-{i}"),
            instrument_tags({"conversation_id": f"c-{i}"}),
        ):
            engine.query(QUESTION)

    with ThreadPoolExecutor(calls) as pool:  # all in their model call at once
        list(pool.map(call, range(calls)))
    per_trace = ids_per_trace(telemetry)
    assert all(len(ids) == 1 for ids in per_trace), "a trace mixed the ids of two calls"
    assert sorted(next(iter(ids)) for ids in per_trace) == sorted(
        (f"u-{i}", f"s-{i}", f"c-{i}") for i in range(calls)
    )


async def test_gathered_agent_runs_keep_their_own_conversations(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    agent = _agent()

    async def call(i: int) -> None:
        with semtrace.context(user_id=f"u-{i}"):
            memory = ChatMemoryBuffer.from_defaults(chat_store_key=f"c-{i}")
            await agent.run("What is 2 + 3?", memory=memory)

    await asyncio.gather(*(call(i) for i in range(8)))
    per_trace = ids_per_trace(telemetry)
    assert all(len(ids) == 1 for ids in per_trace), "a trace mixed the ids of two runs"
    assert sorted(next(iter(ids)) for ids in per_trace) == sorted(
        (f"u-{i}", None, f"c-{i}") for i in range(8)
    )


def test_ids_that_raise_when_read_lose_the_ids_never_the_spans(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    class Hostile(dict[str, Any]):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("unreadable")

    instrument()
    with instrument_tags(Hostile(user_id="u-1")):
        assert str(index.as_query_engine(llm=AnswerLLM()).query(QUESTION)) == ANSWER
    assert telemetry.tree() == [
        "invoke_workflow RetrieverQueryEngine",
        "  retrieval SimpleVectorStore",
        "    embeddings text-embedding-3-small",
        "  text_completion gpt-4o-mini",
    ]
    assert ids_per_trace(telemetry) == [{(None, None, None)}]
