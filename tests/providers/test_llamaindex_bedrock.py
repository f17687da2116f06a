"""llama-index-llms-bedrock-converse against a local Bedrock runtime: Converse and its stream."""

from __future__ import annotations

import botocore.exceptions
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.bedrock_converse import BedrockConverse
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.bedrock import BedrockServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [ChatMessage(role="user", content="Capital of France?")]


def llm(server: BedrockServer) -> BedrockConverse:
    return BedrockConverse(
        model=MODEL,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        max_tokens=50,
        temperature=0.3,
        max_retries=1,
    )


def check(telemetry: Telemetry, server: BedrockServer, *, streamed: bool = False) -> None:
    # Converse answers carry no id and no model; see test_stream_finish_reason for streams.
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="aws.bedrock",
        request_model=MODEL,
        finish=None if streamed else [server.answer.finish],
        response_model=False,
        response_id=False,
        params=PARAMS,
    )


def test_chat(telemetry: Telemetry, li, bedrock_server: BedrockServer) -> None:
    llm(bedrock_server).chat(MESSAGES)
    assert bedrock_server.requests[0].json["inferenceConfig"]["maxTokens"] == 50
    check(telemetry, bedrock_server)


def test_stream(telemetry: Telemetry, li, bedrock_server: BedrockServer) -> None:
    # ConverseStream always ends with a metadata event holding usage.
    text = "".join(r.delta or "" for r in llm(bedrock_server).stream_chat(MESSAGES))
    assert text == bedrock_server.answer.text
    check(telemetry, bedrock_server, streamed=True)


@pytest.mark.xfail(
    strict=True,
    reason="llama_index.llms.bedrock_converse.base.BedrockConverse.stream_chat passes over the "
    "messageStop event (`pass`) without yielding it, so its stopReason reaches no event",
)
def test_stream_finish_reason(telemetry: Telemetry, li, bedrock_server: BedrockServer) -> None:
    for _ in llm(bedrock_server).stream_chat(MESSAGES):
        pass
    span = expect.attrs(expect.model_span(telemetry))
    assert span.get(sc.GEN_AI_RESPONSE_FINISH_REASONS) == ("stop",)


def test_tool_call(telemetry: Telemetry, li, bedrock_server: BedrockServer) -> None:
    bedrock_server.answer.finish = "tool_call"
    bedrock_server.answer.tool = ToolCall(id="tooluse_1")
    tool = FunctionTool.from_defaults(fn=get_weather)
    model = llm(bedrock_server)
    response = model.chat_with_tools([tool], user_msg="Weather in Paris?")
    assert model.get_tool_calls_from_response(response)[0].tool_name == "get_weather"
    check(telemetry, bedrock_server)


def test_truncated(telemetry: Telemetry, li, bedrock_server: BedrockServer) -> None:
    bedrock_server.answer.finish = "length"
    llm(bedrock_server).chat(MESSAGES)
    check(telemetry, bedrock_server)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize("stream", [False, True])
def test_prompt_caching(
    telemetry: Telemetry, li, bedrock_server: BedrockServer, stream: bool
) -> None:
    answer = bedrock_server.answer
    answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    model = llm(bedrock_server)
    if stream:
        for _ in model.stream_chat(MESSAGES):
            pass
    else:
        model.chat(MESSAGES)
    check(telemetry, bedrock_server, streamed=stream)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, li, bedrock_server: BedrockServer, status: int) -> None:
    bedrock_server.fail = status
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        llm(bedrock_server).chat(MESSAGES)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, li, bedrock_server: BedrockServer) -> None:
    bedrock_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # botocore's, wrapped or not
        for _ in llm(bedrock_server).stream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
