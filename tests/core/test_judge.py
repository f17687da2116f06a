"""The groundedness judge: when it asks, what it asks, what it makes of the reply.

The judge's model is a plain function here (``ask``), as a user could write one; the real
LangChain and LlamaIndex clients against the local wire-format servers are in
``tests/providers/test_judge_clients.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from semtrace import (
    Evaluation,
    GroundednessJudge,
    JudgeReply,
    ModelCall,
    Recorder,
    Sample,
    semconv,
)
from semtrace.cost import PriceTable
from semtrace.private_apis import instrumentation_suppressed
from semtrace.quality.evaluators import validate
from semtrace.quality.judge import FINAL, JUDGE, build_prompt, parse_verdict
from semtrace.records import (
    Document,
    Message,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    TextPart,
    Usage,
    ValueEnd,
    WorkflowStart,
)
from semtrace.safety import fault_count
from semtrace.testing import Telemetry

from tests.corpus import WITH_QUESTION

SOURCE = "The with statement wraps the execution of a block with methods of a context manager."
QUESTION = WITH_QUESTION
ANSWER = "It wraps a block with a context manager's methods."
CALL = ModelCall("judge-mini", "openai", "judge-mini-2025", Usage(120, 1))


def sample(verdict: str | None = "uncertain", **overrides: Any) -> Sample:
    fields: dict[str, Any] = {
        "operation": "chat",
        "question": QUESTION,
        "answer": ANSWER,
        "contexts": (SOURCE,),
        "kind": "qa",
        "verdicts": {"groundedness": verdict} if verdict else {},
    }
    fields.update(overrides)
    return Sample(**fields)


class Model:
    """The judge's model: answers ``reply``, or runs ``behave`` in its place; notes each call."""

    def __init__(self, reply: str = "SUPPORTED", behave: Callable[[], Any] | None = None) -> None:
        self.reply = reply
        self.behave = behave
        self.prompts: list[str] = []
        self.seen: list[tuple[str, bool]] = []

    def __call__(self, prompt: str) -> JudgeReply:
        self.prompts.append(prompt)
        self.seen.append((threading.current_thread().name, instrumentation_suppressed()))
        if self.behave is not None:
            self.behave()
        return JudgeReply(self.reply, CALL)


def outcomes(evaluation: Evaluation) -> dict[str, tuple[float, str]]:
    """Each result of a judgement (the judge's and the final one): value and label."""
    return {e.name: (e.value, e.label) for e in (evaluation, *evaluation.related)}


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        pytest.param("SUPPORTED", "pass", id="the-word"),
        pytest.param("unsupported", "fail", id="lower-case"),
        pytest.param("**Supported.**", "pass", id="markdown-and-punctuation"),
        pytest.param("Verdict: SUPPORTED - every claim is in passage 1.", "pass", id="extra-words"),
        pytest.param("The answer is not supported.", "fail", id="negated"),
        pytest.param("NOT_SUPPORTED", "fail", id="negated-underscore"),
        pytest.param("<think>could be UNSUPPORTED</think>\nSUPPORTED", "pass", id="thinking"),
        pytest.param("SUPPORTED or UNSUPPORTED", None, id="both"),
        pytest.param("I cannot tell from the passages.", None, id="neither"),
        pytest.param("Yes", None, id="yes-is-not-a-verdict"),
        pytest.param("", None, id="empty"),
    ],
)
def test_parse_verdict_reads_one_verdict_word_in_any_dress(reply: str, verdict: str | None) -> None:
    assert parse_verdict(reply) == verdict


# --------------------------------------------------------------------------- who is judged


@pytest.mark.parametrize("builtin", ["uncertain", "fail"])
def test_uncertain_and_failing_builtin_verdicts_are_judged_by_default(builtin: str) -> None:
    model = Model()
    assert GroundednessJudge(model).evaluate(sample(builtin)) is not None
    assert len(model.prompts) == 1


def test_a_passing_builtin_verdict_is_not_judged_by_default() -> None:
    model = Model()
    assert GroundednessJudge(model).evaluate(sample("pass")) is None
    assert model.prompts == []


def test_escalate_on_chooses_which_builtin_labels_are_judged() -> None:
    model = Model()
    judge = GroundednessJudge(model, escalate_on={"fail"})
    assert judge.evaluate(sample("uncertain")) is None
    assert judge.evaluate(sample("fail")) is not None


