"""User evaluators: inline ones on the span, background ones on a child span, bounded."""

from __future__ import annotations

import threading

import pytest
import semtrace
from semtrace import Evaluation, Sample, semconv
from semtrace import _worker as worker
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, DOCS, QUESTION, fake_chat, rag_chain


class CitesContext:
    name = "cites_context"
    background = False
    operations = frozenset({"chat"})

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def evaluate(self, sample: Sample) -> Evaluation | None:
        self.samples.append(sample)
        hit = any(c[:30] in (sample.answer or "") for c in sample.contexts)
        return Evaluation(
            self.name, 1.0 if hit else 0.0, "pass" if hit else "fail", "answer quotes the context"
        )


class SlowJudge:
    name = "llm_judge"
    background = True
    operations = frozenset({"chat"})

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate

    def evaluate(self, sample: Sample) -> Evaluation | None:
        if self.gate is not None:
            self.gate.wait(5)
        return Evaluation(self.name, 0.9, "pass", "judged offline")


class Broken:
    name = "broken"
    background = False
    operations = frozenset({"chat"})

    def evaluate(self, sample: Sample) -> Evaluation | None:
        raise RuntimeError("evaluator bug")


def test_inline_evaluator_result_is_a_span_attribute_and_event(telemetry: Telemetry) -> None:
    evaluator = CitesContext()
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, evaluators=[evaluator])
    rag_chain(fake_chat(ANSWER), docs=DOCS[:2], k=2).invoke(
        QUESTION, config={"callbacks": [handler]}
    )
    chat = telemetry.by_operation("chat")[0]
    assert chat.attributes["semtrace.quality.cites_context"] == 1.0
    events = [
        e
        for e in chat.events
        if e.attributes.get(semconv.GEN_AI_EVALUATION_NAME) == "cites_context"
    ]
    assert (
        events
        and events[0].attributes[semconv.GEN_AI_EVALUATION_EXPLANATION]
        == "answer quotes the context"
    )
    [sample] = evaluator.samples
    assert sample.question == QUESTION and sample.answer == ANSWER and len(sample.contexts) == 2


def test_background_evaluator_lands_on_a_child_of_the_evaluated_span(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, evaluators=[SlowJudge()])
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert handler.recorder.background is not None and handler.recorder.background.wait()
    chat = telemetry.by_operation("chat")[0]
    judged = telemetry.span("evaluate llm_judge")
    assert telemetry.parent_of(judged) is chat
    [event] = judged.events
    assert event.name == semconv.EVENT_EVALUATION_RESULT
    assert event.attributes[semconv.GEN_AI_EVALUATION_SCORE_VALUE] == 0.9


def test_full_background_queue_drops_and_counts_without_blocking(telemetry: Telemetry) -> None:
    gate = threading.Event()
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, evaluators=[SlowJudge(gate)]
    )
    background = handler.recorder.background
    assert background is not None
    background._queue.maxsize = 3  # a tiny queue, to fill it quickly
    for _ in range(10):
        fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    assert worker.drain(10)  # the runs' ends, which queue the evaluations
    assert background.dropped >= 6
    gate.set()
    assert background.wait()


def test_failing_evaluator_never_reaches_the_app(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, evaluators=[Broken()])
    assert rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]}) == ANSWER
    assert "semtrace.quality.groundedness" in telemetry.by_operation("chat")[0].attributes


def test_object_that_is_not_an_evaluator_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="not an evaluator"):
        CallbackHandler(evaluators=[object()])  # type: ignore[list-item]


def test_flush_waits_for_background_evaluations(telemetry: Telemetry) -> None:
    gate = threading.Event()
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, evaluators=[SlowJudge(gate)]
    )
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    threading.Timer(0.05, gate.set).start()
    assert semtrace.flush(timeout_millis=5000)
    assert telemetry.span("evaluate llm_judge")
