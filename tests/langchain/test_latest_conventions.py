"""A LangChain agent under the newest GenAI conventions (the opt-in)."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from semtrace import semconv, semconv_latest
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import fake_chat


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_an_agent_writes_the_newest_names(telemetry: Telemetry) -> None:
    from langchain.agents import create_agent

    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=True,
        latest_conventions=True,
    )
    call = AIMessage(content="", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1"}])
    agent = create_agent(fake_chat(call, "It is 3."), tools=[add], name="calculator")
    agent.invoke({"messages": [("user", "1+2?")]}, config={"callbacks": [handler]})

    span = telemetry.span("invoke_agent calculator")
    attrs = dict(span.attributes or {})
    assert semconv.GEN_AI_PROVIDER_NAME not in attrs  # not on the internal span any more
    (message,) = json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES]))
    assert message["role"] == "user" and "1+2?" in message["parts"][0]["content"]
    (output,) = json.loads(str(attrs[semconv.GEN_AI_OUTPUT_MESSAGES]))
    assert output["role"] == "assistant" and "It is 3." in output["parts"][0]["content"]
    assert semconv.SEMTRACE_INPUT_VALUE not in attrs
    assert semconv.SEMTRACE_OUTPUT_VALUE not in attrs

    (duration,) = telemetry.metric_points(semconv_latest.METRIC_INFERENCE_DURATION)
    assert duration.count == 2
    assert telemetry.metric_points(semconv_latest.METRIC_USAGE_INPUT_TOKENS)
    assert telemetry.metric_points(semconv.METRIC_TOKEN_USAGE) == []
    (tool_point,) = telemetry.metric_points(semconv_latest.METRIC_EXECUTE_TOOL_DURATION)
    assert tool_point.attributes[semconv.GEN_AI_TOOL_NAME] == "add"
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.schema_url == semconv_latest.SCHEMA_URL
