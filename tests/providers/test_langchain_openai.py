"""langchain-openai (ChatOpenAI, AzureChatOpenAI, OpenAIEmbeddings) against a local OpenAI API."""

from __future__ import annotations

import openai
import pytest
from langchain_openai import AzureChatOpenAI, ChatOpenAI, OpenAIEmbeddings
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ToolCall
from tests.providers.servers.openai import DIMENSIONS, OpenAIServer

PARAMS = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}


def chat(server: OpenAIServer, **kwargs: object) -> ChatOpenAI:
    return ChatOpenAI(
        model="gpt-4o-mini",
        base_url=f"{server.url}/v1",
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=0,
        **kwargs,
    )


def check_full(telemetry: Telemetry, server: OpenAIServer, *, id: bool = True) -> None:
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="openai",
        request_model="gpt-4o-mini",
        finish=[server.answer.finish],
        response_id=id,
        params=PARAMS,
    )


def test_invoke(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    openai_server.answer.reasoning = 3
    chat(openai_server).invoke("Capital of France?", config={"callbacks": [lc]})
    assert openai_server.requests[0].json["temperature"] == 0.3
    check_full(telemetry, openai_server)


async def test_ainvoke(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    await chat(openai_server).ainvoke("Capital of France?", config={"callbacks": [lc]})
    check_full(telemetry, openai_server)


def test_stream_with_usage(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    model = chat(openai_server, stream_usage=True)
    text = "".join(str(c.content) for c in model.stream("Capital?", config={"callbacks": [lc]}))
    assert text == openai_server.answer.text
    assert openai_server.requests[0].json["stream_options"] == {"include_usage": True}
    check_full(telemetry, openai_server, id=False)


async def test_astream_without_usage(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    model = chat(openai_server, stream_usage=False)
    async for _ in model.astream("Capital?", config={"callbacks": [lc]}):
        pass
    assert "stream_options" not in openai_server.requests[0].json
    expect.check_span(
        expect.model_span(telemetry),
        openai_server,
        provider="openai",
        request_model="gpt-4o-mini",
        finish=["stop"],
        response_id=False,
        usage=False,
    )


@pytest.mark.xfail(
    strict=True,
    reason="langchain_openai.chat_models.base._convert_delta_to_message_chunk reads `id` from "
    "the chunk's `delta`, which has none, and _convert_chunk_to_generation_chunk never reads "
    "the chunk's own `id`",
)
def test_stream_response_id(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    for _ in chat(openai_server, stream_usage=True).stream("Hi", config={"callbacks": [lc]}):
        pass
    assert (
        expect.attrs(expect.model_span(telemetry)).get(sc.GEN_AI_RESPONSE_ID) == "chatcmpl-abc123"
    )


def test_tool_call(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    openai_server.answer.finish = "tool_call"
    openai_server.answer.tool = ToolCall()
    model = chat(openai_server).bind_tools([get_weather])
    message = model.invoke("Weather in Paris?", config={"callbacks": [lc]})
    assert message.tool_calls[0]["name"] == "get_weather"
    check_full(telemetry, openai_server)


def test_truncated(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    openai_server.answer.finish = "length"
    chat(openai_server).invoke("Write a poem", config={"callbacks": [lc]})
    check_full(telemetry, openai_server)
    expect.check_truncated(expect.model_span(telemetry))


def test_prompt_caching(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    answer = openai_server.answer
    answer.input_tokens, answer.cache_read = 1142, 1024
    chat(openai_server).invoke("Again", config={"callbacks": [lc]})
    check_full(telemetry, openai_server)
    expect.check_token_metric(telemetry, openai_server)


@pytest.mark.parametrize("status", [429, 500])
def test_error(telemetry: Telemetry, lc, openai_server: OpenAIServer, status: int) -> None:
    openai_server.fail = status
    with pytest.raises(openai.APIStatusError) as caught:
        chat(openai_server).invoke("Hi", config={"callbacks": [lc]})
    assert caught.value.status_code == status
    assert len(openai_server.requests) == 1
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_stream_fails_midway(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    openai_server.cut_stream = True
    with pytest.raises(Exception) as caught:  # httpx's, wrapped or not
        for _ in chat(openai_server, stream_usage=True).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_azure(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    model = AzureChatOpenAI(
        azure_deployment="my-gpt",
        model="gpt-4o-mini",
        azure_endpoint=openai_server.url,
        api_version="2024-10-21",
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=0,
    )
    model.invoke("Capital?", config={"callbacks": [lc]})
    sent = openai_server.requests[0]
    assert sent.path == "/openai/deployments/my-gpt/chat/completions"
    assert sent.query["api-version"] == ["2024-10-21"]
    expect.check_span(
        expect.model_span(telemetry),
        openai_server,
        provider="azure.ai.openai",
        request_model="gpt-4o-mini",
        finish=["stop"],
        params=PARAMS,
    )


@pytest.mark.xfail(
    strict=True,
    reason="langchain_core.embeddings.Embeddings.embed_documents runs no callbacks, so no "
    "LangChain callback handler ever sees an embeddings call",
)
def test_embeddings(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    from langchain_core.runnables import RunnableLambda

    answer = openai_server.answer
    answer.model, answer.input_tokens, answer.output_tokens = "text-embedding-3-small", 6, 0
    embedder = OpenAIEmbeddings(
        model="text-embedding-3-small",
        base_url=f"{openai_server.url}/v1",
        api_key="test",
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    # Embeddings models have no callbacks of their own: run them inside a traced runnable.
    vectors = RunnableLambda(lambda texts: embedder.embed_documents(texts)).invoke(
        ["a", "b"], config={"callbacks": [lc]}
    )
    assert len(vectors[0]) == DIMENSIONS
    assert openai_server.requests[0].json["encoding_format"] == "base64"
    expect.check_span(
        expect.model_span(telemetry, "embeddings"),
        openai_server,
        provider="openai",
        request_model="text-embedding-3-small",
        response_id=False,
        params={sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: DIMENSIONS},
    )


def test_request_params(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    model = ChatOpenAI(
        model="o4-mini",
        base_url=f"{openai_server.url}/v1",
        api_key="test",
        max_completion_tokens=40,
        top_p=0.9,
        seed=7,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        stop=["END"],
        max_retries=0,
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    sent = openai_server.requests[0].json
    assert (sent["max_completion_tokens"], sent["seed"], sent["stop"]) == (40, 7, ["END"])
    expect.check_span(
        expect.model_span(telemetry),
        openai_server,
        provider="openai",
        request_model="o4-mini",
        usage=None,
        params={
            sc.GEN_AI_REQUEST_MAX_TOKENS: 40,
            sc.GEN_AI_REQUEST_TOP_P: 0.9,
            sc.GEN_AI_REQUEST_SEED: 7,
            sc.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.1,
            sc.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
            sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        },
    )


def test_stream_error_event(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    openai_server.stream_error = True
    with pytest.raises(openai.APIError) as caught:
        for _ in chat(openai_server, stream_usage=True).stream("Hi", config={"callbacks": [lc]}):
            pass
    expect.check_error(expect.model_span(telemetry), caught.value)


def test_openai_compatible_host(telemetry: Telemetry, lc, openai_server: OpenAIServer) -> None:
    # Another vendor's OpenAI-compatible endpoint: the client's provider, the endpoint's host.
    model = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=f"http://localhost:{openai_server.port}/v1",
        api_key="test",
        max_retries=0,
    )
    model.invoke("Hi", config={"callbacks": [lc]})
    span = expect.attrs(expect.model_span(telemetry))
    assert span[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert (span["server.address"], span["server.port"]) == ("localhost", openai_server.port)


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"
