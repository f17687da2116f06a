"""Model spans from every real provider client, in LangChain and in LlamaIndex.

The matrix: each test below runs for every (provider, framework) pair of
:data:`tests.providers.clients.CLIENTS` it applies to, the client talking to a local server
that speaks its provider's wire format. What a span must say is computed from the answer
the server gave (:mod:`tests.providers.expect`) and the pair's row of the table; what a
client drops is pinned as a strict xfail (:data:`tests.providers.clients.GAPS`). The tests
that only one client has (Azure, embeddings, ...) follow the matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.clients import (
    BY_ID,
    CLIENTS,
    GAPS,
    PARAMS,
    Check,
    Client,
    Framework,
    LangChain,
    LlamaIndex,
    Spans,
)
from tests.providers.servers.base import ProviderServer, ToolCall


def _cases(clients: Iterable[Client]) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in clients]


ALL = _cases(CLIENTS)
ASYNC = _cases(c for c in CLIENTS if c.asynchronous)


@pytest.fixture
def server(request: pytest.FixtureRequest, client: Client) -> ProviderServer:
    """The local server of the client's provider."""
    served: ProviderServer = request.getfixturevalue(f"{client.provider}_server")
    return served


@pytest.fixture
def framework(request: pytest.FixtureRequest, client: Client) -> Framework:
    """The client's framework, instrumented by semtrace."""
    if client.framework == "langchain":
        return LangChain(request.getfixturevalue("lc"))
    request.getfixturevalue("li")
    return LlamaIndex()


def _check_sent(server: ProviderServer, check: Check | None) -> None:
    if check is not None:
        read, want = check
        assert read(server) == want


def _answer(server: ProviderServer, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(server.answer, name, value)


def _check(
    telemetry: Telemetry,
    client: Client,
    server: ProviderServer,
    spans: Spans,
    *,
    finish: str | None = None,
    **kwargs: Any,
) -> None:
    """The model span against the answer, as the client's row says it records it."""
    kwargs.setdefault("params", PARAMS)
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider=client.provider_name,
        request_model=client.model,
        finish=[finish or server.answer.finish] if spans.finish else None,
        response_id=spans.response_id,
        response_model=spans.response_model,
        **kwargs,
    )


# --- A whole answer ----------------------------------------------------------------------


