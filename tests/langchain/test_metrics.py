"""GenAI client metrics with the conventions' attributes and bucket advice."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


def test_token_usage_histogram_has_input_and_output_points(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    reply = AIMessage(
        content="ok", usage_metadata={"input_tokens": 40, "output_tokens": 2, "total_tokens": 42}
    )
    fake_chat(reply).invoke("hi", config={"callbacks": [handler]})
    points = {
        p.attributes[semconv.GEN_AI_TOKEN_TYPE]: p
        for p in telemetry.metric_points(semconv.METRIC_TOKEN_USAGE)
    }
    assert points["input"].sum == 40 and points["output"].sum == 2
    attrs = points["input"].attributes
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[semconv.SEMTRACE_USAGE_SOURCE] == "provider"
    assert tuple(points["input"].explicit_bounds) == semconv.TOKEN_USAGE_BUCKETS


def test_operation_duration_histogram_uses_the_advised_buckets(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    [point] = telemetry.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert point.count == 1
    assert tuple(point.explicit_bounds) == semconv.DURATION_BUCKETS
    assert point.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_failed_call_duration_carries_error_type(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    with pytest.raises(StopIteration):  # the fake model has no reply left
        fake_chat().invoke("hi", config={"callbacks": [handler]})
    [point] = telemetry.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert semconv.ERROR_TYPE in point.attributes


def test_quality_signals_are_a_histogram_by_signal_name(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    names = {
        p.attributes[semconv.GEN_AI_EVALUATION_NAME]
        for p in telemetry.metric_points(semconv.METRIC_QUALITY_SCORE)
    }
    assert {"retrieval_relevance", "groundedness", "answer_relevance"} <= names


def test_a_flag_is_a_metric_point_only_when_raised(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    rag_chain(fake_chat("I don't know.")).invoke(QUESTION, config={"callbacks": [handler]})
    flags = [
        p
        for p in telemetry.metric_points(semconv.METRIC_QUALITY_SCORE)
        if p.attributes[semconv.GEN_AI_EVALUATION_NAME] == "non_answer"
    ]
    # Two answers, one refusal: one point, the raised flag (its rate: this count over the
    # chat calls' gen_ai.client.operation.duration count).
    assert [
        (p.count, p.sum, p.attributes[semconv.GEN_AI_EVALUATION_SCORE_LABEL]) for p in flags
    ] == [(1, 1.0, "fail")]
