"""llama-index-llms-openai and -embeddings-openai against a local OpenAI API."""

from __future__ import annotations

import openai
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.openai import DIMENSIONS, OpenAIServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MESSAGES = [ChatMessage(role="user", content="Capital of France?")]


def llm(server: OpenAIServer, include_usage: bool = False) -> OpenAI:
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    return OpenAI(
        model="gpt-4o-mini",
        api_base=f"{server.url}/v1",
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=0,
        additional_kwargs=extra,
    )


def check(telemetry: Telemetry, server: OpenAIServer, *, usage: bool = True) -> None:
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="openai",
        request_model="gpt-4o-mini",
        finish=[server.answer.finish],
        usage=usage,
        params=PARAMS,
    )


def test_chat(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    openai_server.answer.reasoning = 3
    llm(openai_server).chat(MESSAGES)
    assert openai_server.requests[0].json["max_tokens"] == 50
    check(telemetry, openai_server)


async def test_achat(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    await llm(openai_server).achat(MESSAGES)
    check(telemetry, openai_server)


def test_complete(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    llm(openai_server).complete("Capital of France?")
    check(telemetry, openai_server)


def test_stream_with_usage(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    text = "".join(
        r.delta or "" for r in llm(openai_server, include_usage=True).stream_chat(MESSAGES)
    )
    assert text == openai_server.answer.text
    assert openai_server.requests[0].json["stream_options"] == {"include_usage": True}
    check(telemetry, openai_server)


async def test_astream_without_usage(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    async for _ in await llm(openai_server).astream_chat(MESSAGES):
        pass
    check(telemetry, openai_server, usage=False)


def test_tool_call(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    openai_server.answer.finish = "tool_call"
    openai_server.answer.tool = ToolCall()
    tool = FunctionTool.from_defaults(fn=get_weather)
    model = llm(openai_server)
    response = model.chat_with_tools([tool], user_msg="Weather in Paris?")
    assert model.get_tool_calls_from_response(response)[0].tool_name == "get_weather"
    check(telemetry, openai_server)


def test_truncated(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    openai_server.answer.finish = "length"
    llm(openai_server).chat(MESSAGES)
    check(telemetry, openai_server)
    expect.check_truncated(expect.model_span(telemetry))


def test_prompt_caching(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    answer = openai_server.answer
    answer.input_tokens, answer.cache_read = 1142, 1024
    llm(openai_server).chat(MESSAGES)
    check(telemetry, openai_server)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, li, openai_server: OpenAIServer, status: int) -> None:
    openai_server.fail = status
    with pytest.raises(openai.APIStatusError) as caught:
        llm(openai_server).chat(MESSAGES)
    assert caught.value.status_code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    openai_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in llm(openai_server, include_usage=True).stream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


async def test_embeddings(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    answer = openai_server.answer
    answer.model, answer.input_tokens, answer.output_tokens = "text-embedding-3-small", 6, 0
    embedder = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_base=f"{openai_server.url}/v1",
        api_key="test",
        max_retries=0,
    )
    vectors = await embedder.aget_text_embedding_batch(["a", "b"])
    assert len(vectors[1]) == DIMENSIONS
    assert openai_server.requests[0].json["encoding_format"] == "base64"  # the SDK's default
    expect.check_span(
        expect.model_span(telemetry, "embeddings"),
        openai_server,
        provider="openai",
        request_model="text-embedding-3-small",
        response_model=False,
        response_id=False,
        usage=None,
        params={sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: DIMENSIONS},
    )


def test_request_params(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    model = OpenAI(
        model="gpt-4o-mini",
        api_base=f"{openai_server.url}/v1",
        api_key="test",
        max_tokens=64,
        max_retries=0,
        additional_kwargs={"top_p": 0.9, "seed": 7, "stop": ["END"], "presence_penalty": 0.2},
    )
    model.chat(MESSAGES)
    sent = openai_server.requests[0].json
    assert (sent["top_p"], sent["seed"], sent["stop"]) == (0.9, 7, ["END"])
    expect.check_span(
        expect.model_span(telemetry),
        openai_server,
        provider="openai",
        request_model="gpt-4o-mini",
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_SEED: 7,
            sc.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


async def test_astream_error_event(telemetry: Telemetry, li, openai_server: OpenAIServer) -> None:
    openai_server.stream_error = True
    with pytest.raises(openai.APIError) as caught:
        async for _ in await llm(openai_server, include_usage=True).astream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
