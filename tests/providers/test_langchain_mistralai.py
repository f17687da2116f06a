"""langchain-mistralai (ChatMistralAI) against a local Mistral API."""

from __future__ import annotations

import httpx
import pytest
from langchain_mistralai import ChatMistralAI
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.mistral import MistralServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MODEL = "mistral-small-latest"


def chat(server: MistralServer) -> ChatMistralAI:
    return ChatMistralAI(
        model=MODEL,
        base_url=f"{server.url}/v1",
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=1,
    )


def check(telemetry: Telemetry, server: MistralServer, *, streamed: bool = False) -> None:
    # Only streamed chunks carry the response's model through to a callback.
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="mistral_ai",
        request_model=MODEL,
        finish=[server.answer.finish],
        response_id=False,
        response_model=streamed,
        params=PARAMS,
    )


@pytest.mark.xfail(
    strict=True,
    reason="langchain_mistralai.chat_models.ChatMistralAI._create_chat_result drops the "
    "response's `id` and writes the requested model (self.model) as llm_output's model",
)
@pytest.mark.parametrize("key", ["id", "model"])
def test_response_id_and_model(
    telemetry: Telemetry, lc, mistral_server: MistralServer, key: str
) -> None:
    chat(mistral_server).invoke("Hi", config={"callbacks": [lc]})
    span = expect.attrs(expect.model_span(telemetry))
    if key == "id":
        assert span.get(sc.GEN_AI_RESPONSE_ID) == mistral_server.answer.id
    else:
        assert span.get(sc.GEN_AI_RESPONSE_MODEL) == mistral_server.answer.model


def test_invoke(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    chat(mistral_server).invoke("Capital of France?", config={"callbacks": [lc]})
    assert mistral_server.requests[0].json["max_tokens"] == 50
    check(telemetry, mistral_server)


async def test_ainvoke(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    await chat(mistral_server).ainvoke("Capital of France?", config={"callbacks": [lc]})
    check(telemetry, mistral_server)


def test_stream(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    # Mistral's last chunk always carries the usage: there is no stream without usage.
    text = "".join(
        str(c.content) for c in chat(mistral_server).stream("Hi", config={"callbacks": [lc]})
    )
    assert text == mistral_server.answer.text
    check(telemetry, mistral_server, streamed=True)


async def test_astream(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    async for _ in chat(mistral_server).astream("Hi", config={"callbacks": [lc]}):
        pass
    check(telemetry, mistral_server, streamed=True)


def test_tool_call(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    mistral_server.answer.finish = "tool_call"
    mistral_server.answer.tool = ToolCall()
    model = chat(mistral_server).bind_tools([get_weather])
    message = model.invoke("Weather in Paris?", config={"callbacks": [lc]})
    assert message.tool_calls[0]["name"] == "get_weather"
    check(telemetry, mistral_server)


def test_truncated(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    mistral_server.answer.finish = "length"
    chat(mistral_server).invoke("Write a poem", config={"callbacks": [lc]})
    check(telemetry, mistral_server)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, lc, mistral_server: MistralServer, status: int) -> None:
    mistral_server.fail = status
    with pytest.raises(httpx.HTTPStatusError) as caught:
        chat(mistral_server).invoke("Hi", config={"callbacks": [lc]})
    assert caught.value.response.status_code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    mistral_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in chat(mistral_server).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_request_params(telemetry: Telemetry, lc, mistral_server: MistralServer) -> None:
    model = ChatMistralAI(
        model=MODEL,
        base_url=f"{mistral_server.url}/v1",
        api_key="test",
        max_tokens=64,
        top_p=0.9,
        random_seed=7,
        max_retries=1,
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    sent = mistral_server.requests[0].json
    assert (sent["top_p"], sent["random_seed"]) == (0.9, 7)
    expect.check_span(
        expect.model_span(telemetry),
        mistral_server,
        provider="mistral_ai",
        request_model=MODEL,
        response_id=False,
        response_model=False,
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_SEED: 7,
        },
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
