"""langchain-anthropic (ChatAnthropic) against a local Anthropic Messages API."""

from __future__ import annotations

import anthropic
import pytest
from langchain_anthropic import ChatAnthropic
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.anthropic import AnthropicServer
from tests.providers.servers.base import ToolCall

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "claude-sonnet-4-5"


def chat(server: AnthropicServer) -> ChatAnthropic:
    return ChatAnthropic(
        model=MODEL,
        base_url=server.url,
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=0,
    )


def check(telemetry: Telemetry, server: AnthropicServer, *, id: bool = True) -> None:
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="anthropic",
        request_model=MODEL,
        finish=[server.answer.finish],
        response_id=id,
        params=PARAMS,
    )


def test_invoke(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    chat(anthropic_server).invoke("Capital of France?", config={"callbacks": [lc]})
    assert anthropic_server.requests[0].json["max_tokens"] == 50
    check(telemetry, anthropic_server)


async def test_ainvoke(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    await chat(anthropic_server).ainvoke("Capital of France?", config={"callbacks": [lc]})
    check(telemetry, anthropic_server)


def test_stream(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    # Anthropic streams always carry usage (message_start, message_delta): no stream without.
    anthropic_server.answer.cache_read = 10
    anthropic_server.answer.input_tokens = 31
    text = "".join(
        str(c.content) for c in chat(anthropic_server).stream("Hi", config={"callbacks": [lc]})
    )
    assert text == anthropic_server.answer.text
    check(telemetry, anthropic_server, id=False)


async def test_astream(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    async for _ in chat(anthropic_server).astream("Hi", config={"callbacks": [lc]}):
        pass
    check(telemetry, anthropic_server, id=False)


@pytest.mark.xfail(
    strict=True,
    reason="langchain_anthropic.chat_models.ChatAnthropic._make_message_chunk_from_anthropic_"
    "event keeps only the model of message_start; the message id reaches no callback",
)
def test_stream_response_id(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    for _ in chat(anthropic_server).stream("Hi", config={"callbacks": [lc]}):
        pass
    span = expect.model_span(telemetry)
    assert expect.attrs(span).get(sc.GEN_AI_RESPONSE_ID) == anthropic_server.answer.id


def test_tool_call(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    anthropic_server.answer.finish = "tool_call"
    anthropic_server.answer.tool = ToolCall(id="toolu_01A")
    message = (
        chat(anthropic_server)
        .bind_tools([get_weather])
        .invoke("Weather in Paris?", config={"callbacks": [lc]})
    )
    assert message.tool_calls[0]["id"] == "toolu_01A"
    check(telemetry, anthropic_server)


def test_truncated(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    anthropic_server.answer.finish = "length"
    chat(anthropic_server).invoke("Write a poem", config={"callbacks": [lc]})
    check(telemetry, anthropic_server)
    expect.check_truncated(expect.model_span(telemetry))


def test_prompt_caching(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    # 41 uncached + 1,024 read + 77 written, with the TTL breakdown the real API sends.
    answer = anthropic_server.answer
    answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    chat(anthropic_server).invoke("Again", config={"callbacks": [lc]})
    check(telemetry, anthropic_server)
    expect.check_token_metric(telemetry, anthropic_server)


def test_prompt_caching_stream(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    answer = anthropic_server.answer
    answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    for _ in chat(anthropic_server).stream("Again", config={"callbacks": [lc]}):
        pass
    check(telemetry, anthropic_server, id=False)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, lc, anthropic_server: AnthropicServer, status: int) -> None:
    anthropic_server.fail = status
    with pytest.raises(anthropic.APIStatusError) as caught:
        chat(anthropic_server).invoke("Hi", config={"callbacks": [lc]})
    assert caught.value.status_code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    anthropic_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in chat(anthropic_server).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_request_params(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    model = ChatAnthropic(
        model=MODEL,
        base_url=anthropic_server.url,
        api_key="test",
        max_tokens=64,
        top_k=5,
        top_p=0.9,
        stop_sequences=["END"],
        max_retries=0,
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    sent = anthropic_server.requests[0].json
    assert (sent["top_k"], sent["stop_sequences"]) == (5, ["END"])
    expect.check_span(
        expect.model_span(telemetry),
        anthropic_server,
        provider="anthropic",
        request_model=MODEL,
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
            sc.GEN_AI_REQUEST_TOP_K: 5.0,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


def test_stream_error_event(telemetry: Telemetry, lc, anthropic_server: AnthropicServer) -> None:
    anthropic_server.stream_error = True
    with pytest.raises(anthropic.APIStatusError) as caught:
        for _ in chat(anthropic_server).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
