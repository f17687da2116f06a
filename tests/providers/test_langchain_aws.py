"""langchain-aws (ChatBedrockConverse) against a local Bedrock runtime: Converse and its stream."""

from __future__ import annotations

from urllib.parse import unquote

import botocore.exceptions
import pytest
from langchain_aws import ChatBedrockConverse
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.bedrock import BedrockServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def chat(server: BedrockServer) -> ChatBedrockConverse:
    return ChatBedrockConverse(
        model=MODEL,
        endpoint_url=server.url,
        region_name="us-east-1",
        max_tokens=50,
        temperature=0.3,
    )


def check(telemetry: Telemetry, server: BedrockServer) -> None:
    # Converse answers carry no id and no model.
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="aws.bedrock",
        request_model=MODEL,
        finish=[server.answer.finish],
        response_model=False,
        response_id=False,
        params=PARAMS,
    )


def test_invoke(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    chat(bedrock_server).invoke("Capital of France?", config={"callbacks": [lc]})
    request = bedrock_server.requests[0]
    assert unquote(request.path) == f"/model/{MODEL}/converse"
    assert request.json["inferenceConfig"]["maxTokens"] == 50
    check(telemetry, bedrock_server)


async def test_ainvoke(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    await chat(bedrock_server).ainvoke("Capital of France?", config={"callbacks": [lc]})
    check(telemetry, bedrock_server)


def test_stream(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    # ConverseStream always ends with a metadata event holding usage.
    text = "".join(
        str(c.content)
        if isinstance(c.content, str)
        else "".join(p.get("text", "") for p in c.content if isinstance(p, dict))
        for c in chat(bedrock_server).stream("Hi", config={"callbacks": [lc]})
    )
    assert text == bedrock_server.answer.text
    assert bedrock_server.requests[0].path.endswith("/converse-stream")
    check(telemetry, bedrock_server)


async def test_astream(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    async for _ in chat(bedrock_server).astream("Hi", config={"callbacks": [lc]}):
        pass
    check(telemetry, bedrock_server)


def test_tool_call(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    bedrock_server.answer.finish = "tool_call"
    bedrock_server.answer.tool = ToolCall(id="tooluse_1")
    model = chat(bedrock_server).bind_tools([get_weather])
    message = model.invoke("Weather in Paris?", config={"callbacks": [lc]})
    assert message.tool_calls[0]["name"] == "get_weather"
    check(telemetry, bedrock_server)


def test_truncated(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    bedrock_server.answer.finish = "length"
    chat(bedrock_server).invoke("Write a poem", config={"callbacks": [lc]})
    check(telemetry, bedrock_server)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize("stream", [False, True])
def test_prompt_caching(
    telemetry: Telemetry, lc, bedrock_server: BedrockServer, stream: bool
) -> None:
    answer = bedrock_server.answer
    answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    model = chat(bedrock_server)
    if stream:
        for _ in model.stream("Again", config={"callbacks": [lc]}):
            pass
    else:
        model.invoke("Again", config={"callbacks": [lc]})
    check(telemetry, bedrock_server)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, lc, bedrock_server: BedrockServer, status: int) -> None:
    bedrock_server.fail = status
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        chat(bedrock_server).invoke("Hi", config={"callbacks": [lc]})
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert len(bedrock_server.requests) == 1
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    bedrock_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # botocore's, wrapped or not
        for _ in chat(bedrock_server).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_request_params(telemetry: Telemetry, lc, bedrock_server: BedrockServer) -> None:
    model = ChatBedrockConverse(
        model=MODEL,
        endpoint_url=bedrock_server.url,
        region_name="us-east-1",
        max_tokens=64,
        top_p=0.9,
        stop_sequences=["END"],
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    config = bedrock_server.requests[0].json["inferenceConfig"]
    assert (config["topP"], config["stopSequences"]) == (0.9, ["END"])
    expect.check_span(
        expect.model_span(telemetry),
        bedrock_server,
        provider="aws.bedrock",
        request_model=MODEL,
        response_id=False,
        response_model=False,
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
