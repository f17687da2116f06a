"""The response id and the model that answered, from any provider's payload.

Example:
    >>> response_id({"responseId": "r-1", "modelVersion": "gemini-2.5-flash"})
    'r-1'
    >>> response_model({"type": "message_start", "message": {"model": "claude-x"}})
    'claude-x'
"""

from __future__ import annotations

from typing import Any, Final

from semtrace.normalize._access import get, text

# OpenAI, Anthropic, Mistral: ``id``; Gemini: ``responseId`` (``response_id`` in the SDK).
_ID_KEYS: Final = ("id", "responseId", "response_id")
# OpenAI, Anthropic, Ollama: ``model``; LangChain: ``model_name``; Gemini: ``modelVersion``.
_MODEL_KEYS: Final = ("model", "model_name", "modelVersion", "model_version")
# Anthropic's stream opens with ``message_start``, which holds the message.
_INNER: Final = ("message", "response")
_ID_KEY_SET: Final = frozenset(_ID_KEYS)
_MODEL_KEY_SET: Final = frozenset(_MODEL_KEYS)
_INNER_SET: Final = frozenset(_INNER)


def response_id(*payloads: Any) -> str | None:
    """The provider's id of the response: the first payload's that has one."""
    return _first(payloads, _ID_KEYS, _ID_KEY_SET)


def response_model(*payloads: Any) -> str | None:
    """The model that answered: the first payload's that names one.

    Bedrock Converse answers without a model; langchain-aws copies the *requested*
    model id into ``response_metadata["model_name"]``, which is an echo of the request,
    not the response's (LlamaIndex has nothing there), so a Converse payload names none.
    """
    return _first(
        tuple(p for p in payloads if p is not None and not _is_converse(p)),
        _MODEL_KEYS,
        _MODEL_KEY_SET,
    )


def _is_converse(payload: Any) -> bool:
    """A Bedrock Converse response (or LangChain's copy of one): it has ``stopReason``."""
    return get(payload, "stopReason") is not None and get(payload, "modelVersion") is None


def _first(payloads: tuple[Any, ...], keys: tuple[str, ...], key_set: frozenset[str]) -> str | None:
    # A plain dict (not a subclass: get() reads it with dict.get, so a key test is exact)
    # holding none of the keys is passed over with one C-level set test: LangChain hands
    # over mostly empty or unrelated metadata dicts, several per model call.
    for payload in payloads:
        if payload is None or (type(payload) is dict and _INNER_SET.isdisjoint(payload)):
            holders: tuple[Any, ...] = (payload,)
        else:
            holders = (payload, *(get(payload, key) for key in _INNER))
        for holder in holders:
            if holder is None or (type(holder) is dict and key_set.isdisjoint(holder)):
                continue  # get() would answer None for every key
            for key in keys:
                value = text(get(holder, key))
                if value is not None:
                    return value
    return None
