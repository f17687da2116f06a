"""langchain-google-genai (ChatGoogleGenerativeAI) against a local Gemini API."""

from __future__ import annotations

import pytest
from langchain_google_genai import ChatGoogleGenerativeAI
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.gemini import GeminiServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "gemini-2.5-flash"


def chat(server: GeminiServer) -> ChatGoogleGenerativeAI:
    return ChatGoogleGenerativeAI(
        model=MODEL,
        google_api_key="test",
        base_url=server.url,
        max_output_tokens=50,
        temperature=0.3,
        max_retries=1,
    )


def check(telemetry: Telemetry, server: GeminiServer, *, finish: str | None = None) -> None:
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="gcp.gemini",
        request_model=MODEL,
        finish=[finish or server.answer.finish],
        response_id=False,  # see test_response_id
        params=PARAMS,
    )


def test_invoke(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    gemini_server.answer.reasoning = 12
    gemini_server.answer.output_tokens = 19
    chat(gemini_server).invoke("Capital of France?", config={"callbacks": [lc]})
    config = gemini_server.requests[0].json["generationConfig"]
    assert config["maxOutputTokens"] == 50
    check(telemetry, gemini_server)


async def test_ainvoke(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    await chat(gemini_server).ainvoke("Capital of France?", config={"callbacks": [lc]})
    check(telemetry, gemini_server)


def test_stream(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    # Every Gemini stream chunk carries usageMetadata: there is no stream without usage.
    gemini_server.answer.reasoning = 12
    gemini_server.answer.output_tokens = 19
    text = "".join(
        str(c.content) for c in chat(gemini_server).stream("Hi", config={"callbacks": [lc]})
    )
    assert text == gemini_server.answer.text
    assert gemini_server.requests[0].path.endswith(":streamGenerateContent")
    check(telemetry, gemini_server)


async def test_astream(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    async for _ in chat(gemini_server).astream("Hi", config={"callbacks": [lc]}):
        pass
    check(telemetry, gemini_server)


@pytest.mark.xfail(
    strict=True,
    reason="langchain_google_genai.chat_models._response_to_result never reads the "
    "response's responseId into response_metadata",
)
def test_response_id(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    chat(gemini_server).invoke("Hi", config={"callbacks": [lc]})
    span = expect.model_span(telemetry)
    assert expect.attrs(span).get(sc.GEN_AI_RESPONSE_ID) == gemini_server.answer.id


def test_tool_call(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    gemini_server.answer.finish = "tool_call"
    gemini_server.answer.tool = ToolCall()
    model = chat(gemini_server).bind_tools([get_weather])
    message = model.invoke("Weather in Paris?", config={"callbacks": [lc]})
    assert message.tool_calls[0]["name"] == "get_weather"
    check(telemetry, gemini_server, finish="stop")  # Gemini answers STOP with a functionCall


def test_truncated(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    gemini_server.answer.finish = "length"
    chat(gemini_server).invoke("Write a poem", config={"callbacks": [lc]})
    check(telemetry, gemini_server)
    expect.check_truncated(expect.model_span(telemetry))


def test_prompt_caching(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    answer = gemini_server.answer
    answer.input_tokens, answer.cache_read = 1142, 1024
    chat(gemini_server).invoke("Again", config={"callbacks": [lc]})
    check(telemetry, gemini_server)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, lc, gemini_server: GeminiServer, status: int) -> None:
    gemini_server.fail = status
    with pytest.raises(Exception) as caught:  # the google-genai error, wrapped by LangChain
        chat(gemini_server).invoke("Hi", config={"callbacks": [lc]})
    assert len(gemini_server.requests) == 1
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    gemini_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in chat(gemini_server).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_request_params(telemetry: Telemetry, lc, gemini_server: GeminiServer) -> None:
    model = ChatGoogleGenerativeAI(
        model=MODEL,
        google_api_key="test",
        base_url=gemini_server.url,
        max_output_tokens=64,
        top_k=5,
        top_p=0.9,
        stop=["END"],
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    config = gemini_server.requests[0].json["generationConfig"]
    assert (config["topK"], config["stopSequences"]) == (5, ["END"])
    expect.check_span(
        expect.model_span(telemetry),
        gemini_server,
        provider="gcp.gemini",
        request_model=MODEL,
        response_id=False,
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
            sc.GEN_AI_REQUEST_TOP_K: 5.0,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
