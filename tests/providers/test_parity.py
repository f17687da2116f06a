"""The same provider answer through LangChain and LlamaIndex gives the same attributes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers import expect
from tests.providers.servers.base import ProviderServer

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


def _openai(server: ProviderServer) -> tuple[Any, Any]:
    from langchain_openai import ChatOpenAI
    from llama_index.llms.openai import OpenAI

    common = {"model": "gpt-4o-mini", "api_key": "test", "max_tokens": 50, "temperature": 0.3}
    url = f"{server.url}/v1"
    usage = {"stream_options": {"include_usage": True}}
    return (
        ChatOpenAI(base_url=url, stream_usage=True, **common),
        OpenAI(api_base=url, additional_kwargs=usage, **common),
    )


def _anthropic(server: ProviderServer) -> tuple[Any, Any]:
    from langchain_anthropic import ChatAnthropic
    from llama_index.llms.anthropic import Anthropic

    common = {"model": "claude-sonnet-4-5", "api_key": "test", "max_tokens": 50}
    return (
        ChatAnthropic(base_url=server.url, temperature=0.3, **common),
        Anthropic(base_url=server.url, temperature=0.3, **common),
    )


def _ollama(server: ProviderServer) -> tuple[Any, Any]:
    from langchain_ollama import ChatOllama
    from llama_index.llms.ollama import Ollama

    return (
        ChatOllama(model="llama3.2", base_url=server.url, num_predict=50, temperature=0.3),
        Ollama(
            model="llama3.2",
            base_url=server.url,
            temperature=0.3,
            additional_kwargs={"num_predict": 50},
        ),
    )


def _gemini(server: ProviderServer) -> tuple[Any, Any]:
    from google.genai import types
    from langchain_google_genai import ChatGoogleGenerativeAI
    from llama_index.llms.google_genai import GoogleGenAI

    return (
        ChatGoogleGenerativeAI(
            model="gemini-2.5-flash",
            google_api_key="test",
            base_url=server.url,
            max_output_tokens=50,
            temperature=0.3,
        ),
        GoogleGenAI(
            model="gemini-2.5-flash",
            api_key="test",
            max_tokens=50,
            temperature=0.3,
            http_options=types.HttpOptions(base_url=server.url),
        ),
    )


def _bedrock(server: ProviderServer) -> tuple[Any, Any]:
    from langchain_aws import ChatBedrockConverse
    from llama_index.llms.bedrock_converse import BedrockConverse

    common = {
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "endpoint_url": server.url,
        "region_name": "us-east-1",
        "max_tokens": 50,
        "temperature": 0.3,
    }
    return ChatBedrockConverse(**common), BedrockConverse(**common)


# provider: (fixture, models, keys a client drops and why)
CASES: dict[str, tuple[str, Callable[[ProviderServer], tuple[Any, Any]], dict[str, str]]] = {
    "openai": ("openai_server", _openai, {}),
    "anthropic": ("anthropic_server", _anthropic, {}),
    "ollama": ("ollama_server", _ollama, {}),
    "gemini": (
        "gemini_server",
        _gemini,
        {
            sc.GEN_AI_RESPONSE_ID: "neither client passes responseId on",
            sc.GEN_AI_RESPONSE_MODEL: "llama-index-llms-google-genai drops modelVersion",
        },
    ),
    "bedrock": ("bedrock_server", _bedrock, {}),
}
# What one of the two clients drops from streams only (see the per-package xfails).
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
@pytest.mark.parametrize("provider", list(CASES))
def test_same_answer_same_attributes(
    telemetry: Telemetry, lc, li, request: pytest.FixtureRequest, provider: str, stream: bool
) -> None:
    fixture, models, dropped = CASES[provider]
    if stream:
        dropped = {**dropped, **STREAM_DROPS[provider]}
    server: ProviderServer = request.getfixturevalue(fixture)
    answer = server.answer
    if provider in ("anthropic", "bedrock"):
        answer.input_tokens, answer.cache_read, answer.cache_write = 1142, 1024, 77
    elif provider in ("openai", "gemini"):
        answer.input_tokens, answer.cache_read = 1142, 1024
    if provider in ("openai", "gemini"):
        answer.output_tokens, answer.reasoning = 19, 12
    chat_model, llm = models(server)

    messages = [ChatMessage(role="user", content="Capital of France?")]
    if stream:
        for _ in chat_model.stream("Capital of France?", config={"callbacks": [lc]}):
            pass
    else:
        chat_model.invoke("Capital of France?", config={"callbacks": [lc]})
    langchain = _picked(expect.attrs(expect.model_span(telemetry)), dropped)
    telemetry.clear()
    if stream:
        for _ in llm.stream_chat(messages):
            pass
    else:
        llm.chat(messages)
    llamaindex = _picked(expect.attrs(expect.model_span(telemetry)), dropped)

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
