"""OpenInference's LlamaIndex instrumentation (openinference-instrumentation-llama-index).

A real query engine over a fake LLM: judged by semtrace.adopt, its spans get the verdicts
semtrace's own LlamaIndex integration gives the same query.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

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

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def instrumented() -> Iterator[Foreign]:
    # Once per module: an instrumentor keeps the first tracer provider it was given.
    found = Foreign()
    with pytest.MonkeyPatch.context() as monkeypatch, content_captured(monkeypatch):
        instrumentor = LlamaIndexInstrumentor()
        instrumentor.instrument(tracer_provider=found.tracer_provider)
        try:
            yield found
        finally:
            instrumentor.uninstrument()
            found.shutdown()


@pytest.fixture
def foreign(instrumented: Foreign) -> Foreign:
    return instrumented.fresh()


@pytest.mark.parametrize("answer", [GOOD, FABRICATED], ids=["grounded", "fabricated"])
def test_rag_verdict_matches_semtraces_own(foreign: Foreign, answer: str) -> None:
    llamaindex_query(answer)()
    found = outcome(foreign.spans())
    own = semtraces_own_llamaindex(llamaindex_query(answer))
    assert found.labels == own.labels
    assert found.diagnosis == own.diagnosis


def test_fabricated_answer_is_diagnosed_unsupported(foreign: Foreign) -> None:
    llamaindex_query(FABRICATED)()
    assert outcome(foreign.spans()).diagnosis == "unsupported_answer"


def test_one_model_call_gets_one_verdict(foreign: Foreign) -> None:
    # LlamaIndex's predict wraps complete: two LLM spans, one call.
    llamaindex_query(FABRICATED)()
    assert outcome(foreign.spans()).evaluation_events == 1


def test_cost_matches_semtraces_own(foreign: Foreign) -> None:
    llamaindex_query(GOOD)()
    found = outcome(foreign.spans())
    # The fake LLM names no provider: no price for either (cost with a provider is
    # tested on the LangChain sources and PydanticAI).
    assert found.cost is None
    assert semtraces_own_llamaindex(llamaindex_query(GOOD)).cost is None


def testlooping_llamaindex_agent_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    looping_llamaindex_agent()
    found = outcome(foreign.spans())
    assert (
        found.diagnosis
        == semtraces_own_llamaindex(looping_llamaindex_agent).diagnosis
        == "step_limit"
    )
