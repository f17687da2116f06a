"""semtrace.normalize finish reasons: every provider's values, and where each keeps them."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any

import pytest
from semtrace import normalize


class FinishReason(str, enum.Enum):  # the shape of google-genai's enum
    MAX_TOKENS = "MAX_TOKENS"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # OpenAI (and Mistral, Groq, DeepSeek, xAI)
        pytest.param("stop", "stop", id="openai-stop"),
        pytest.param("length", "length", id="openai-length"),
        pytest.param("tool_calls", "tool_call", id="openai-tool_calls"),
        pytest.param("function_call", "tool_call", id="openai-function_call"),
        pytest.param("content_filter", "content_filter", id="openai-content_filter"),
        # Anthropic
        pytest.param("end_turn", "stop", id="anthropic-end_turn"),
        pytest.param("stop_sequence", "stop", id="anthropic-stop_sequence"),
        pytest.param("max_tokens", "length", id="anthropic-max_tokens"),
        pytest.param("tool_use", "tool_call", id="anthropic-tool_use"),
        pytest.param("refusal", "content_filter", id="anthropic-refusal"),
        # Gemini
        pytest.param("STOP", "stop", id="gemini-STOP"),
        pytest.param("MAX_TOKENS", "length", id="gemini-MAX_TOKENS"),
        pytest.param("SAFETY", "content_filter", id="gemini-SAFETY"),
        pytest.param("RECITATION", "content_filter", id="gemini-RECITATION"),
        pytest.param("PROHIBITED_CONTENT", "content_filter", id="gemini-PROHIBITED_CONTENT"),
        pytest.param("MALFORMED_FUNCTION_CALL", "error", id="gemini-MALFORMED_FUNCTION_CALL"),
        pytest.param("FINISH_REASON_UNSPECIFIED", None, id="gemini-unspecified"),
        pytest.param(FinishReason.MAX_TOKENS, "length", id="gemini-sdk-enum"),
        # Bedrock Converse
        pytest.param("guardrail_intervened", "content_filter", id="bedrock-guardrail"),
        pytest.param("content_filtered", "content_filter", id="bedrock-content_filtered"),
        # Mistral
        pytest.param("model_length", "length", id="mistral-model_length"),
        pytest.param("error", "error", id="mistral-error"),
        # Ollama done_reason
        pytest.param("load", None, id="ollama-load-is-no-generation"),
        # Cohere
        pytest.param("COMPLETE", "stop", id="cohere-COMPLETE"),
        pytest.param("TOOL_CALL", "tool_call", id="cohere-TOOL_CALL"),
        # Not documented anywhere: kept, lower-cased
        pytest.param("Something_New", "something_new", id="unknown-kept"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param(3, None, id="not-a-string"),
    ],
)
def test_finish_reason_values(value: Any, expected: str | None) -> None:
    assert normalize.finish_reason(value) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"id": "c", "choices": [{"index": 0, "finish_reason": "length"}]},
            "length",
            id="openai-response",
        ),
        pytest.param(
            SimpleNamespace(choices=[SimpleNamespace(finish_reason="tool_calls")]),
            "tool_call",
            id="openai-sdk-object",
        ),
        pytest.param({"choices": [], "usage": {"prompt_tokens": 1}}, None, id="openai-usage-chunk"),
        pytest.param({"type": "message", "stop_reason": "max_tokens"}, "length", id="anthropic"),
        pytest.param(
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {}},
            "tool_call",
            id="anthropic-message-delta",
        ),
        pytest.param(
            {"candidates": [{"finishReason": "MAX_TOKENS"}]}, "length", id="gemini-response"
        ),
        pytest.param({"finish_reason": "SAFETY"}, "content_filter", id="gemini-candidate-dump"),
        pytest.param({"output": {}, "stopReason": "end_turn"}, "stop", id="bedrock-response"),
        pytest.param(
            {"messageStop": {"stopReason": "max_tokens"}}, "length", id="bedrock-stream-event"
        ),
        pytest.param({"done": True, "done_reason": "length"}, "length", id="ollama"),
        pytest.param({"model_name": "x"}, None, id="none"),
    ],
)
def test_finish_reason_is_found_where_each_provider_keeps_it(
    payload: Any, expected: str | None
) -> None:
    assert normalize.finish_reason_of(payload) == expected


def test_the_first_payload_with_a_reason_wins() -> None:
    assert normalize.finish_reason_of({}, {"stop_reason": "end_turn"}) == "stop"
