"""User, session and conversation ids and tags reach every span of their own run only."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import semtrace
from langchain_core.documents import Document
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import tool
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from typing_extensions import TypedDict

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


class AnswerState(TypedDict):
    """The state of the one-node graph below.

    At module level: LangGraph 0.x resolves a node's annotations in the module's globals.
    """

    answer: str


def ids_by_trace(telemetry: Telemetry, key: str) -> dict[int, set[object]]:
    out: dict[int, set[object]] = {}
    for span in telemetry.spans():
        out.setdefault(span.context.trace_id, set()).add(span.attributes.get(key))
    return out


def test_context_block_puts_ids_and_tags_on_every_span(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    with semtrace.context(user_id="u-1", session_id="s-1", tags=["beta"], **{"app.tenant": "acme"}):
        rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert len(telemetry.spans()) == 3
    for span in telemetry.spans():
        assert span.attributes[semconv.USER_ID] == "u-1"
        assert span.attributes[semconv.SESSION_ID] == "s-1"
        assert span.attributes[semconv.SEMTRACE_TAGS] == ("beta",)
        assert span.attributes["app.tenant"] == "acme"


def test_context_does_not_outlive_its_block(telemetry: Telemetry, handler: CallbackHandler) -> None:
    with semtrace.context(user_id="u-1"):
        pass
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    assert semconv.USER_ID not in telemetry.span("chat gpt-4o-mini").attributes


def test_langchain_metadata_and_tags_become_context(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    config = {
        "callbacks": [handler],
        "metadata": {"user_id": "u-9", "session_id": "s-9"},
        "tags": ["prod"],
    }
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config=config)
    for span in telemetry.spans():
        assert span.attributes[semconv.USER_ID] == "u-9"
        assert span.attributes[semconv.SEMTRACE_TAGS] == ("prod",)


def test_langgraph_thread_id_is_the_conversation_id(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver

    agent = create_agent(fake_chat("hello"), tools=[], name="greeter", checkpointer=InMemorySaver())
    agent.invoke(
        {"messages": [("user", "hi")]},
        config={"callbacks": [handler], "configurable": {"thread_id": "thread-77"}},
    )
    assert {s.attributes.get(semconv.GEN_AI_CONVERSATION_ID) for s in telemetry.spans()} == {
        "thread-77"
    }


def test_state_graph_thread_id_is_the_conversation_id(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    # A plain graph, so that LangGraph 0.x (no langchain.agents.create_agent) is covered too.
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph

    model = fake_chat("hello")

    def respond(state: AnswerState) -> AnswerState:
        return {"answer": str(model.invoke("hi").content)}

    graph = StateGraph(AnswerState)
    graph.add_node("respond", respond)
    graph.add_edge(START, "respond")
    graph.add_edge("respond", END)
    app = graph.compile(checkpointer=InMemorySaver())
    app.invoke(
        {"answer": ""},
        config={"callbacks": [handler], "configurable": {"thread_id": "thread-78"}},
    )
    assert telemetry.by_operation("chat")
    assert {s.attributes.get(semconv.GEN_AI_CONVERSATION_ID) for s in telemetry.spans()} == {
        "thread-78"
    }


async def test_gathered_calls_keep_their_own_ids(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    async def call(user: str) -> str:
        with semtrace.context(user_id=user):
            await asyncio.sleep(0.001)
            return await rag_chain(fake_chat(ANSWER)).ainvoke(
                QUESTION, config={"callbacks": [handler]}
            )

    await asyncio.gather(*(call(f"user-{i}") for i in range(12)))
    per_trace = ids_by_trace(telemetry, semconv.USER_ID)
    assert len(per_trace) == 12
    assert all(len(users) == 1 for users in per_trace.values()), "a trace mixed users"
    assert {next(iter(u)) for u in per_trace.values()} == {f"user-{i}" for i in range(12)}


def test_batch_calls_carry_their_own_metadata(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    chain = rag_chain(fake_chat(*[ANSWER] * 4))
    configs = [{"callbacks": [handler], "metadata": {"user_id": f"b-{i}"}} for i in range(4)]
    chain.batch([QUESTION] * 4, config=configs)
    per_trace = ids_by_trace(telemetry, semconv.USER_ID)
    assert sorted(next(iter(u)) for u in per_trace.values()) == ["b-0", "b-1", "b-2", "b-3"]
    assert all(len(u) == 1 for u in per_trace.values())


def test_threads_keep_their_own_context(telemetry: Telemetry, handler: CallbackHandler) -> None:
    def call(i: int) -> None:
        with semtrace.context(session_id=f"t-{i}"):
            rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(call, range(16)))
    per_trace = ids_by_trace(telemetry, semconv.SESSION_ID)
    assert len(per_trace) == 16 and all(len(s) == 1 for s in per_trace.values())


def test_invalid_context_value_fails_at_once() -> None:
    with (
        pytest.raises(ValueError, match="must be a str"),
        semtrace.context(**{"app.obj": object()}),
    ):  # type: ignore[arg-type]
        pass


class _Retriever(BaseRetriever):
    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [Document(page_content="Paris is the capital of France.")]


@tool
def _lookup(city: str) -> str:
    """Look a city up."""
    return f"{city}: found"


@pytest.mark.parametrize(
    ("runnable", "arg", "operation"),
    [
        pytest.param(FakeListLLM(responses=["ok"]), "hi", "text_completion", id="llm"),
        pytest.param(fake_chat("ok"), "hi", "chat", id="chat-model"),
        pytest.param(_Retriever(), "capital?", "retrieval", id="retriever"),
        pytest.param(_lookup, {"city": "Paris"}, "execute_tool", id="tool"),
    ],
)
def test_a_top_level_run_carries_its_calls_metadata_and_tags(
    telemetry: Telemetry, handler: CallbackHandler, runnable: Any, arg: Any, operation: str
) -> None:
    config = {
        "callbacks": [handler],
        "metadata": {"user_id": "u-3", "session_id": "s-3"},
        "tags": ["solo"],
    }
    runnable.invoke(arg, config=config)
    (span,) = telemetry.by_operation(operation)
    assert span.attributes[semconv.USER_ID] == "u-3"
    assert span.attributes[semconv.SESSION_ID] == "s-3"
    assert span.attributes[semconv.SEMTRACE_TAGS] == ("solo",)
