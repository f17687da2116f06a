"""Every verdict of a LangChain run reaches the evaluation sinks, on the span it judges.

A receiver installed in the hub (as configure() installs the sinks) keeps the records; the
spans come from the real SDK. Each ``gen_ai.evaluation.result`` event has its record, with
the same name, score, label and explanation; the judge's verdicts are the LLM's, on the
judged span (not on the ``evaluate`` span that carries their events); the diagnosis is on
the root; the user's feedback is the human's, on the root.
"""

from __future__ import annotations

import uuid

import pytest
import semtrace
from semtrace import semconv
from semtrace.export.evaluations import EvaluationRecord
from semtrace.quality.evaluators import wait_for_evaluations
from semtrace.quality.judge import GroundednessJudge, JudgeReply
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.corpus import WITH_UNSUPPORTED
from tests.kept_evaluations import Keeping
from tests.langchain.pipelines import QUESTION, fake_chat, rag_chain


@pytest.fixture
def failing_run(telemetry: Telemetry, sink: Keeping) -> uuid.UUID:
    """A RAG answering from outside its context, judged UNSUPPORTED, then rated by its user."""
    judge = GroundednessJudge(lambda prompt: JudgeReply("UNSUPPORTED"))
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, evaluators=[judge])
    run_id = uuid.uuid4()
    rag_chain(fake_chat(WITH_UNSUPPORTED)).invoke(
        QUESTION, config={"callbacks": [handler], "run_id": run_id}
    )
    assert wait_for_evaluations(10)
    assert semtrace.feedback(run_id, 0.0, label="wrong", comment="Not what the docs say.")
    return run_id


def _by_span(telemetry: Telemetry, sink: Keeping) -> dict[tuple[str, str], EvaluationRecord]:
    names = {s.context.span_id: s.name for s in telemetry.spans()}
    return {(names[r.span_id], r.name): r for r in sink.records}


@pytest.mark.usefixtures("failing_run")
def test_every_evaluation_event_has_its_record_in_the_same_words(
    telemetry: Telemetry, sink: Keeping
) -> None:
    records = {(r.name, r.score, r.label, r.explanation) for r in sink.records}
    events = [
        e.attributes
        for s in telemetry.spans()
        for e in s.events
        if e.name == semconv.EVENT_EVALUATION_RESULT and e.attributes
    ]
    assert events
    for event in events:
        said = (
            event[semconv.GEN_AI_EVALUATION_NAME],
            event[semconv.GEN_AI_EVALUATION_SCORE_VALUE],
            event.get(semconv.GEN_AI_EVALUATION_SCORE_LABEL),
            event.get(semconv.GEN_AI_EVALUATION_EXPLANATION),
        )
        assert said in records, said


@pytest.mark.usefixtures("failing_run")
def test_each_verdict_lands_on_the_span_it_judges_with_its_annotator(
    telemetry: Telemetry, sink: Keeping
) -> None:
    found = _by_span(telemetry, sink)
    root = "invoke_workflow RunnableSequence"
    assert {key: r.annotator for key, r in found.items()} == {
        ("retrieval InMemoryVectorStore", "retrieval_relevance"): "CODE",
        ("chat gpt-4o-mini", "groundedness"): "CODE",
        ("chat gpt-4o-mini", "answer_relevance"): "CODE",
        ("chat gpt-4o-mini", "groundedness_judge"): "LLM",
        ("chat gpt-4o-mini", "groundedness_final"): "LLM",
        (root, "diagnosis"): "CODE",
        (root, "user_feedback"): "HUMAN",
    }
    [span] = [s for s in telemetry.spans() if s.name == "chat gpt-4o-mini"]
    assert {r.trace_id for r in sink.records} == {span.context.trace_id}


@pytest.mark.usefixtures("failing_run")
def test_the_diagnosis_record_says_what_the_root_span_says(
    telemetry: Telemetry, sink: Keeping
) -> None:
    [root] = [s for s in telemetry.spans() if s.parent is None]
    [diagnosis] = [r for r in sink.records if r.name == "diagnosis"]
    attrs = root.attributes or {}
    assert diagnosis.label == attrs[semconv.SEMTRACE_DIAGNOSIS] == "unsupported_answer"
    assert diagnosis.score is None
    assert diagnosis.metadata[semconv.SEMTRACE_DIAGNOSIS_SIGNAL] == "groundedness"


def test_a_trace_that_worked_sends_the_diagnosis_none(telemetry: Telemetry, sink: Keeping) -> None:
    from tests.langchain.pipelines import ANSWER, DOCS

    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider)
    rag_chain(fake_chat(ANSWER), docs=DOCS[:1], k=1).invoke(
        QUESTION, config={"callbacks": [handler]}
    )
    assert wait_for_evaluations(10)  # the worker ends the runs
    [diagnosis] = [r for r in sink.records if r.name == "diagnosis"]
    assert diagnosis.label == "none"


def test_an_unsampled_trace_sends_nothing(sink: Keeping) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    provider = TracerProvider(sampler=ALWAYS_OFF)
    handler = CallbackHandler(tracer_provider=provider)
    rag_chain(fake_chat(WITH_UNSUPPORTED)).invoke(QUESTION, config={"callbacks": [handler]})
    assert wait_for_evaluations(10)
    assert sink.records == []  # not even a diagnosis "none" for a root no backend will have