def test_sample_rate_one_judges_passing_answers_too() -> None:
    model = Model()
    judge = GroundednessJudge(model, sample_rate=1.0)
    assert judge.evaluate(sample("pass")) is not None
    assert len(model.prompts) == 1


def test_sample_rate_judges_about_that_share_of_the_rest() -> None:
    judge = GroundednessJudge(Model(), sample_rate=0.25, seed=7)
    judged = sum(judge.evaluate(sample("pass")) is not None for _ in range(400))
    assert 70 <= judged <= 130


@pytest.mark.parametrize(
    "skipped",
    [
        pytest.param({"answer": None}, id="no-answer"),
        pytest.param({"answer": ""}, id="empty-answer"),
        pytest.param({"contexts": ()}, id="no-source"),
        pytest.param({"kind": None}, id="no-source-in-its-prompt"),
    ],
)
def test_an_answer_without_text_or_source_is_never_judged(skipped: dict[str, Any]) -> None:
    model = Model()
    judge = GroundednessJudge(model, sample_rate=1.0)
    assert judge.evaluate(sample("fail", **skipped)) is None
    assert model.prompts == []


# --------------------------------------------------------------------------- results


def test_a_supported_verdict_passes_and_decides_the_final_verdict() -> None:
    result = GroundednessJudge(Model("SUPPORTED")).evaluate(sample("uncertain"))
    assert result is not None
    assert outcomes(result) == {JUDGE: (1.0, "pass"), FINAL: (1.0, "pass")}


def test_an_unsupported_verdict_fails_and_decides_the_final_verdict() -> None:
    result = GroundednessJudge(Model("UNSUPPORTED"), sample_rate=1.0).evaluate(sample("pass"))
    assert result is not None
    assert outcomes(result) == {JUDGE: (0.0, "fail"), FINAL: (0.0, "fail")}


def test_the_final_verdict_names_the_builtin_and_the_judge() -> None:
    result = GroundednessJudge(Model("SUPPORTED")).evaluate(sample("fail"))
    assert result is not None
    [final] = result.related
    assert "built-in groundedness: fail" in final.explanation
    assert "judge" in final.explanation


def test_the_judge_call_travels_with_its_result() -> None:
    result = GroundednessJudge(Model()).evaluate(sample())
    assert result is not None
    assert result.call == CALL


# --------------------------------------------------------------------------- faults


def test_a_reply_in_the_wrong_format_leaves_the_builtin_verdict_standing() -> None:
    judge = GroundednessJudge(Model("Hmm, hard to say."))
    before = fault_count("groundedness_judge unparseable")
    result = judge.evaluate(sample("fail"))
    assert result is not None
    assert outcomes(result) == {JUDGE: (0.5, "uncertain"), FINAL: (0.0, "fail")}
    assert "unparseable" in result.explanation
    assert judge.faults["unparseable"] == 1
    assert fault_count("groundedness_judge unparseable") == before + 1


def test_a_reply_in_the_wrong_format_still_counts_its_tokens() -> None:
    result = GroundednessJudge(Model("Hmm, hard to say.")).evaluate(sample())
    assert result is not None
    assert result.call == CALL


def test_a_judge_that_times_out_gives_up_without_waiting_for_the_model() -> None:
    release = threading.Event()
    judge = GroundednessJudge(Model(behave=lambda: release.wait(10)), timeout_s=0.1)
    started = time.monotonic()
    try:
        result = judge.evaluate(sample("uncertain"))
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert result is not None
    assert outcomes(result) == {JUDGE: (0.5, "uncertain"), FINAL: (0.5, "uncertain")}
    assert "timeout" in result.explanation
    assert judge.faults["timeout"] == 1


def test_a_judge_that_raises_is_counted_and_named_without_its_message() -> None:
    def broken() -> None:
        raise ConnectionError("secret prompt text")

    judge = GroundednessJudge(Model(behave=broken))
    before = fault_count("groundedness_judge error")
    result = judge.evaluate(sample("fail"))
    assert result is not None
    assert outcomes(result) == {JUDGE: (0.5, "uncertain"), FINAL: (0.0, "fail")}
    assert "ConnectionError" in result.explanation
    assert "secret" not in result.explanation
    assert judge.faults["error"] == 1
    assert fault_count("groundedness_judge error") == before + 1


