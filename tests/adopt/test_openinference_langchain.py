"""OpenInference's LangChain instrumentation (openinference-instrumentation-langchain).

It records retrieved documents' text and the messages by default: semtrace.adopt gives
its spans every verdict semtrace's own LangChain handler gives the same runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openinference.instrumentation.langchain import LangChainInstrumentor
from semtrace.quality.judge import GroundednessJudge, JudgeReply

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
JUDGE_LABEL = "semtrace.quality.groundedness_judge.label"


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


@pytest.mark.parametrize("answer", [GOOD, FABRICATED], ids=["grounded", "fabricated"])
def test_rag_verdict_matches_semtraces_own(foreign: Foreign, answer: str) -> None:
    _rag(answer)({})
    found = outcome(foreign.spans())
    own = semtraces_own(_rag(answer))
    assert found.labels == own.labels
    assert found.diagnosis == own.diagnosis


def test_fabricated_answer_is_diagnosed_unsupported(foreign: Foreign) -> None:
    _rag(FABRICATED)({})
    found = outcome(foreign.spans())
    assert found.labels["groundedness"] == "fail"
    assert found.diagnosis == "unsupported_answer"


def test_cost_matches_semtraces_own(foreign: Foreign) -> None:
    _rag(GOOD)({})
    found = outcome(foreign.spans())
    assert found.cost is not None and found.cost > 0
    assert found.cost == semtraces_own(_rag(GOOD)).cost


def test_looping_agent_gets_semtraces_diagnosis(foreign: Foreign) -> None:
    looping_agent()({})
    found = outcome(foreign.spans())
    assert found.diagnosis == semtraces_own(looping_agent()).diagnosis == "agent_loop"


def test_the_judge_gives_its_verdict_on_the_fabricated_answer(instrumented: Foreign) -> None:
    judge = GroundednessJudge(lambda prompt: JudgeReply("UNSUPPORTED"))
    foreign = instrumented.fresh(evaluators=[judge])
    _rag(FABRICATED)({})
    judged = [s for s in foreign.spans() if (s.attributes or {}).get(JUDGE_LABEL) is not None]
    assert [(s.attributes or {})[JUDGE_LABEL] for s in judged] == ["fail"]
    assert (judged[0].attributes or {}).get("openinference.span.kind") == "LLM"
