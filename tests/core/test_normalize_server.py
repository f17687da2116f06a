"""semtrace.normalize: server address/port, provider names, response id and model."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from semtrace import normalize
from semtrace._telemetry.operations import operation_for
from semtrace.records import EmbeddingStart, ModelStart


@pytest.mark.parametrize(
    ("provider", "obj", "url", "region", "expected"),
    [
        pytest.param(
            "openai", None, "http://127.0.0.1:8080/v1", None, ("127.0.0.1", 8080), id="url"
        ),
        pytest.param(
            "openai", None, "https://example.com/v1", None, ("example.com", 443), id="https"
        ),
        pytest.param("ollama", None, "localhost:11434", None, ("localhost", 11434), id="no-scheme"),
        pytest.param("openai", None, None, None, ("api.openai.com", 443), id="openai-default"),
        pytest.param(
            "anthropic", None, None, None, ("api.anthropic.com", 443), id="anthropic-default"
        ),
        pytest.param(
            "gcp.gemini",
            None,
            None,
            None,
            ("generativelanguage.googleapis.com", 443),
            id="gemini-default",
        ),
        pytest.param("mistral_ai", None, None, None, ("api.mistral.ai", 443), id="mistral-default"),
        pytest.param("ollama", None, None, None, ("127.0.0.1", 11434), id="ollama-default"),
        pytest.param(
            "aws.bedrock",
            None,
            None,
            "eu-west-1",
            ("bedrock-runtime.eu-west-1.amazonaws.com", 443),
            id="bedrock-region",
        ),
        pytest.param("aws.bedrock", None, None, None, (None, None), id="bedrock-no-region"),
        pytest.param("azure.ai.openai", None, None, None, (None, None), id="azure-needs-endpoint"),
        pytest.param(
            "openai",
            SimpleNamespace(
                openai_api_base=None, root_client=SimpleNamespace(base_url="http://h:1/v1/")
            ),
            None,
            None,
            ("h", 1),
            id="sdk-client-inside",
        ),
        pytest.param(
            "azure.ai.openai",
            SimpleNamespace(azure_endpoint="https://acme.openai.azure.com"),
            None,
            None,
            ("acme.openai.azure.com", 443),
            id="azure-endpoint",
        ),
        pytest.param(
            "aws.bedrock",
            SimpleNamespace(
                region_name="us-east-1",
                client=SimpleNamespace(meta=SimpleNamespace(endpoint_url="http://127.0.0.1:4566")),
            ),
            None,
            None,
            ("127.0.0.1", 4566),
            id="botocore-client-endpoint",
        ),
        pytest.param(
            "aws.bedrock",
            SimpleNamespace(region_name="us-west-2"),
            None,
            None,
            ("bedrock-runtime.us-west-2.amazonaws.com", 443),
            id="bedrock-region-field",
        ),
        pytest.param("unknown", None, "not a url ::", None, (None, None), id="garbage"),
    ],
)
def test_server(provider: str, obj: Any, url: Any, region: Any, expected: tuple[Any, Any]) -> None:
    assert normalize.server(provider, obj, url=url, region=region) == expected


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("openai", "openai"),
        ("openai_like", "openai"),
        ("azure", "azure.ai.openai"),
        ("azure_openai", "azure.ai.openai"),
        ("anthropic", "anthropic"),
        ("bedrock", "aws.bedrock"),
        ("bedrock_converse", "aws.bedrock"),
        ("amazon_bedrock", "aws.bedrock"),
        ("google_genai", "gcp.gemini"),
        ("google_vertexai", "gcp.vertex_ai"),
        ("mistralai", "mistral_ai"),
        ("xai", "x_ai"),
        ("ibm", "ibm.watsonx.ai"),
        ("Groq", "groq"),
        ("some_new_vendor", "some_new_vendor"),
    ],
)
def test_provider_names_are_the_conventions_values(hint: str, expected: str) -> None:
    assert normalize.provider_name(hint) == expected


def test_no_provider_hint_gives_the_default() -> None:
    assert normalize.provider_name(None, "langchain") == "langchain"
    assert normalize.provider_name("  ", "llama_index") == "llama_index"


@pytest.mark.parametrize(
    ("payload", "expected_id", "expected_model"),
    [
        pytest.param(
            {"id": "chatcmpl-1", "model": "gpt-4o-mini-2024-07-18"},
            "chatcmpl-1",
            "gpt-4o-mini-2024-07-18",
            id="openai",
        ),
        pytest.param(
            {"id": "run-x", "model_name": "claude-3-5-haiku-20241022"},
            "run-x",
            "claude-3-5-haiku-20241022",
            id="langchain-response-metadata",
        ),
        pytest.param(
            {"responseId": "r-1", "modelVersion": "gemini-2.5-flash"},
            "r-1",
            "gemini-2.5-flash",
            id="gemini",
        ),
        pytest.param(
            {"type": "message_start", "message": {"id": "msg_1", "model": "claude-x"}},
            "msg_1",
            "claude-x",
            id="anthropic-message-start",
        ),
        pytest.param(
            {"stopReason": "end_turn", "model_name": "anthropic.claude-3-haiku-20240307-v1:0"},
            None,
            None,
            id="bedrock-converse-has-no-model",
        ),
    ],
)
def test_response_id_and_model(payload: Any, expected_id: Any, expected_model: Any) -> None:
    assert normalize.response_id(payload) == expected_id
    assert normalize.response_model(payload) == expected_model


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(
            ModelStart("openai", "m", [], server_address="127.0.0.1", server_port=8080), id="chat"
        ),
        pytest.param(
            EmbeddingStart("openai", "m", server_address="127.0.0.1", server_port=8080),
            id="embeddings",
        ),
    ],
)
def test_server_attributes_are_set_at_span_start(start: Any) -> None:
    _, _, attrs = operation_for(start).describe(start)
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == 8080


def test_an_impossible_port_is_not_written() -> None:
    start = ModelStart("openai", "m", [], server_address="h", server_port=70000)
    _, _, attrs = operation_for(start).describe(start)
    assert attrs["server.address"] == "h" and "server.port" not in attrs
