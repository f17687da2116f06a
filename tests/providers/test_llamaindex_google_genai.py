"""llama-index-llms-google-genai against a local Gemini API."""

from __future__ import annotations

import pytest
from google.genai import errors, types
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.google_genai import GoogleGenAI
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.gemini import GeminiServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "gemini-2.5-flash"
MESSAGES = [ChatMessage(role="user", content="Capital of France?")]


def llm(server: GeminiServer) -> GoogleGenAI:
    return GoogleGenAI(
        model=MODEL,
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=1,
        http_options=types.HttpOptions(base_url=server.url),
    )


def check(telemetry: Telemetry, server: GeminiServer, *, finish: str | None = None) -> None:
    # The client drops responseId and modelVersion (see test_response_id_and_model).
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="gcp.gemini",
        request_model=MODEL,
        finish=[finish or server.answer.finish],
        response_id=False,
        response_model=False,
        params=PARAMS,
    )


def test_chat(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    gemini_server.answer.reasoning = 12
    gemini_server.answer.output_tokens = 19
    llm(gemini_server).chat(MESSAGES)
    chat = gemini_server.calls(":generateContent")[0].json
    assert chat["generationConfig"]["maxOutputTokens"] == 50
    check(telemetry, gemini_server)


async def test_achat(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    await llm(gemini_server).achat(MESSAGES)
    check(telemetry, gemini_server)


def test_stream(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    # Every Gemini stream chunk carries usageMetadata: there is no stream without usage.
    gemini_server.answer.reasoning = 12
    gemini_server.answer.output_tokens = 19
    text = "".join(r.delta or "" for r in llm(gemini_server).stream_chat(MESSAGES))
    assert text == gemini_server.answer.text
    check(telemetry, gemini_server)


async def test_astream(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    async for _ in await llm(gemini_server).astream_chat(MESSAGES):
        pass
    check(telemetry, gemini_server)


@pytest.mark.xfail(
    strict=True,
    reason="llama_index.llms.google_genai.utils.chat_from_gemini_response builds `raw` from "
    "the candidate and usage_metadata only: responseId and modelVersion are dropped",
)
@pytest.mark.parametrize("key", ["id", "model"])
def test_response_id_and_model(
    telemetry: Telemetry, li, gemini_server: GeminiServer, key: str
) -> None:
    llm(gemini_server).chat(MESSAGES)
    span = expect.attrs(expect.model_span(telemetry))
    if key == "id":
        assert span.get(sc.GEN_AI_RESPONSE_ID) == gemini_server.answer.id
    else:
        assert span.get(sc.GEN_AI_RESPONSE_MODEL) == gemini_server.answer.model


def test_tool_call(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    gemini_server.answer.finish = "tool_call"
    gemini_server.answer.tool = ToolCall()
    tool = FunctionTool.from_defaults(fn=get_weather)
    model = llm(gemini_server)
    response = model.chat_with_tools([tool], user_msg="Weather in Paris?")
    assert model.get_tool_calls_from_response(response)[0].tool_name == "get_weather"
    check(telemetry, gemini_server, finish="stop")  # Gemini answers STOP with a functionCall


@pytest.mark.xfail(
    strict=True,
    reason="llama_index.llms.google_genai.utils._error_if_finished_early raises RuntimeError "
    "on finishReason MAX_TOKENS instead of returning the truncated answer",
)
def test_truncated(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    gemini_server.answer.finish = "length"
    llm(gemini_server).chat(MESSAGES)
    check(telemetry, gemini_server)


def test_truncated_raises(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    # What the client does instead: the span records its error.
    gemini_server.answer.finish = "length"
    with pytest.raises(RuntimeError) as caught:
        llm(gemini_server).chat(MESSAGES)
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_prompt_caching(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    answer = gemini_server.answer
    answer.input_tokens, answer.cache_read = 1142, 1024
    llm(gemini_server).chat(MESSAGES)
    check(telemetry, gemini_server)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, li, gemini_server: GeminiServer, status: int) -> None:
    model = llm(gemini_server)
    gemini_server.fail = status
    with pytest.raises(errors.APIError) as caught:
        model.chat(MESSAGES)
    assert caught.value.code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, li, gemini_server: GeminiServer) -> None:
    model = llm(gemini_server)
    gemini_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in model.stream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
