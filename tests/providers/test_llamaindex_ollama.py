"""llama-index-llms-ollama and -embeddings-ollama against a local Ollama API."""

from __future__ import annotations

import ollama
import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.ollama import OllamaEmbedding
from llama_index.llms.ollama import Ollama
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.ollama import DIMENSIONS, OllamaServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}
MESSAGES = [ChatMessage(role="user", content="Capital of France?")]


def llm(server: OllamaServer) -> Ollama:
    return Ollama(
        model="llama3.2",
        base_url=server.url,
        temperature=0.3,
        request_timeout=10,
        additional_kwargs={"num_predict": 50},
    )


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


def test_chat(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    llm(ollama_server).chat(MESSAGES)
    assert ollama_server.calls("/api/chat")[0].json["options"]["num_predict"] == 50
    check(telemetry, ollama_server)


async def test_achat(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    await llm(ollama_server).achat(MESSAGES)
    check(telemetry, ollama_server)


def test_stream(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    # Ollama streams always end with the counts: there is no stream without usage.
    text = "".join(r.delta or "" for r in llm(ollama_server).stream_chat(MESSAGES))
    assert text == ollama_server.answer.text
    check(telemetry, ollama_server)


async def test_astream(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    async for _ in await llm(ollama_server).astream_chat(MESSAGES):
        pass
    check(telemetry, ollama_server)


def test_tool_call(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    ollama_server.answer.finish = "tool_call"
    ollama_server.answer.tool = ToolCall()
    tool = FunctionTool.from_defaults(fn=get_weather)
    model = llm(ollama_server)
    response = model.chat_with_tools([tool], user_msg="Weather in Paris?")
    assert model.get_tool_calls_from_response(response)[0].tool_name == "get_weather"
    check(telemetry, ollama_server, finish="stop")  # Ollama's API says stop


def test_truncated(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    ollama_server.answer.finish = "length"
    llm(ollama_server).chat(MESSAGES)
    check(telemetry, ollama_server)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, li, ollama_server: OllamaServer, status: int) -> None:
    ollama_server.fail, ollama_server.fail_on = status, "/api/chat"
    with pytest.raises(ollama.ResponseError) as caught:
        llm(ollama_server).chat(MESSAGES)
    assert caught.value.status_code == status
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_show_fails(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    # chat() asks /api/show first, before LlamaIndex's chat-start event.
    ollama_server.fail = 500
    with pytest.raises(ollama.ResponseError) as caught:
        llm(ollama_server).chat(MESSAGES)
    assert [r.path for r in ollama_server.requests] == ["/api/show"]
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    ollama_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in llm(ollama_server).stream_chat(MESSAGES):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_embeddings(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    ollama_server.answer.model = "nomic-embed-text"
    embedder = OllamaEmbedding(model_name="nomic-embed-text", base_url=ollama_server.url)
    vectors = embedder.get_text_embedding_batch(["a", "b"])
    assert len(vectors[0]) == DIMENSIONS
    assert ollama_server.calls("/api/embed")[0].json["input"] == ["a", "b"]
    expect.check_span(
        expect.model_span(telemetry, "embeddings"),
        ollama_server,
        provider="ollama",
        request_model="nomic-embed-text",
        response_model=False,
        response_id=False,
        usage=None,
        params={sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: DIMENSIONS},
    )


def test_request_params(telemetry: Telemetry, li, ollama_server: OllamaServer) -> None:
    model = Ollama(
        model="llama3.2",
        base_url=ollama_server.url,
        additional_kwargs={"num_predict": 64, "top_k": 5, "seed": 7, "stop": ["END"]},
    )
    model.chat(MESSAGES)
    options = ollama_server.calls("/api/chat")[0].json["options"]
    assert (options["top_k"], options["seed"]) == (5, 7)
    expect.check_span(
        expect.model_span(telemetry),
        ollama_server,
        provider="ollama",
        request_model="llama3.2",
        response_id=False,
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
            sc.GEN_AI_REQUEST_TOP_K: 5.0,
            sc.GEN_AI_REQUEST_SEED: 7,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
