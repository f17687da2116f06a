"""Workflow agents are invoke_agent spans with their chats and tool calls.

Plain workflows are invoke_workflow spans.
"""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.agent.workflow import AgentWorkflow, FunctionAgent
from llama_index.core.tools import FunctionTool
from opentelemetry.trace import StatusCode
from semtrace.testing import Telemetry
from workflows import Workflow, step
from workflows.errors import WorkflowCancelledByUser
from workflows.events import StartEvent, StopEvent

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import ANSWER, AnswerLLM, ToolCallingLLM
from tests.llamaindex.helpers import attrs, only, parent_name

# llama-index-workflows finds steps with inspect.getmembers, which trips pydantic's deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def explode(a: int, b: int) -> int:
    """Always fails."""
    raise ValueError("tool exploded")


class Greet(Workflow):
    """A one-step workflow that asks an LLM."""

    @step
    async def greet(self, ev: StartEvent) -> StopEvent:
        response = await AnswerLLM().acomplete(f"Greet {ev.name}")
        return StopEvent(result=response.text)


class Fails(Workflow):
    @step
    async def fail(self, ev: StartEvent) -> StopEvent:
        raise ValueError("step failed")


class Waits(Workflow):
    @step
    async def wait(self, ev: StartEvent) -> StopEvent:
        await asyncio.sleep(30)
        return StopEvent(result="late")


def _agent(tool: FunctionTool, streaming: bool = True) -> FunctionAgent:
    return FunctionAgent(
        name="calculator",
        description="Adds numbers.",
        tools=[tool],
        llm=ToolCallingLLM(),
        streaming=streaming,
    )


async def test_function_agent_is_invoke_agent_with_chats_and_tool_call(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    result = await _agent(FunctionTool.from_defaults(add)).run("What is 2 + 3?")
    assert str(result) == "The sum is 5."
    assert telemetry.tree() == [
        "invoke_agent calculator",
        "  chat fake-tools",
        "  execute_tool add",
        "  chat fake-tools",
    ]
    agent = attrs(only(telemetry, "invoke_agent"))
    assert agent["gen_ai.agent.description"] == "Adds numbers."


async def test_tool_span_has_the_call_id_and_name_the_model_asked_for(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    await _agent(FunctionTool.from_defaults(add), streaming=False).run("What is 2 + 3?")
    tool = attrs(only(telemetry, "execute_tool"))
    assert tool["gen_ai.tool.name"] == "add"
    assert tool["gen_ai.tool.call.id"] == "call_1"
    assert tool["gen_ai.tool.type"] == "function"


async def test_first_chat_of_a_tool_calling_agent_finishes_with_tool_call(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    await _agent(FunctionTool.from_defaults(add)).run("What is 2 + 3?")
    first = telemetry.by_operation("chat")[0]
    assert list(attrs(first)["gen_ai.response.finish_reasons"]) == ["tool_call"]


async def test_tool_that_raises_marks_its_span_failed(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    await _agent(FunctionTool.from_defaults(explode, name="add")).run("What is 2 + 3?")
    tool = only(telemetry, "execute_tool")
    assert tool.status.status_code is StatusCode.ERROR
    assert attrs(tool)["error.type"] == "ValueError"
    assert only(telemetry, "invoke_agent").status.status_code is not StatusCode.ERROR


def test_tool_called_directly_is_an_execute_tool_root(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    assert FunctionTool.from_defaults(add).call(a=2, b=3).content == "5"
    assert telemetry.tree() == ["execute_tool add"]


async def test_workflow_run_is_invoke_workflow_with_its_llm_call(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    assert await Greet().run(name="Ada") == ANSWER
    assert telemetry.tree() == ["invoke_workflow Greet", "  text_completion gpt-4o-mini"]


async def test_failing_workflow_step_marks_the_workflow_failed(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    with pytest.raises(ValueError, match="step failed"):
        await Fails().run()
    span = only(telemetry, "invoke_workflow")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)["error.type"] == "ValueError"


async def test_cancelled_workflow_is_not_an_error(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    handler = Waits().run()
    await asyncio.sleep(0.05)
    await handler.cancel_run()
    with pytest.raises(WorkflowCancelledByUser):
        await handler
    span = only(telemetry, "invoke_workflow")
    assert span.status.status_code is not StatusCode.ERROR
    assert attrs(span)["semtrace.run.cancelled"] is True


async def test_agent_inside_a_workflow_nests_under_it(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    class Delegates(Workflow):
        @step
        async def ask(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result=await _agent(FunctionTool.from_defaults(add)).run("2 + 3?"))

    instrument()
    await Delegates().run()
    assert parent_name(telemetry, only(telemetry, "invoke_agent")) == "invoke_workflow Delegates"


async def test_agent_workflow_is_one_invoke_agent_span_with_its_agents_calls(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    workflow = AgentWorkflow(
        agents=[_agent(FunctionTool.from_defaults(add))], root_agent="calculator"
    )
    assert str(await workflow.run(user_msg="What is 2 + 3?")) == "The sum is 5."
    assert telemetry.tree() == [
        "invoke_agent AgentWorkflow",
        "  chat fake-tools",
        "  execute_tool add",
        "  chat fake-tools",
    ]


async def test_a_tool_result_is_the_tools_output_not_its_wrapper(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    await _agent(FunctionTool.from_defaults(add), streaming=False).run("What is 2 + 3?")
    tool = attrs(only(telemetry, "execute_tool"))
    assert tool["gen_ai.tool.call.result"] == "5"
    assert tool["gen_ai.tool.call.arguments"] == '{"a":2,"b":3}'


async def test_an_agent_span_names_the_provider_of_its_model(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    await _agent(FunctionTool.from_defaults(add), streaming=False).run("What is 2 + 3?")
    chat = attrs(telemetry.by_operation("chat")[0])
    assert (
        attrs(only(telemetry, "invoke_agent"))["gen_ai.provider.name"]
        == chat["gen_ai.provider.name"]
    )
