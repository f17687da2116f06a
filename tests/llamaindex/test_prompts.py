"""A prompt template named in its metadata names the model calls that used it.

The convention is LangChain's: ``metadata={"prompt_name": ..., "prompt_version": ...}``
gives ``gen_ai.prompt.name`` and ``semtrace.prompt.version``.
"""

from __future__ import annotations

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.prompts import ChatMessage, ChatPromptTemplate, PromptTemplate
from pydantic import BaseModel
from semtrace import semconv
from semtrace.testing import Telemetry
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import QUESTION, AnswerLLM, ToolCallingLLM
from tests.llamaindex.helpers import attrs, only

# llama-index-workflows finds steps with inspect.getmembers, which trips pydantic's deprecations.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")
NAMED = {"prompt_name": "support-answer", "prompt_version": "7"}
QA = "Context: {context_str}\nQuestion: {query_str}\nAnswer:"


class Person(BaseModel):
    name: str
    # A second field: LlamaIndex < 0.14.25 calls a one-field tool twice (positionally, then
    # by keyword when that fails), which would change the span counts below by version.
    age: int | None = None


def prompt_names(telemetry: Telemetry) -> dict[str, object]:
    """Each finished span's name to its ``gen_ai.prompt.name`` (None when it has none)."""
    return {s.name: attrs(s).get(semconv.GEN_AI_PROMPT_NAME) for s in telemetry.spans()}


def test_named_prompt_of_a_query_engine_names_its_model_call_only(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    engine = index.as_query_engine(llm=AnswerLLM())
    engine.update_prompts(
        {"response_synthesizer:text_qa_template": PromptTemplate(QA, metadata=dict(NAMED))}
    )
    engine.query(QUESTION)
    completion = attrs(only(telemetry, "text_completion"))
    assert completion[semconv.GEN_AI_PROMPT_NAME] == "support-answer"
    assert completion[semconv.SEMTRACE_PROMPT_VERSION] == "7"
    assert prompt_names(telemetry) == {
        "invoke_workflow RetrieverQueryEngine": None,
        "retrieval SimpleVectorStore": None,
        "embeddings text-embedding-3-small": None,
        "text_completion gpt-4o-mini": "support-answer",
    }


def test_default_prompts_name_no_model_call(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert set(prompt_names(telemetry).values()) == {None}


def test_predict_at_the_top_of_a_trace_names_its_model_call(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    AnswerLLM().predict(PromptTemplate("Greet {who}", metadata=dict(NAMED)), who="Ada")
    completion = attrs(only(telemetry, "text_completion"))
    assert completion[semconv.GEN_AI_PROMPT_NAME] == "support-answer"
    assert completion[semconv.SEMTRACE_PROMPT_VERSION] == "7"


def test_prompt_without_a_version_records_its_name_only(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    AnswerLLM().predict(PromptTemplate("Greet {who}", metadata={"prompt_name": "greet"}), who="Ada")
    completion = attrs(only(telemetry, "text_completion"))
    assert completion[semconv.GEN_AI_PROMPT_NAME] == "greet"
    assert semconv.SEMTRACE_PROMPT_VERSION not in completion


async def test_named_chat_prompt_in_a_workflow_names_that_chat_and_not_the_next(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    template = ChatPromptTemplate(
        [ChatMessage(role="user", content="Greet {who}")], metadata=dict(NAMED)
    )

    class Greet(Workflow):
        @step
        async def greet(self, ev: StartEvent) -> StopEvent:
            llm = AnswerLLM(as_chat_model=True)
            greeting = await llm.apredict(template, who="Ada")
            await llm.acomplete("Say it again")
            return StopEvent(result=greeting)

    instrument()
    await Greet().run()
    # complete() on a chat model is a chat call on the wire, so both spans are chat spans.
    first, second = telemetry.by_operation("chat")
    assert attrs(first)[semconv.GEN_AI_PROMPT_NAME] == "support-answer"
    assert semconv.GEN_AI_PROMPT_NAME not in attrs(second)


def test_structured_predict_names_its_model_call(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument()
    llm = AnswerLLM(answer='{"name": "Ada"}')
    template = PromptTemplate("Invent a person from {place}.", metadata=dict(NAMED))
    assert llm.structured_predict(Person, template, place="Paris").name == "Ada"
    assert attrs(only(telemetry, "text_completion"))[semconv.GEN_AI_PROMPT_NAME] == (
        "support-answer"
    )


def test_prompt_name_reaches_a_model_call_below_traced_steps(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(trace_all_runs=True)  # structured_predict > program > predict_and_call > chat
    llm = ToolCallingLLM(tool="Person", arguments={"name": "Ada"})
    template = PromptTemplate("Invent a person from {place}.", metadata=dict(NAMED))
    assert llm.structured_predict(Person, template, place="Paris").name == "Ada"
    assert prompt_names(telemetry)["chat fake-tools"] == "support-answer"
    assert len(telemetry.spans()) == 7
    assert sum(name is not None for name in prompt_names(telemetry).values()) == 1
