"""Cost per model call and per trace, from the same token counts as the spans."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain

PRICES = {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}


def reply(input_tokens: int, output_tokens: int) -> AIMessage:
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    return AIMessage(content="ok", usage_metadata=usage)  # type: ignore[arg-type]


def test_chat_span_carries_its_cost(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, prices=PRICES)
    fake_chat(reply(1_000_000, 100_000)).invoke("hi", config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    assert attrs[semconv.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx(0.15 + 0.06)
    assert attrs[semconv.SEMTRACE_USAGE_COST_CURRENCY] == "USD"
    assert attrs[semconv.SEMTRACE_USAGE_COST_SOURCE] == "user"
    assert attrs[semconv.SEMTRACE_USAGE_COST_ESTIMATED] is False


def test_cost_from_tiktoken_counts_says_it_is_estimated(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, prices=PRICES)
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    expected = (
        attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] * 0.15
        + attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] * 0.60
    ) / 1e6
    assert attrs[semconv.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx(expected)
    assert attrs[semconv.SEMTRACE_USAGE_COST_ESTIMATED] is True


def test_unknown_model_gets_no_cost(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, prices={"other": {"input": 1, "output": 1}}
    )
    from tests.langchain.pipelines import FakeChat

    FakeChat(messages=iter([reply(10, 10)]), model_name="my-local-llm").invoke(
        "hi", config={"callbacks": [handler]}
    )
    assert semconv.SEMTRACE_USAGE_COST_AMOUNT not in telemetry.span("chat my-local-llm").attributes


def test_root_span_rolls_up_tokens_and_cost_of_the_trace(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, prices=PRICES)
    from langchain_core.runnables import RunnableLambda

    model = fake_chat(reply(100, 10), reply(200, 20))
    chain = RunnableLambda(lambda x: model.invoke(x).content) | RunnableLambda(
        lambda x: model.invoke(x).content
    )
    chain.invoke("hi", config={"callbacks": [handler]})
    root = telemetry.by_operation("invoke_workflow")[0].attributes
    assert root[semconv.SEMTRACE_TRACE_INPUT_TOKENS] == 300
    assert root[semconv.SEMTRACE_TRACE_OUTPUT_TOKENS] == 30
    assert root[semconv.SEMTRACE_TRACE_COST_AMOUNT] == pytest.approx((300 * 0.15 + 30 * 0.60) / 1e6)
    assert semconv.SEMTRACE_USAGE_COST_AMOUNT not in root


def test_cost_counter_by_model(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        prices=PRICES,
    )
    for _ in range(3):
        fake_chat(reply(1_000_000, 0)).invoke("hi", config={"callbacks": [handler]})
    [point] = telemetry.metric_points(semconv.METRIC_COST)
    assert point.value == pytest.approx(0.45)
    assert point.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_bad_price_table_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="gpt-4o-mini"):
        CallbackHandler(prices={"gpt-4o-mini": {"input": -1, "output": 1}})


def test_shipped_prices_apply_to_known_openai_models(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    chat = telemetry.by_operation("chat")[0].attributes
    assert chat[semconv.SEMTRACE_USAGE_COST_SOURCE] == "default"
    assert chat[semconv.SEMTRACE_USAGE_COST_AMOUNT] > 0