def test_an_ask_that_returns_something_else_is_an_error() -> None:
    judge = GroundednessJudge(lambda prompt: "SUPPORTED")  # type: ignore[arg-type,return-value]
    result = judge.evaluate(sample())
    assert result is not None and result.label == "uncertain"
    assert judge.faults["error"] == 1


def test_hung_calls_are_bounded_and_later_judgements_skip_until_one_ends() -> None:
    release = threading.Event()
    model = Model(behave=lambda: release.wait(10))
    judge = GroundednessJudge(model, timeout_s=0.05, max_in_flight=1)
    try:
        judge.evaluate(sample())
        result = judge.evaluate(sample())
    finally:
        release.set()
    assert result is not None and "busy" in result.explanation
    assert len(model.prompts) == 1
    assert judge.faults["timeout"] == 1 and judge.faults["busy"] == 1


def test_a_slot_is_free_again_once_the_hung_call_ends() -> None:
    release = threading.Event()
    model = Model(behave=lambda: release.wait(10))
    judge = GroundednessJudge(model, timeout_s=0.05, max_in_flight=1)
    judge.evaluate(sample())
    release.set()
    deadline = time.monotonic() + 5
    while judge.evaluate(sample()).explanation.startswith("no verdict (busy)"):  # type: ignore[union-attr]
        assert time.monotonic() < deadline
    assert len(model.prompts) == 2


def test_the_model_is_asked_on_a_helper_thread_with_instrumentation_suppressed() -> None:
    model = Model()
    GroundednessJudge(model).evaluate(sample())
    [(thread, suppressed)] = model.seen
    assert thread == "semtrace-judge" and thread != threading.current_thread().name
    assert suppressed
    assert not instrumentation_suppressed()  # the caller's context is left as it was


# --------------------------------------------------------------------------- the prompt


def test_the_prompt_holds_the_source_the_question_and_the_answer() -> None:
    prompt = build_prompt(sample())
    assert SOURCE in prompt and QUESTION in prompt and ANSWER in prompt
    assert "SUPPORTED or UNSUPPORTED" in prompt


@pytest.mark.parametrize(
    ("kind", "heading"),
    [
        pytest.param("qa", "Passages retrieved to answer the question:", id="qa"),
        pytest.param("summary", "The document the answer summarises:", id="summary"),
        pytest.param("dialogue", "The knowledge the assistant was given:", id="dialogue"),
        pytest.param(None, "The source:", id="unknown"),
    ],
)
def test_the_prompt_names_the_source_by_its_kind(kind: str | None, heading: str) -> None:
    assert heading in build_prompt(sample(kind=kind))


def test_the_prompt_bounds_a_long_source_keeping_the_first_passages() -> None:
    contexts = ("first " * 50, "x" * 100_000, "never shown")
    prompt = build_prompt(sample(contexts=contexts), max_source_chars=1000)
    assert "[1] first" in prompt and "[...]" in prompt
    assert "never shown" not in prompt
    assert len(prompt) < 1000 + len(ANSWER) + len(QUESTION) + 600


def test_the_prompt_bounds_a_long_answer_and_question() -> None:
    prompt = build_prompt(
        sample(answer="a" * 50_000, question="q" * 50_000),
        max_answer_chars=500,
        max_question_chars=200,
    )
    assert prompt.count("a" * 450) == 1 and "a" * 501 not in prompt
    assert "q" * 201 not in prompt


def test_the_judge_sends_the_bounded_prompt() -> None:
    model = Model()
    GroundednessJudge(model, max_source_chars=500).evaluate(sample(contexts=("y" * 10_000,)))
    [prompt] = model.prompts
    assert "y" * 501 not in prompt


# --------------------------------------------------------------------------- configuration


