"""The OpenAI Agents SDK with the official instrumentations.

``opentelemetry-instrumentation-genai-openai-agents`` traces the agent and its workflow;
``opentelemetry-instrumentation-genai-openai`` the model calls under them (the SDK's own
trace export is turned off: nothing leaves the process). A real agent over a real OpenAI
client and a local server speaking its wire format.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_trace_processors
from openai import AsyncOpenAI
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.instrumentation.genai.openai_agents import OpenAIAgentsInstrumentor

from tests.adopt.cases import (
    CONTEXT,
    FABRICATED,
    GOOD,
    QUESTION,
    Foreign,
    content_captured,
    failing_tool_agent,
    looping_agent,
    looping_llamaindex_agent,
    outcome,
    prompt_chain,
    semtraces_own,
    semtraces_own_llamaindex,
)
from tests.providers.servers.base import Answer, Reply, Request, ToolCall
from tests.providers.servers.openai import OpenAIServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def instrumented() -> Iterator[Foreign]:
    found = Foreign()
    set_trace_processors([])  # the SDK's own exporter would post traces to OpenAI
    with pytest.MonkeyPatch.context() as monkeypatch, content_captured(monkeypatch):
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        instrumentors = [OpenAIAgentsInstrumentor(), OpenAIInstrumentor()]
        for instrumentor in instrumentors:
            instrumentor.instrument(tracer_provider=found.tracer_provider)
        try:
            yield found
        finally:
            for instrumentor in instrumentors:
                instrumentor.uninstrument()
            found.shutdown()


@pytest.fixture
def foreign(instrumented: Foreign) -> Foreign:
    return instrumented.fresh()


class ScriptedServer(OpenAIServer):
    """Answers each chat completion with the next of ``answers``; the last one repeats."""

    def __init__(self, *answers: Answer) -> None:
        super().__init__(answers[0])
        self._script = list(answers)

    def route(self, request: Request) -> Reply:
        if request.path.endswith("/chat/completions") and self._script:
            self.answer = self._script.pop(0)  # the agent calls the model one turn at a time
        return super().route(request)


def _run(*answers: Answer, question: str = QUESTION, max_turns: int = 4, **options: Any) -> Any:
    with ScriptedServer(*answers) as server:
        client = AsyncOpenAI(api_key="test", base_url=server.url + "/v1")
        model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
        agent = Agent(name="helper", model=model, **options)
        return Runner.run_sync(agent, question, max_turns=max_turns)


def _rag(answer: str) -> None:
    reply = Answer(model="gpt-4o-mini", text=answer, input_tokens=120, output_tokens=20)
    _run(reply, instructions="Use this context:\n" + "\n\n".join(CONTEXT))


def _own(answer: str) -> Any:
    chain = prompt_chain(answer)
    return semtraces_own(lambda config: chain.invoke(QUESTION, config=config))


@pytest.mark.parametrize("answer", [GOOD, FABRICATED], ids=["grounded", "fabricated"])
def test_rag_verdict_matches_semtraces_own(foreign: Foreign, answer: str) -> None:
    _rag(answer)
    found = outcome(foreign.spans())
    own = _own(answer)
    assert found.labels == own.labels
    assert found.diagnosis == own.diagnosis


def test_cost_matches_semtraces_own(foreign: Foreign) -> None:
    _rag(GOOD)
    found = outcome(foreign.spans())
    assert found.cost is not None and found.cost > 0
    assert found.cost == _own(GOOD).cost


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_a_turn_limit_gets_semtraces_step_limit_diagnosis(foreign: Foreign) -> None:
    # The instrumentation marks the agent span ERROR with error.type "_OTHER" and no
    # exception event; the status description holds the SDK's "Max turns exceeded", which
    # the step-limit check reads. The workflow root stays UNSET: the flag is raised on the
    # agent span, the diagnosis written on the root.
    reply = Answer(model="gpt-4o-mini", finish="tool_call", tool=ToolCall())
    with pytest.raises(Exception, match="Max turns"):
        _run(reply, tools=[get_weather])
    found = outcome(foreign.spans())
    assert "step_limit" in found.raised
    assert (
        found.diagnosis
        == semtraces_own_llamaindex(looping_llamaindex_agent).diagnosis
        == "step_limit"
    )
    assert found.cost is not None and found.cost > 0


@function_tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_looping_agent_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    # The run of cases.looping_agent: add(1, 2) three times (each its own call id, as a
    # real model gives), then the answer.
    same = [
        Answer(
            model="gpt-4o-mini",
            finish="tool_call",
            tool=ToolCall(name="add", arguments={"a": 1, "b": 2}, id=f"call_{i}"),
        )
        for i in range(3)
    ]
    answer = Answer(model="gpt-4o-mini", text="It is 3.")
    _run(*same, answer, question="What is 1 + 2?", max_turns=10, tools=[add])
    found = outcome(foreign.spans())
    assert found.diagnosis == semtraces_own(looping_agent()).diagnosis == "agent_loop"


@function_tool
def weather(city: str) -> str:
    """The weather in a city."""
    raise RuntimeError("service down")


def test_a_swallowed_tool_error_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    # The SDK hands the tool's error to the model as its result and the run goes on; the
    # instrumentation marks the tool span ERROR ("Error running tool (non-fatal)").
    call = Answer(model="gpt-4o-mini", finish="tool_call", tool=ToolCall(name="weather"))
    _run(call, Answer(model="gpt-4o-mini", text="It is sunny."), tools=[weather])
    found = outcome(foreign.spans())
    assert found.diagnosis == semtraces_own(failing_tool_agent()).diagnosis == "tool_error"
