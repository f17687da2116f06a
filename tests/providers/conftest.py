"""Fixtures of the provider tests: instrumentation with a known price table, and the servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from semtrace.testing import Telemetry

from tests.providers.expect import PRICES
from tests.providers.servers.anthropic import AnthropicServer
from tests.providers.servers.base import Answer
from tests.providers.servers.bedrock import BedrockServer
from tests.providers.servers.gemini import GeminiServer
from tests.providers.servers.mistral import MistralServer
from tests.providers.servers.ollama import OllamaServer
from tests.providers.servers.openai import OpenAIServer

S = TypeVar("S")


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real keys or endpoints from the environment reach a client; no AWS retries."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "MISTRAL_API_KEY",
        "OLLAMA_HOST",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True, scope="session")
def _one_botocore_loader() -> Iterator[None]:
    """One botocore data loader for the session: each new boto3 session would parse the
    Bedrock service model again (about two seconds a client on this machine)."""
    import functools

    import botocore.session

    original = botocore.session.create_loader
    botocore.session.create_loader = functools.lru_cache(maxsize=None)(original)
    yield
    botocore.session.create_loader = original


@pytest.fixture
def lc(telemetry: Telemetry) -> Any:
    """A LangChain callback handler with the test prices and no tiktoken fallback.

    Content is captured: every provider's messages are checked against the GenAI
    content schemas (the ``telemetry`` fixture).
    """
    from semtrace_langchain import CallbackHandler

    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=True,
        count_tokens=False,
        prices=PRICES,
    )


@pytest.fixture
def li(telemetry: Telemetry) -> Iterator[Callable[[], None]]:
    """LlamaIndex instrumented with the test prices and no tiktoken fallback; content captured."""
    from semtrace_llamaindex import LlamaIndexInstrumentor

    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=True,
        count_tokens=False,
        prices=PRICES,
    )
    yield lambda: None
    instrumentor.uninstrument()


def _serve(server: S) -> Iterator[S]:
    with server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """OpenAI (and Azure OpenAI); the answer is a gpt-4o-mini snapshot's."""
    yield from _serve(OpenAIServer(Answer(model="gpt-4o-mini-2024-07-18", id="chatcmpl-abc123")))


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """Anthropic Messages; the answer is a Claude Sonnet 4.5 snapshot's."""
    answer = Answer(model="claude-sonnet-4-5-20250929", id="msg_01AbCdEf")
    yield from _serve(AnthropicServer(answer))


@pytest.fixture
def ollama_server() -> Iterator[OllamaServer]:
    """Ollama; no response ids in its API."""
    yield from _serve(OllamaServer(Answer(model="llama3.2", id="")))


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    """The Gemini API."""
    yield from _serve(GeminiServer(Answer(model="gemini-2.5-flash", id="gem-resp-1")))


@pytest.fixture
def mistral_server() -> Iterator[MistralServer]:
    """Mistral chat completions."""
    yield from _serve(MistralServer(Answer(model="mistral-small-2506", id="cmpl-mis-1")))


@pytest.fixture
def bedrock_server() -> Iterator[BedrockServer]:
    """Bedrock runtime Converse; no response id or model in its API."""
    answer = Answer(model="anthropic.claude-3-haiku-20240307-v1:0", id="")
    yield from _serve(BedrockServer(answer))
