"""Quality signals on real LangChain and LlamaIndex pipelines, good and broken alike.

Each scenario runs the same retrieval-augmented pipeline in both frameworks with a fixed
retriever (so the retrieved context is the scenario's) and a model that gives the
scenario's answer, and checks the labels a dashboard would filter on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from llama_index.core.query_engine import RetrieverQueryEngine
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.corpus import WITH_GOOD as GOOD
from tests.corpus import WITH_QUESTION as QUESTION
from tests.corpus import WITH_RIGHT as RIGHT
from tests.corpus import WITH_UNSUPPORTED as UNSUPPORTED
from tests.corpus import WITH_WRONG as WRONG
from tests.llamaindex.fakes import AnswerLLM
from tests.retrieval_fakes import FixedNodes, FixedRetriever

REFUSAL = "I don't know; the context does not say."


def run_langchain(telemetry: Telemetry, contexts: list[str], answer: str) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this context:\n{context}"), ("human", "{q}")]
    )
    retriever = FixedRetriever(texts=contexts)
    chain = (
        {
            "context": retriever | (lambda d: "\n\n".join(x.page_content for x in d)),
            "q": RunnablePassthrough(),
        }
        | prompt
        | GenericFakeChatModel(messages=iter([AIMessage(answer)]))
        | StrOutputParser()
    )
    chain.invoke(
        QUESTION, config={"callbacks": [CallbackHandler(tracer_provider=telemetry.tracer_provider)]}
    )


def run_llamaindex(telemetry: Telemetry, contexts: list[str], answer: str) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    try:
        engine = RetrieverQueryEngine.from_args(FixedNodes(contexts), llm=AnswerLLM(answer=answer))
        engine.query(QUESTION)
    finally:
        instrumentor.uninstrument()


Runner = Callable[[Telemetry, list[str], str], None]
FRAMEWORKS = [
    pytest.param(run_langchain, id="langchain"),
    pytest.param(run_llamaindex, id="llamaindex"),
]


def labels(telemetry: Telemetry) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for span in telemetry.spans():
        for key, value in (span.attributes or {}).items():
            if key.startswith("semtrace.quality."):
                found[key.removeprefix("semtrace.quality.")] = value
    return found


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_good_pipeline_passes_every_signal(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, GOOD)
    found = labels(telemetry)
    for signal in ("retrieval_relevance", "groundedness", "answer_relevance"):
        assert found[f"{signal}.label"] == "pass", (signal, found)
    assert found["non_answer"] is False and found["empty_retrieval"] is False


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_wrong_context_fails_retrieval_relevance_and_groundedness(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, WRONG, GOOD)
    found = labels(telemetry)
    assert found["retrieval_relevance.label"] == "fail"
    assert found["groundedness.label"] == "fail"


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_unsupported_answer_fails_groundedness_only(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, UNSUPPORTED)
    found = labels(telemetry)
    assert found["retrieval_relevance.label"] == "pass"
    assert found["groundedness.label"] == "fail"


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_refusal_raises_non_answer(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, REFUSAL)
    assert labels(telemetry)["non_answer"] is True


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_a_raised_flag_is_labelled_fail(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, REFUSAL)
    assert labels(telemetry)["non_answer.label"] == "fail"


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_a_flag_not_raised_is_false_with_no_label(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, GOOD)
    found = labels(telemetry)
    assert found["non_answer"] is False and found["empty_output"] is False
    assert "non_answer.label" not in found and "empty_output.label" not in found


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_empty_retrieval_raises_its_flag(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, [], GOOD)
    found = labels(telemetry)
    assert found["empty_retrieval"] is True
    assert found["retrieval_relevance.label"] == "fail"


def evaluation_events(telemetry: Telemetry) -> dict[str, str]:
    """Signal name -> label of every ``gen_ai.evaluation.result`` event."""
    return {
        e.attributes["gen_ai.evaluation.name"]: e.attributes["gen_ai.evaluation.score.label"]
        for span in telemetry.spans()
        for e in span.events
        if e.name == "gen_ai.evaluation.result"
    }


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_a_failing_signal_is_an_evaluation_event_and_a_passing_one_is_not(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, WRONG, GOOD)
    found = labels(telemetry)
    failing = {k.removesuffix(".label") for k, v in found.items() if v == "fail"}
    assert failing >= {"retrieval_relevance", "groundedness"}
    assert evaluation_events(telemetry) == dict.fromkeys(failing, "fail")


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_passing_signals_are_events_too_when_asked(
    telemetry: Telemetry, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMTRACE_ALL_EVALUATION_EVENTS", "true")
    run(telemetry, RIGHT, GOOD)
    events = evaluation_events(telemetry)
    assert events == {
        "retrieval_relevance": "pass",
        "groundedness": "pass",
        "answer_relevance": "pass",
    }
