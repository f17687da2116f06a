"""langchain-ollama (ChatOllama, OllamaEmbeddings) against a local Ollama API."""

from __future__ import annotations

import ollama
import pytest
from langchain_ollama import ChatOllama
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.ollama import OllamaServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}


def chat(server: OllamaServer) -> ChatOllama:
    return ChatOllama(model="llama3.2", base_url=server.url, num_predict=50, temperature=0.3)


def check(telemetry: Telemetry, server: OllamaServer, finish: str | None = None) -> None:
    # Ollama has no response ids; its counts always come in the `done` chunk.
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="ollama",
        request_model="llama3.2",
        finish=[finish or server.answer.finish],
        response_id=False,
        params=PARAMS,
    )


def test_invoke(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    chat(ollama_server).invoke("Capital of France?", config={"callbacks": [lc]})
    assert ollama_server.calls("/api/chat")[0].json["options"]["num_predict"] == 50
    check(telemetry, ollama_server)


async def test_ainvoke(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    await chat(ollama_server).ainvoke("Capital of France?", config={"callbacks": [lc]})
    check(telemetry, ollama_server)


def test_stream(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    # Ollama's streams always end with the counts: there is no stream without usage.
    text = "".join(
        str(c.content) for c in chat(ollama_server).stream("Hi", config={"callbacks": [lc]})
    )
    assert text == ollama_server.answer.text
    check(telemetry, ollama_server)


async def test_astream(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    async for _ in chat(ollama_server).astream("Hi", config={"callbacks": [lc]}):
        pass
    check(telemetry, ollama_server)


def test_tool_call(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    ollama_server.answer.finish = "tool_call"
    ollama_server.answer.tool = ToolCall()
    model = chat(ollama_server).bind_tools([get_weather])
    message = model.invoke("Weather in Paris?", config={"callbacks": [lc]})
    assert message.tool_calls[0]["name"] == "get_weather"
    # Ollama says `stop` after a tool call: that is what its API answers.
    check(telemetry, ollama_server, finish="stop")


def test_truncated(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    ollama_server.answer.finish = "length"
    chat(ollama_server).invoke("Write a poem", config={"callbacks": [lc]})
    check(telemetry, ollama_server)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, lc, ollama_server: OllamaServer, status: int) -> None:
    ollama_server.fail = status
    with pytest.raises(ollama.ResponseError) as caught:
        chat(ollama_server).invoke("Hi", config={"callbacks": [lc]})
    assert caught.value.status_code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    ollama_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in chat(ollama_server).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_request_params(telemetry: Telemetry, lc, ollama_server: OllamaServer) -> None:
    model = ChatOllama(
        model="llama3.2", base_url=ollama_server.url, top_k=5, top_p=0.9, seed=7, stop=["END"]
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    options = ollama_server.calls("/api/chat")[0].json["options"]
    assert (options["top_k"], options["seed"], options["stop"]) == (5, 7, ["END"])
    expect.check_span(
        expect.model_span(telemetry),
        ollama_server,
        provider="ollama",
        request_model="llama3.2",
        response_id=False,
        params={
            sc.GEN_AI_REQUEST_TOP_K: 5.0,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_SEED: 7,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
