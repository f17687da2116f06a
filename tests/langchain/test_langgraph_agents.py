"""LangGraph agents become invoke_agent spans with chat and execute_tool children."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import MessagesState
from opentelemetry.trace import StatusCode
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from typing_extensions import TypedDict

from tests.langchain.pipelines import fake_chat


class Approval(TypedDict):
    """The state of the interrupted graph below.

    At module level, as is MessagesState's import: LangGraph 0.x resolves a node's
    annotations in the module's globals.
    """

    value: str


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def fail_tool(x: str) -> str:
    """Always fails."""
    raise RuntimeError("tool broke")


def calls(*tool_calls: tuple[str, dict, str]) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": n, "args": a, "id": i} for n, a, i in tool_calls]
    )


def react_agent(*replies: str | AIMessage, name: str | None = None, **options: Any) -> Any:
    """A ``langgraph.prebuilt.create_react_agent`` agent with the ``add`` tool over a fake model.

    LangGraph 1.x deprecates it for ``langchain.agents.create_agent``: its warning is silenced.
    ``name`` is passed only when given (LangGraph 0.2.40 has no such argument).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        named = {"name": name} if name is not None else {}
        return create_react_agent(fake_chat(*replies), tools=[add], **named, **options)


def test_create_agent_is_an_invoke_agent_span_with_model_and_tool_children(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langchain.agents import create_agent

    model = fake_chat(calls(("add", {"a": 1, "b": 2}, "call_1")), "It is 3.")
    agent = create_agent(model, tools=[add], name="calculator")
    result = agent.invoke({"messages": [("user", "1+2?")]}, config={"callbacks": [handler]})
    assert result["messages"][-1].content == "It is 3."
    assert telemetry.tree() == [
        "invoke_agent calculator",
        "  chat gpt-4o-mini",
        "  execute_tool add",
        "  chat gpt-4o-mini",
    ]
    agent_span = telemetry.span("invoke_agent calculator")
    assert agent_span.attributes[semconv.GEN_AI_AGENT_NAME] == "calculator"
    tool_span = telemetry.span("execute_tool add")
    assert tool_span.attributes[semconv.GEN_AI_TOOL_CALL_ID] == "call_1"
    assert tool_span.attributes[semconv.GEN_AI_TOOL_TYPE] == "function"
    assert tool_span.attributes[semconv.GEN_AI_TOOL_DESCRIPTION] == "Add two integers."


def test_prebuilt_react_agent_is_promoted_to_invoke_agent(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    agent = react_agent(calls(("add", {"a": 2, "b": 2}, "c1")), "4")
    agent.invoke({"messages": [("user", "2+2?")]}, config={"callbacks": [handler]})
    [root] = telemetry.by_operation("invoke_agent")
    assert root.name == "invoke_agent"  # LangGraph's default graph name is no agent name
    assert semconv.GEN_AI_AGENT_NAME not in (root.attributes or {})
    assert [s.name for s in telemetry.by_operation("execute_tool")] == ["execute_tool add"]


def test_a_named_prebuilt_react_agent_keeps_its_name(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    agent = react_agent(calls(("add", {"a": 2, "b": 2}, "c1")), "4", name="researcher")
    agent.invoke({"messages": [("user", "2+2?")]}, config={"callbacks": [handler]})
    [root] = telemetry.by_operation("invoke_agent")
    assert root.name == "invoke_agent researcher"
    assert (root.attributes or {})[semconv.GEN_AI_AGENT_NAME] == "researcher"


def test_react_agents_added_as_nodes_of_a_team_each_get_their_agent_span(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langgraph.graph import START, StateGraph

    researcher = react_agent(calls(("add", {"a": 1, "b": 2}, "c1")), "It is 3.", name="researcher")
    writer = react_agent("Three.", name="writer")
    team = StateGraph(MessagesState)
    team.add_node("researcher", researcher)
    team.add_node("writer", writer)
    team.add_edge(START, "researcher")
    team.add_edge("researcher", "writer")
    app = team.compile(name="team")
    result = app.invoke({"messages": [("user", "1+2?")]}, config={"callbacks": [handler]})
    assert result["messages"][-1].content == "Three."
    assert telemetry.tree() == [
        "invoke_workflow team",
        "  invoke_agent researcher",
        "    chat gpt-4o-mini",
        "    execute_tool add",
        "    chat gpt-4o-mini",
        "  invoke_agent writer",
        "    chat gpt-4o-mini",
    ]
    agent_span = telemetry.span("invoke_agent researcher")
    assert agent_span.attributes[semconv.GEN_AI_AGENT_NAME] == "researcher"
    assert agent_span.attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert handler.recorder.open_runs == 0


def test_react_agents_running_in_parallel_keep_their_own_steps(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langgraph.graph import START, StateGraph

    team = StateGraph(MessagesState)
    team.add_node(
        "researcher", react_agent(calls(("add", {"a": 1, "b": 2}, "c1")), "3", name="researcher")
    )
    team.add_node("writer", react_agent("Three.", name="writer"))
    team.add_edge(START, "researcher")  # both in LangGraph's first step, on two threads
    team.add_edge(START, "writer")
    team.compile(name="team").invoke(
        {"messages": [("user", "1+2?")]}, config={"callbacks": [handler]}
    )
    steps = {
        agent.name: sorted(s.name for s in telemetry.spans() if telemetry.parent_of(s) is agent)
        for agent in telemetry.by_operation("invoke_agent")
    }
    assert steps == {
        "invoke_agent researcher": ["chat gpt-4o-mini", "chat gpt-4o-mini", "execute_tool add"],
        "invoke_agent writer": ["chat gpt-4o-mini"],
    }
    assert handler.recorder.open_runs == 0


async def test_a_react_agent_node_gets_its_agent_span_when_the_team_runs_async(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langgraph.graph import START, StateGraph

    team = StateGraph(MessagesState)
    team.add_node(
        "researcher", react_agent(calls(("add", {"a": 1, "b": 2}, "c1")), "3", name="researcher")
    )
    team.add_edge(START, "researcher")
    await team.compile(name="team").ainvoke(
        {"messages": [("user", "1+2?")]}, config={"callbacks": [handler]}
    )
    assert telemetry.tree() == [
        "invoke_workflow team",
        "  invoke_agent researcher",
        "    chat gpt-4o-mini",
        "    execute_tool add",
        "    chat gpt-4o-mini",
    ]
    assert handler.recorder.open_runs == 0


def test_a_react_agent_invoked_inside_a_node_gets_its_agent_span(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langgraph.graph import START, StateGraph

    researcher = react_agent(calls(("add", {"a": 1, "b": 2}, "c1")), "It is 3.", name="researcher")

    def supervise(state: MessagesState) -> dict[str, Any]:
        return {"messages": researcher.invoke(state)["messages"][-1:]}

    team = StateGraph(MessagesState)
    team.add_node("supervise", supervise)
    team.add_edge(START, "supervise")
    app = team.compile(name="team")
    app.invoke({"messages": [("user", "1+2?")]}, config={"callbacks": [handler]})
    assert telemetry.tree() == [
        "invoke_workflow team",
        "  invoke_agent researcher",
        "    chat gpt-4o-mini",
        "    execute_tool add",
        "    chat gpt-4o-mini",
    ]
    assert handler.recorder.open_runs == 0


def test_a_model_call_in_a_react_agents_pre_model_hook_is_under_the_agent(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langgraph.graph import START, StateGraph

    summarizer = fake_chat("A summary.")

    def summarize(state: MessagesState) -> dict[str, Any]:
        summarizer.invoke("Summarize the conversation.")
        return {"llm_input_messages": state["messages"]}

    researcher = react_agent("3", name="researcher", pre_model_hook=summarize)
    team = StateGraph(MessagesState)
    team.add_node("researcher", researcher)
    team.add_edge(START, "researcher")
    team.compile(name="team").invoke(
        {"messages": [("user", "1+2?")]}, config={"callbacks": [handler]}
    )
    assert telemetry.tree() == [
        "invoke_workflow team",
        "  invoke_agent researcher",
        "    chat gpt-4o-mini",  # the hook's
        "    chat gpt-4o-mini",  # the agent's
    ]


def test_an_unnamed_react_agent_node_gets_an_agent_span_without_a_name(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langgraph.graph import START, StateGraph

    team = StateGraph(MessagesState)
    team.add_node("research", react_agent(calls(("add", {"a": 1, "b": 2}, "c1")), "3"))
    team.add_edge(START, "research")
    team.compile().invoke({"messages": [("user", "1+2?")]}, config={"callbacks": [handler]})
    assert telemetry.tree() == [
        "invoke_workflow",
        "  invoke_agent",  # neither LangGraph's default graph name nor the node's
        "    chat gpt-4o-mini",
        "    execute_tool add",
        "    chat gpt-4o-mini",
    ]
    [agent_span] = telemetry.by_operation("invoke_agent")
    assert semconv.GEN_AI_AGENT_NAME not in (agent_span.attributes or {})


def test_a_react_agent_node_is_an_agent_span_when_all_runs_are_traced(
    telemetry: Telemetry,
) -> None:
    from langgraph.graph import START, StateGraph

    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        trace_all_runs=True,
    )
    team = StateGraph(MessagesState)
    team.add_node("researcher", react_agent("3", name="researcher"))
    team.add_edge(START, "researcher")
    team.compile(name="team").invoke(
        {"messages": [("user", "1+2?")]}, config={"callbacks": [handler]}
    )
    [agent_span] = telemetry.by_operation("invoke_agent")
    assert agent_span.name == "invoke_agent researcher"
    [chat] = telemetry.by_operation("chat")
    ancestors = []
    parent = telemetry.parent_of(chat)
    while parent is not None:
        ancestors.append(parent.name)
        parent = telemetry.parent_of(parent)
    assert "invoke_agent researcher" in ancestors


def test_an_agent_span_names_the_provider_of_its_model(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langchain.agents import create_agent

    agent = create_agent(
        fake_chat(calls(("add", {"a": 2, "b": 2}, "c1")), "4"), tools=[add], name="calculator"
    )
    agent.invoke({"messages": [("user", "2+2?")]}, config={"callbacks": [handler]})
    [root] = telemetry.by_operation("invoke_agent")
    [chat, *_] = telemetry.by_operation("chat")
    provider = (chat.attributes or {})[semconv.GEN_AI_PROVIDER_NAME]
    assert (root.attributes or {})[semconv.GEN_AI_PROVIDER_NAME] == provider


def test_failing_tool_is_an_error_span(telemetry: Telemetry, handler: CallbackHandler) -> None:
    from langchain.agents import create_agent

    agent = create_agent(
        fake_chat(calls(("fail_tool", {"x": "a"}, "c1")), "sorry"), tools=[fail_tool]
    )
    with pytest.raises(RuntimeError):
        agent.invoke({"messages": [("user", "go")]}, config={"callbacks": [handler]})
    tool_span = telemetry.span("execute_tool fail_tool")
    assert tool_span.status.status_code is StatusCode.ERROR
    assert tool_span.attributes[semconv.ERROR_TYPE] == "RuntimeError"
    assert handler.recorder.open_runs == 0


def test_graph_interrupt_is_not_an_error(telemetry: Telemetry, handler: CallbackHandler) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt
    from typing_extensions import TypedDict

    class State(TypedDict):
        value: str

    def ask(state: State) -> State:
        return {"value": interrupt("approve?")}

    graph = StateGraph(State)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    app = graph.compile(checkpointer=InMemorySaver())
    app.invoke({"value": "x"}, config={"callbacks": [handler], "configurable": {"thread_id": "t1"}})
    assert telemetry.spans(), "the graph run was recorded"
    assert all(s.status.status_code is not StatusCode.ERROR for s in telemetry.spans())
    assert handler.recorder.open_runs == 0


def test_node_interrupt_is_not_an_error(telemetry: Telemetry, handler: CallbackHandler) -> None:
    # NodeInterrupt, the interrupt of every LangGraph release (deprecated in 1.0 for
    # interrupt(), which appeared in 0.2.57, after the langchain-core 0.3.0 generation).
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.errors import NodeInterrupt
    from langgraph.graph import END, START, StateGraph

    def ask(state: Approval) -> Approval:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raise NodeInterrupt("approve?")

    graph = StateGraph(Approval)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    app = graph.compile(checkpointer=InMemorySaver())
    app.invoke({"value": "x"}, config={"callbacks": [handler], "configurable": {"thread_id": "t2"}})
    assert telemetry.spans(), "the graph run was recorded"
    assert all(s.status.status_code is not StatusCode.ERROR for s in telemetry.spans())
    assert handler.recorder.open_runs == 0
