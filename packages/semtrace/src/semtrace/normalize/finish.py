"""Finish reasons in the GenAI conventions' words: stop, length, content_filter, tool_call, error.

Example:
    >>> finish_reason("end_turn"), finish_reason("MAX_TOKENS"), finish_reason("tool_calls")
    ('stop', 'length', 'tool_call')
    >>> finish_reason_of({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}})
    'length'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from semtrace.normalize._access import get, has_any, text

STOP: Final = "stop"
LENGTH: Final = "length"
CONTENT_FILTER: Final = "content_filter"
TOOL_CALL: Final = "tool_call"
ERROR: Final = "error"

# Lower-cased provider values. OpenAI (and the APIs that copy it), Anthropic, Gemini,
# Bedrock Converse, Mistral, Ollama, Cohere.
_REASONS: Final[Mapping[str, str | None]] = {
    # OpenAI: stop | length | tool_calls | content_filter | function_call
    "stop": STOP,
    "length": LENGTH,
    "tool_calls": TOOL_CALL,
    "function_call": TOOL_CALL,
    "content_filter": CONTENT_FILTER,
    # Anthropic: end_turn | max_tokens | stop_sequence | tool_use | pause_turn | refusal
    # (Bedrock Converse adds guardrail_intervened and content_filtered)
    "end_turn": STOP,
    "stop_sequence": STOP,
    "pause_turn": STOP,
    "max_tokens": LENGTH,
    "model_context_window_exceeded": LENGTH,
    "tool_use": TOOL_CALL,
    "refusal": CONTENT_FILTER,
    "guardrail_intervened": CONTENT_FILTER,
    "content_filtered": CONTENT_FILTER,
    # Gemini: STOP | MAX_TOKENS | SAFETY | RECITATION | LANGUAGE | OTHER | BLOCKLIST |
    # PROHIBITED_CONTENT | SPII | MALFORMED_FUNCTION_CALL | IMAGE_SAFETY | ...
    "max_tokens_reached": LENGTH,
    "safety": CONTENT_FILTER,
    "recitation": CONTENT_FILTER,
    "blocklist": CONTENT_FILTER,
    "prohibited_content": CONTENT_FILTER,
    "spii": CONTENT_FILTER,
    "image_safety": CONTENT_FILTER,
    "image_prohibited_content": CONTENT_FILTER,
    "image_recitation": CONTENT_FILTER,
    "language": ERROR,
    "other": ERROR,
    "image_other": ERROR,
    "no_image": ERROR,
    "malformed_function_call": ERROR,
    "unexpected_tool_call": ERROR,
    "too_many_tool_calls": ERROR,
    "finish_reason_unspecified": None,
    # Mistral: stop | length | model_length | error | tool_calls
    "model_length": LENGTH,
    "error": ERROR,
    # Cohere: COMPLETE | STOP_SEQUENCE | MAX_TOKENS | TOOL_CALL | ERROR | TIMEOUT
    "complete": STOP,
    "tool_call": TOOL_CALL,
    "timeout": ERROR,
    # Ollama done_reason: stop | length | load | unload (the last two are not generations)
    "load": None,
    "unload": None,
}
# Where a response or stream chunk keeps its finish reason, by provider.
_KEYS: Final = ("finish_reason", "stop_reason", "stopReason", "done_reason", "finishReason")
_KEY_SET: Final = frozenset(_KEYS)
# Where a reason sits one level down: OpenAI's and Gemini's first choice, Anthropic's
# ``message_delta.delta``, Bedrock's ``messageStop`` stream event.
_INNER: Final = ("choices", "candidates", "delta", "messageStop")
_INNER_SET: Final = frozenset(_INNER)


def finish_reason(value: Any) -> str | None:
    """One provider finish reason in the conventions' words.

    Args:
        value: A provider's value, a string or a string enum (``FinishReason.STOP``).

    Returns:
        ``stop``, ``length``, ``content_filter``, ``tool_call`` or ``error``; a value
        no provider documents, lower-cased; None when there is none.
    """
    reason = text(value)
    if reason is None:
        return None
    key = reason.strip().lower()
    return _REASONS.get(key, key) if key else None


def finish_reason_of(*payloads: Any) -> str | None:
    """The normalised finish reason of the first payload that has one.

    Reads OpenAI's ``choices[0].finish_reason``, Gemini's
    ``candidates[0].finishReason``, Anthropic's ``stop_reason`` (and a stream's
    ``message_delta.delta.stop_reason``), Bedrock's ``stopReason`` (and a stream's
    ``messageStop`` event), Ollama's ``done_reason``, and LangChain's
    ``response_metadata``/``generation_info`` copies of them.
    """
    for payload in payloads:
        for holder in _holders(payload):
            if not has_any(holder, _KEY_SET):
                continue
            for key in _KEYS:
                reason = finish_reason(get(holder, key))
                if reason is not None:
                    return reason
    return None


def _holders(payload: Any) -> list[Any]:
    if payload is None:
        return []
    holders = [payload]
    if not has_any(payload, _INNER_SET):
        return holders
    for key in _INNER:
        inner = get(payload, key)
        if isinstance(inner, (list, tuple)):
            inner = inner[0] if inner else None
        if inner is not None:
            holders.append(inner)
    return holders
