"""llama-index-llms-anthropic against a local Anthropic Messages API."""

from __future__ import annotations

import anthropic
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.anthropic import Anthropic
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.anthropic import AnthropicServer
from tests.providers.servers.base import ToolCall

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "claude-sonnet-4-5"
MESSAGES = [ChatMessage(role="user", content="Capital of France?")]


def llm(server: AnthropicServer) -> Anthropic:
    return Anthropic(
        model=MODEL,
        base_url=server.url,
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=0,
    )


def check(telemetry: Telemetry, server: AnthropicServer, *, streamed: bool = False) -> None:
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="anthropic",
        request_model=MODEL,
        finish=[server.answer.finish],
        # stream_chat never yields message_start, the only event with the id and model
        response_id=not streamed,
        response_model=not streamed,
        params=PARAMS,
    )


def test_chat(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    llm(anthropic_server).chat(MESSAGES)
    assert anthropic_server.requests[0].json["max_tokens"] == 50
    check(telemetry, anthropic_server)


async def test_achat(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    await llm(anthropic_server).achat(MESSAGES)
    check(telemetry, anthropic_server)


def test_stream(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    # Anthropic streams always carry usage: there is no stream without.
    text = "".join(r.delta or "" for r in llm(anthropic_server).stream_chat(MESSAGES))
    assert text == anthropic_server.answer.text
    check(telemetry, anthropic_server, streamed=True)


async def test_astream(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    async for _ in await llm(anthropic_server).astream_chat(MESSAGES):
        pass
    check(telemetry, anthropic_server, streamed=True)


@pytest.mark.xfail(
    strict=True,
    reason="llama_index.llms.anthropic.base.Anthropic.stream_chat handles message_start "
    "without yielding a ChatResponse, so no event carries the message's id or model",
)
def test_stream_response_id(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    for _ in llm(anthropic_server).stream_chat(MESSAGES):
        pass
    span = expect.attrs(expect.model_span(telemetry))
    assert span.get(sc.GEN_AI_RESPONSE_ID) == anthropic_server.answer.id


def test_tool_call(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    anthropic_server.answer.finish = "tool_call"
    anthropic_server.answer.tool = ToolCall(id="toolu_01A")
    tool = FunctionTool.from_defaults(fn=get_weather)
    model = llm(anthropic_server)
    response = model.chat_with_tools([tool], user_msg="Weather in Paris?")
    assert model.get_tool_calls_from_response(response)[0].tool_id == "toolu_01A"
    check(telemetry, anthropic_server)


def test_truncated(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    anthropic_server.answer.finish = "length"
    llm(anthropic_server).chat(MESSAGES)
    check(telemetry, anthropic_server)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize("stream", [False, True])
def test_prompt_caching(
    telemetry: Telemetry, li, anthropic_server: AnthropicServer, stream: bool
) -> None:
    # 41 uncached + 1,024 read + 77 written: 1,142 input tokens.
    answer = anthropic_server.answer
    answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    model = llm(anthropic_server)
    if stream:
        for _ in model.stream_chat(MESSAGES):
            pass
    else:
        model.chat(MESSAGES)
    check(telemetry, anthropic_server, streamed=stream)
    expect.check_token_metric(telemetry, anthropic_server)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, li, anthropic_server: AnthropicServer, status: int) -> None:
    anthropic_server.fail = status
    with pytest.raises(anthropic.APIStatusError) as caught:
        llm(anthropic_server).chat(MESSAGES)
    assert caught.value.status_code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    anthropic_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in llm(anthropic_server).stream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_error_event(telemetry: Telemetry, li, anthropic_server: AnthropicServer) -> None:
    anthropic_server.stream_error = True
    with pytest.raises(anthropic.APIStatusError) as caught:
        for _ in llm(anthropic_server).stream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