@pytest.mark.parametrize("client", ALL)
def test_call(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    _answer(server, **client.call_answer)
    framework.call(client.build(server))
    _check_sent(server, client.sent)
    _check(telemetry, client, server, client.call)


@pytest.mark.parametrize("client", ASYNC)
async def test_async_call(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    _answer(server, **client.call_answer)
    await framework.acall(client.build(server))
    _check_sent(server, client.sent)
    _check(telemetry, client, server, client.call)


@pytest.mark.parametrize("client", ALL)
def test_tool_call(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    _answer(server, finish="tool_call", tool=ToolCall(id=client.tool_call_id))
    name, call_id = framework.tool_call(client.build(server))
    assert name == "get_weather"
    if client.tool_call_id_checked:
        assert call_id == client.tool_call_id
    _check(telemetry, client, server, client.call, finish=client.tool_finish)


@pytest.mark.parametrize(
    "client",
    [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=c.truncated_xfail)]
            if c.truncated_xfail
            else [],
        )
        for c in CLIENTS
    ],
)
def test_truncated(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    _answer(server, finish="length")
    framework.call(client.build(server))
    _check(telemetry, client, server, client.call)
    expect.check_truncated(expect.model_span(telemetry))


@pytest.mark.parametrize(
    ("client", "stream"),
    [
        pytest.param(c, stream, id=f"{c.id}-{'stream' if stream else 'call'}")
        for c in CLIENTS
        if c.caching
        for stream in ((False, True) if c.caching_streams else (False,))
    ],
)
def test_prompt_caching(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework, stream: bool
) -> None:
    # 1,142 input tokens: 1,024 read from the cache, and (where the API reports it) 77 written.
    assert client.caching is not None
    input_tokens, cache_read, cache_write = client.caching
    _answer(server, input_tokens=input_tokens, cache_read=cache_read, cache_write=cache_write)
    model = client.build(server, stream_usage=stream)
    if stream:
        framework.stream(model)
    else:
        framework.call(model)
    _check(telemetry, client, server, client.stream if stream else client.call)
    expect.check_token_metric(telemetry, server)


@pytest.mark.parametrize("client", _cases(c for c in CLIENTS if c.request_params))
def test_request_params(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    params = client.request_params
    assert params is not None
    framework.call(client.build(server, model=params.model, settings=params.settings))
    _check_sent(server, params.sent)
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider=client.provider_name,
        request_model=params.model or client.model,
        finish=[server.answer.finish] if client.call.finish else None,
        response_id=client.call.response_id,
        response_model=client.call.response_model,
        usage=params.usage,
        params=params.span,
    )


# --- A streamed answer -------------------------------------------------------------------


@pytest.mark.parametrize("client", ALL)
def test_stream(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    _answer(server, **client.stream_answer)
    text = framework.stream(client.build(server, stream_usage=True))
    assert text == server.answer.text
    _check_sent(server, client.stream_sent)
    _check(telemetry, client, server, client.stream)


@pytest.mark.parametrize("client", ASYNC)
async def test_async_stream(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    _answer(server, **client.stream_answer)
    text = await framework.astream(client.build(server, stream_usage=True))
    assert text == server.answer.text
    _check_sent(server, client.stream_sent)
    _check(telemetry, client, server, client.stream)


@pytest.mark.parametrize("client", _cases(c for c in CLIENTS if c.stream_without_usage))
async def test_async_stream_without_usage_has_no_counts(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    await framework.astream(client.build(server, stream_usage=False))
    assert "stream_options" not in server.requests[0].json
    _check(telemetry, client, server, client.stream, usage=False)


# --- Failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500])
@pytest.mark.parametrize("client", ALL)
def test_error(
    telemetry: Telemetry,
    client: Client,
    server: ProviderServer,
    framework: Framework,
    status: int,
) -> None:
    model = client.build(server)
    server.fail, server.fail_on = status, client.fail_on
    error_type, status_of = client.error
    with pytest.raises(error_type) as caught:
        framework.call(model)
    if status_of is not None:
        assert status_of(caught.value) == status
    if client.one_request_on_error:
        assert len(server.requests) == 1
    expect.check_error(expect.model_span(telemetry), caught.value)


@pytest.mark.parametrize("client", ALL)
def test_stream_fails_midway(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    model = client.build(server, stream_usage=True)
    server.cut_stream = True
    with pytest.raises(Exception) as caught:  # the transport's, wrapped or not
        framework.stream(model)
    expect.check_error(expect.model_span(telemetry), caught.value)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("client", _cases(c for c in CLIENTS if c.stream_error))
async def test_stream_error_event(
    telemetry: Telemetry,
    client: Client,
    server: ProviderServer,
    framework: Framework,
    asynchronous: bool,
) -> None:
    # The provider's own error event midway through a stream (where its API documents one).
    assert client.stream_error is not None
    model = client.build(server, stream_usage=True)
    server.stream_error = True
    with pytest.raises(client.stream_error) as caught:
        if asynchronous:
            await framework.astream(model)
        else:
            framework.stream(model)
    expect.check_error(expect.model_span(telemetry), caught.value)


# --- What a client drops -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "stream", "key"),
    [
        pytest.param(
            BY_ID[gap.provider, gap.framework],
            gap.stream,
            gap.key,
            id=gap.id,
            marks=pytest.mark.xfail(strict=True, reason=gap.reason),
        )
        for gap in GAPS
    ],
)
def test_what_the_client_drops(
    telemetry: Telemetry,
    client: Client,
    server: ProviderServer,
    framework: Framework,
    stream: bool,
    key: str,
) -> None:
    model = client.build(server, stream_usage=stream)
    if stream:
        framework.stream(model)
    else:
        framework.call(model)
    answer = server.answer
    want = {
        sc.GEN_AI_RESPONSE_ID: answer.id,
        sc.GEN_AI_RESPONSE_MODEL: answer.model,
        sc.GEN_AI_RESPONSE_FINISH_REASONS: (answer.finish,),
    }[key]
    assert expect.attrs(expect.model_span(telemetry)).get(key) == want


# --- The same answer through both frameworks ---------------------------------------------

KEYS = (
    sc.GEN_AI_OPERATION_NAME,
    sc.GEN_AI_PROVIDER_NAME,
    sc.GEN_AI_REQUEST_MODEL,
    sc.GEN_AI_RESPONSE_MODEL,
    sc.GEN_AI_RESPONSE_ID,
    sc.GEN_AI_RESPONSE_FINISH_REASONS,
    sc.GEN_AI_REQUEST_MAX_TOKENS,
    sc.GEN_AI_REQUEST_TEMPERATURE,
    sc.GEN_AI_USAGE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    sc.SEMTRACE_USAGE_COST_AMOUNT,
    "server.address",
    "server.port",
)
# What one of the two clients drops, and which (see GAPS and the table's Spans).
DROPS: dict[str, dict[str, str]] = {
    "openai": {},
    "anthropic": {},
    "ollama": {},
    "gemini": {
        sc.GEN_AI_RESPONSE_ID: "neither client passes responseId on",
        sc.GEN_AI_RESPONSE_MODEL: "llama-index-llms-google-genai drops modelVersion",
    },
    "bedrock": {},
}
# What one of the two clients drops from streams only.
STREAM_DROPS: dict[str, dict[str, str]] = {
    "openai": {sc.GEN_AI_RESPONSE_ID: "langchain-openai"},
    "anthropic": {
        sc.GEN_AI_RESPONSE_ID: "both clients",
        sc.GEN_AI_RESPONSE_MODEL: "llama-index-llms-anthropic",
    },
    "gemini": {},
    "ollama": {},
    "bedrock": {sc.GEN_AI_RESPONSE_FINISH_REASONS: "llama-index-llms-bedrock-converse"},
}


@pytest.mark.parametrize("stream", [False, True], ids=["call", "stream"])
@pytest.mark.parametrize("provider", list(DROPS))
def test_same_answer_same_attributes(
    telemetry: Telemetry,
    lc: Any,
    li: Any,
    request: pytest.FixtureRequest,
    provider: str,
    stream: bool,
) -> None:
    dropped = {**DROPS[provider], **(STREAM_DROPS[provider] if stream else {})}
    server: ProviderServer = request.getfixturevalue(f"{provider}_server")
    answer = server.answer
    if provider in ("anthropic", "bedrock"):
        answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    elif provider in ("openai", "gemini"):
        answer.input_tokens, answer.cache_read = 1142, 1024
    if provider in ("openai", "gemini"):
        answer.output_tokens, answer.reasoning = 19, 12

    seen = []
    for framework in (LangChain(lc), LlamaIndex()):
        telemetry.clear()
        model = BY_ID[provider, framework.name].build(server, stream_usage=True)
        if stream:
            framework.stream(model)
        else:
            framework.call(model)
        seen.append(_picked(expect.attrs(expect.model_span(telemetry)), dropped))
    langchain, llamaindex = seen

    assert langchain == llamaindex
    # And both agree with the answer, not merely with each other.
    assert langchain[sc.GEN_AI_USAGE_INPUT_TOKENS] == answer.input_tokens
    assert langchain[sc.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx(expect.expected_cost(answer))


def _picked(attributes: dict[str, Any], dropped: dict[str, str]) -> dict[str, Any]:
    out = {}
    for key in KEYS:
        if key in dropped:
            continue
        value = attributes.get(key)
        out[key] = tuple(value) if isinstance(value, (list, tuple)) else value
    return out


# --- What only one client does -----------------------------------------------------------


def _only(provider: str, framework: str) -> Any:
    client = BY_ID[provider, framework]
    return pytest.mark.parametrize("client", [pytest.param(client, id=client.id)])


@_only("openai", "langchain")
def test_langchain_azure_openai(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    from langchain_openai import AzureChatOpenAI

    model = AzureChatOpenAI(
        azure_deployment="my-gpt",
        model="gpt-4o-mini",
        azure_endpoint=server.url,
        api_version="2024-10-21",
        api_key="test",
        max_tokens=50,
        temperature=0.3,
        max_retries=0,
    )
    framework.call(model)
    sent = server.requests[0]
    assert sent.path == "/openai/deployments/my-gpt/chat/completions"
    assert sent.query["api-version"] == ["2024-10-21"]
    expect.check_span(
        expect.model_span(telemetry),
        server,
        provider="azure.ai.openai",
        request_model="gpt-4o-mini",
        finish=["stop"],
        params=PARAMS,
    )


@_only("openai", "langchain")
def test_langchain_openai_compatible_host(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    # Another vendor's OpenAI-compatible endpoint: the client's provider, the endpoint's host.
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        model="gpt-4o-mini",
        base_url=f"http://localhost:{server.port}/v1",
        api_key="test",
        max_retries=0,
    )
    framework.call(model)
    span = expect.attrs(expect.model_span(telemetry))
    assert span[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert (span["server.address"], span["server.port"]) == ("localhost", server.port)


@pytest.mark.xfail(
    strict=True,
    reason="langchain_core.embeddings.Embeddings.embed_documents runs no callbacks, so no "
    "LangChain callback handler ever sees an embeddings call",
)
@_only("openai", "langchain")
def test_langchain_openai_embeddings(
    telemetry: Telemetry, client: Client, server: ProviderServer, lc: Any
) -> None:
    from langchain_core.runnables import RunnableLambda
    from langchain_openai import OpenAIEmbeddings

    from tests.providers.servers.openai import DIMENSIONS

    answer = server.answer
    answer.model, answer.input_tokens, answer.output_tokens = "text-embedding-3-small", 6, 0
    embedder = OpenAIEmbeddings(
        model="text-embedding-3-small",
        base_url=f"{server.url}/v1",
        api_key="test",
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    # Embeddings models have no callbacks of their own: run them inside a traced runnable.
    vectors = RunnableLambda(lambda texts: embedder.embed_documents(texts)).invoke(
        ["a", "b"], config={"callbacks": [lc]}
    )
    assert len(vectors[0]) == DIMENSIONS
    assert server.requests[0].json["encoding_format"] == "base64"
    expect.check_span(
        expect.model_span(telemetry, "embeddings"),
        server,
        provider="openai",
        request_model="text-embedding-3-small",
        response_id=False,
        params={sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: DIMENSIONS},
    )


@_only("openai", "llamaindex")
def test_llamaindex_openai_complete(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    client.build(server).complete("Capital of France?")
    _check(telemetry, client, server, client.call)


@_only("openai", "llamaindex")
async def test_llamaindex_openai_embeddings(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    from llama_index.embeddings.openai import OpenAIEmbedding

    from tests.providers.servers.openai import DIMENSIONS

    answer = server.answer
    answer.model, answer.input_tokens, answer.output_tokens = "text-embedding-3-small", 6, 0
    embedder = OpenAIEmbedding(
        model="text-embedding-3-small",
        api_base=f"{server.url}/v1",
        api_key="test",
        max_retries=0,
    )
    vectors = await embedder.aget_text_embedding_batch(["a", "b"])
    assert len(vectors[1]) == DIMENSIONS
    assert server.requests[0].json["encoding_format"] == "base64"  # the SDK's default
    expect.check_span(
        expect.model_span(telemetry, "embeddings"),
        server,
        provider="openai",
        request_model="text-embedding-3-small",
        response_model=False,
        response_id=False,
        usage=None,
        params={sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: DIMENSIONS},
    )


@_only("ollama", "llamaindex")
def test_llamaindex_ollama_show_fails(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    # chat() asks /api/show first, before LlamaIndex's chat-start event.
    import ollama

    server.fail = 500
    with pytest.raises(ollama.ResponseError) as caught:
        framework.call(client.build(server))
    assert [r.path for r in server.requests] == ["/api/show"]
    expect.check_error(expect.model_span(telemetry), caught.value)


@_only("ollama", "llamaindex")
def test_llamaindex_ollama_embeddings(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    from llama_index.embeddings.ollama import OllamaEmbedding

    from tests.providers.servers.ollama import DIMENSIONS

    server.answer.model = "nomic-embed-text"
    embedder = OllamaEmbedding(model_name="nomic-embed-text", base_url=server.url)
    vectors = embedder.get_text_embedding_batch(["a", "b"])
    assert len(vectors[0]) == DIMENSIONS
    assert server.calls("/api/embed")[0].json["input"] == ["a", "b"]
    expect.check_span(
        expect.model_span(telemetry, "embeddings"),
        server,
        provider="ollama",
        request_model="nomic-embed-text",
        response_model=False,
        response_id=False,
        usage=None,
        params={sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: DIMENSIONS},
    )


@_only("gemini", "llamaindex")
def test_llamaindex_gemini_truncated_raises(
    telemetry: Telemetry, client: Client, server: ProviderServer, framework: Framework
) -> None:
    # What the client does instead of returning a truncated answer (see test_truncated).
    server.answer.finish = "length"
    with pytest.raises(RuntimeError) as caught:
        framework.call(client.build(server))
    expect.check_error(expect.model_span(telemetry), caught.value)
