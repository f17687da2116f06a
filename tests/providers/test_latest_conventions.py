"""A real provider client under the newest GenAI conventions (the opt-in)."""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from semtrace import semconv, semconv_latest
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.providers.servers.openai import OpenAIServer


def test_chat_openai_reasoning_effort_and_usage_under_the_newest_names(
    telemetry: Telemetry, openai_server: OpenAIServer
) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        latest_conventions=True,
        count_tokens=False,
    )
    model = ChatOpenAI(
        model="o4-mini",
        base_url=f"{openai_server.url}/v1",
        api_key="test",
        max_retries=0,
        reasoning_effort="high",
        top_p=0.5,
    )
    model.invoke("hello", config={"callbacks": [handler]})
    (span,) = telemetry.spans()
    attrs = dict(span.attributes or {})
    assert attrs[semconv_latest.GEN_AI_REQUEST_REASONING_LEVEL] == "high"
    assert attrs[semconv.GEN_AI_REQUEST_TOP_P] == 0.5
    (point,) = telemetry.metric_points(semconv_latest.METRIC_USAGE_INPUT_TOKENS)
    assert point.value == attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS]
    assert point.attributes[semconv_latest.GEN_AI_TOKEN_MODALITY] == "unknown"
    assert point.attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