def test_the_judge_is_a_background_evaluator_of_model_spans() -> None:
    judge = GroundednessJudge(Model())
    assert validate([judge]) == (judge,)
    assert judge.name == "groundedness_judge" and judge.background is True
    assert judge.operations == {"chat", "text_completion"}


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"sample_rate": 1.5}, id="sample-rate-above-one"),
        pytest.param({"sample_rate": -0.1}, id="negative-sample-rate"),
        pytest.param({"timeout_s": 0}, id="no-timeout"),
        pytest.param({"escalate_on": "fail"}, id="escalate-on-a-string"),
        pytest.param({"escalate_on": {"maybe"}}, id="unknown-label"),
        pytest.param({"max_in_flight": 0}, id="no-slot"),
        pytest.param({"max_source_chars": 10}, id="tiny-source"),
    ],
)
def test_invalid_options_fail_at_configuration(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        GroundednessJudge(Model(), **options)


# --------------------------------------------------------------------------- recorded


PRICES = PriceTable.load(
    {"judge-mini": {"input": 1.0, "output": 4.0}, "gpt-4o-mini": {"input": 2.0, "output": 8.0}},
    include_defaults=False,
)


def run_rag(telemetry: Telemetry, judge: GroundednessJudge) -> Recorder:
    """One traced RAG call through the recorder, as an integration would make it."""
    recorder = telemetry.recorder(count_tokens=False, evaluators=[judge], prices=PRICES)
    recorder.start("root", None, WorkflowStart(name="rag", input=QUESTION))
    recorder.start("retrieve", "root", RetrievalStart(query=QUESTION))
    recorder.end("retrieve", RetrievalEnd(documents=[Document(content=SOURCE)]))
    prompt = Message("user", [TextPart(f"Context: {SOURCE}\n\n{QUESTION}")])
    recorder.start("chat", "root", ModelStart("openai", "gpt-4o-mini", [prompt]))
    answer = Message("assistant", [TextPart(ANSWER)])
    recorder.end("chat", ModelEnd([answer], usage=Usage(40, 10)))
    recorder.end("root", ValueEnd(ANSWER))
    assert recorder.background is not None and recorder.background.wait()
    return recorder


def test_the_evaluate_span_carries_the_judge_call_as_evaluation_usage_and_cost(
    telemetry: Telemetry,
) -> None:
    run_rag(telemetry, GroundednessJudge(Model("SUPPORTED"), sample_rate=1.0))
    span = telemetry.span("evaluate groundedness_judge")
    attrs = dict(span.attributes or {})
    assert attrs[semconv.SEMTRACE_USAGE_PURPOSE] == semconv.USAGE_PURPOSE_EVALUATION
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "judge-mini"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "judge-mini-2025"
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 120
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 1
    assert attrs[semconv.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx((120 * 1 + 1 * 4) / 1e6)
    assert semconv.GEN_AI_OPERATION_NAME not in attrs  # not a model span of the app


def test_the_evaluate_span_records_both_results_as_evaluation_events(
    telemetry: Telemetry,
) -> None:
    run_rag(telemetry, GroundednessJudge(Model("UNSUPPORTED"), sample_rate=1.0))
    span = telemetry.span("evaluate groundedness_judge")
    assert telemetry.parent_of(span) is telemetry.by_operation("chat")[0]
    events = {
        e.attributes[semconv.GEN_AI_EVALUATION_NAME]: e.attributes[
            semconv.GEN_AI_EVALUATION_SCORE_LABEL
        ]
        for e in span.events
        if e.name == semconv.EVENT_EVALUATION_RESULT and e.attributes
    }
    assert events == {JUDGE: "fail", FINAL: "fail"}
    assert (
        span.attributes and span.attributes["semtrace.quality.groundedness_final.label"] == "fail"
    )


def test_the_judge_tokens_and_cost_stay_out_of_the_app_trace_roll_ups(
    telemetry: Telemetry,
) -> None:
    run_rag(telemetry, GroundednessJudge(Model(), sample_rate=1.0))
    root = dict(telemetry.span("invoke_workflow rag").attributes or {})
    assert root[semconv.SEMTRACE_TRACE_INPUT_TOKENS] == 40
    assert root[semconv.SEMTRACE_TRACE_OUTPUT_TOKENS] == 10
    assert root[semconv.SEMTRACE_TRACE_COST_AMOUNT] == pytest.approx((40 * 2 + 10 * 8) / 1e6)


def test_the_judge_tokens_and_cost_stay_out_of_the_app_metrics(telemetry: Telemetry) -> None:
    run_rag(telemetry, GroundednessJudge(Model(), sample_rate=1.0))
    tokens = telemetry.metric_points(semconv.METRIC_TOKEN_USAGE)
    assert sorted(p.sum for p in tokens) == [10, 40]
    [cost] = telemetry.metric_points(semconv.METRIC_COST)
    assert cost.value == pytest.approx((40 * 2 + 10 * 8) / 1e6)
