"""PydanticAI's own instrumentation (the ``Instrumentation`` capability, GenAI conventions).

A real agent over ``FunctionModel``: its spans, judged by semtrace.adopt, get the verdicts
semtrace's own LangChain handler gives the same conversation (the context in the system
message, the same answer, the same usage).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.capabilities.instrumentation import Instrumentation
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.usage import RequestUsage

from tests.adopt.cases import (
    CONTEXT,
    FABRICATED,
    GOOD,
    QUESTION,
    Foreign,
    add,
    looping_agent,
    outcome,
    prompt_chain,
    semtraces_own,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
USAGE = RequestUsage(input_tokens=120, output_tokens=20)


class OpenAIShaped(FunctionModel):
    """A function model that says it is OpenAI's, as the model it stands in for would."""

    @property
    def system(self) -> str:
        return "openai"


@pytest.fixture
def foreign() -> Iterator[Foreign]:
    found = Foreign()
    yield found
    found.shutdown()


def _agent(foreign: Foreign, reply: Any, **options: Any) -> Agent[None, str]:
    settings = InstrumentationSettings(tracer_provider=foreign.tracer_provider)
    return Agent(
        OpenAIShaped(reply, model_name="gpt-4o-mini"),
        capabilities=[Instrumentation(settings)],
        **options,
    )


def _answering(answer: str) -> Any:
    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=[TextPart(answer)], usage=USAGE, model_name="gpt-4o-mini")

    return reply


def _rag(foreign: Foreign, answer: str) -> None:
    system = "Use this context:\n" + "\n\n".join(CONTEXT)
    _agent(foreign, _answering(answer), system_prompt=system).run_sync(QUESTION)


def _own(answer: str) -> Any:
    chain = prompt_chain(answer)
    return semtraces_own(lambda config: chain.invoke(QUESTION, config=config))


@pytest.mark.parametrize("answer", [GOOD, FABRICATED], ids=["grounded", "fabricated"])
def test_rag_verdict_matches_semtraces_own(foreign: Foreign, answer: str) -> None:
    _rag(foreign, answer)
    found = outcome(foreign.spans())
    own = _own(answer)
    assert found.labels == own.labels
    assert found.diagnosis == own.diagnosis


def test_fabricated_answer_is_diagnosed_unsupported(foreign: Foreign) -> None:
    _rag(foreign, FABRICATED)
    assert outcome(foreign.spans()).diagnosis == "unsupported_answer"


def test_cost_matches_semtraces_own(foreign: Foreign) -> None:
    _rag(foreign, GOOD)
    found = outcome(foreign.spans())
    assert found.cost is not None and found.cost > 0
    assert found.cost == _own(GOOD).cost


def test_looping_agent_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    turns = iter(range(10))

    def reply(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if next(turns) < 3:  # the same call three times, then the answer
            call = ToolCallPart("add", {"a": 1, "b": 2}, tool_call_id=f"c{len(messages)}")
            return ModelResponse(parts=[call], usage=USAGE, model_name="gpt-4o-mini")
        return ModelResponse(parts=[TextPart("It is 3.")], usage=USAGE, model_name="gpt-4o-mini")

    _agent(foreign, reply, tools=[add]).run_sync("What is 1 + 2?")
    found = outcome(foreign.spans())
    assert found.diagnosis == semtraces_own(looping_agent()).diagnosis == "agent_loop"
