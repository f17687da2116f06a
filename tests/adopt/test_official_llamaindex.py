"""The official LlamaIndex instrumentation (opentelemetry-instrumentation-genai-llama-index).

It traces agents, tools and retrievals; a model call is traced by the provider's official
instrumentation (opentelemetry-instrumentation-genai-openai here, against a local server
speaking OpenAI's wire format). Its retrieval names the documents but carries no text,
and is a trace of its own: the model call is judged from its prompt, where LlamaIndex's
question-answering template carries the passages and the query (semtrace.adopt.prompts).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.llms.openai import OpenAI
from opentelemetry.instrumentation.genai.llama_index import LlamaIndexInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

from tests.adopt.cases import (
    FABRICATED,
    GOOD,
    Foreign,
    content_captured,
    llamaindex_query,
    looping_llamaindex_agent,
    outcome,
    semtraces_own_llamaindex,
)
from tests.providers.servers.base import Answer
from tests.providers.servers.openai import OpenAIServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
#: What this pair of instrumentations does not let semtrace see: no document text on the
#: retrieval span, so its relevance to the query cannot be scored.
NOT_SEEN = {"retrieval_relevance"}


@pytest.fixture(scope="module")
def instrumented() -> Iterator[Foreign]:
    # Once per module: an instrumentor keeps the first tracer provider it was given.
    found = Foreign()
    with pytest.MonkeyPatch.context() as monkeypatch, content_captured(monkeypatch):
        instrumentors = [LlamaIndexInstrumentor(), OpenAIInstrumentor()]
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


def _query(answer: str) -> Any:
    """The query engine over a real OpenAI client and a local server answering ``answer``."""

    def run() -> None:
        reply = Answer(model="gpt-4o-mini", text=answer, input_tokens=120, output_tokens=20)
        with OpenAIServer(reply) as server:
            llm = OpenAI(model="gpt-4o-mini", api_key="test", api_base=server.url + "/v1")
            llamaindex_query(answer, model=llm)()

    return run


@pytest.mark.parametrize("answer", [GOOD, FABRICATED], ids=["grounded", "fabricated"])
def test_rag_verdict_matches_semtraces_own(foreign: Foreign, answer: str) -> None:
    _query(answer)()
    found = outcome(foreign.spans())
    own = semtraces_own_llamaindex(_query(answer))
    assert found.labels == {k: v for k, v in own.labels.items() if k not in NOT_SEEN}
    assert found.raised == own.raised  # the flags: truncated, empty output, non-answer


def test_fabricated_answer_is_diagnosed_unsupported_from_the_passages_in_its_prompt(
    foreign: Foreign,
) -> None:
    _query(FABRICATED)()
    assert outcome(foreign.spans()).diagnosis == "unsupported_answer"
    assert semtraces_own_llamaindex(_query(FABRICATED)).diagnosis == "unsupported_answer"


def test_cost_matches_semtraces_own(foreign: Foreign) -> None:
    _query(GOOD)()
    found = outcome(foreign.spans())
    assert found.cost is not None and found.cost > 0
    assert found.cost == semtraces_own_llamaindex(_query(GOOD)).cost


def test_looping_agent_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    # The agent's model is a LlamaIndex fake (no provider instrumentation): the agent
    # and tool spans alone carry the step limit.
    looping_llamaindex_agent()
    found = outcome(foreign.spans())
    assert (
        found.diagnosis
        == semtraces_own_llamaindex(looping_llamaindex_agent).diagnosis
        == "step_limit"
    )
