"""The official LangChain instrumentation (opentelemetry-instrumentation-genai-langchain).

Its spans, judged by semtrace.adopt, get the verdicts semtrace's own LangChain handler
gives the same runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor
from semtrace import Settings, semconv

from tests.adopt.cases import (
    FABRICATED,
    GOOD,
    QUESTION,
    Foreign,
    content_captured,
    looping_agent,
    outcome,
    rag_chain,
    semtraces_own,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
GROUNDEDNESS_LABEL = semconv.SEMTRACE_QUALITY_PREFIX + "groundedness.label"


@pytest.fixture(scope="module")
def instrumented() -> Iterator[Foreign]:
    # Once per module: an instrumentor keeps the first tracer provider it was given.
    found = Foreign()
    with pytest.MonkeyPatch.context() as monkeypatch, content_captured(monkeypatch):
        instrumentor = LangChainInstrumentor()
        instrumentor.instrument(tracer_provider=found.tracer_provider)
        try:
            yield found
        finally:
            instrumentor.uninstrument()
            found.shutdown()


@pytest.fixture
def foreign(instrumented: Foreign) -> Foreign:
    return instrumented.fresh()


def _rag(answer: str) -> Any:
    chain = rag_chain(answer)
    return lambda config: chain.invoke(QUESTION, config=config)


#: Its retrieval span names the documents (id, score) but carries none of their text, so
#: there is no retrieval relevance to score; the passages reach the groundedness signal
#: through the prompt, as knowledge, which asks no question for answer relevance.
NOT_SEEN = {"retrieval_relevance", "answer_relevance"}


@pytest.mark.parametrize("answer", [GOOD, FABRICATED], ids=["grounded", "fabricated"])
def test_rag_verdict_matches_semtraces_own(foreign: Foreign, answer: str) -> None:
    _rag(answer)({})
    found = outcome(foreign.spans())
    own = semtraces_own(_rag(answer))
    assert found.labels == {k: v for k, v in own.labels.items() if k not in NOT_SEEN}
    assert found.diagnosis == own.diagnosis


def test_fabricated_answer_is_diagnosed_unsupported(foreign: Foreign) -> None:
    _rag(FABRICATED)({})
    found = outcome(foreign.spans())
    assert found.labels["groundedness"] == "fail"
    assert found.diagnosis == "unsupported_answer"
    assert found.evaluation_events >= 1


def test_cost_matches_semtraces_own(foreign: Foreign) -> None:
    _rag(GOOD)({})
    found = outcome(foreign.spans())
    assert found.cost is not None and found.cost > 0
    assert found.cost == semtraces_own(_rag(GOOD)).cost


def test_looping_agent_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    looping_agent()({})
    found = outcome(foreign.spans())
    assert found.diagnosis == semtraces_own(looping_agent()).diagnosis == "agent_loop"


def test_a_run_semtraces_own_handler_also_traces_gets_one_verdict(foreign: Foreign) -> None:
    from semtrace_langchain import CallbackHandler

    handler = CallbackHandler(tracer_provider=foreign.tracer_provider, settings=Settings())
    _rag(FABRICATED)({"callbacks": [handler]})
    spans = foreign.spans()
    judged = [s for s in spans if GROUNDEDNESS_LABEL in (s.attributes or {})]
    assert [s.instrumentation_scope.name for s in judged] == ["semtrace_langchain"]
