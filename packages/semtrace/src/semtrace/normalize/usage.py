"""Token usage as the GenAI conventions define it, from any provider's payload.

The conventions' ``gen_ai.usage.input_tokens`` includes cached reads and cache writes,
and ``gen_ai.usage.output_tokens`` includes reasoning tokens; providers that report
those apart are summed here:

==========================  ====================================================
shape                       what is summed
==========================  ====================================================
Anthropic                   ``input_tokens`` + ``cache_read_input_tokens`` +
                            ``cache_creation_input_tokens`` (or its
                            ``cache_creation.ephemeral_5m/1h_input_tokens``)
Bedrock Converse            ``inputTokens`` + ``cacheReadInputTokens`` +
                            ``cacheWriteInputTokens``
Gemini                      output: ``candidatesTokenCount`` + ``thoughtsTokenCount``;
                            input: ``promptTokenCount`` + ``toolUsePromptTokenCount``
OpenAI chat / Responses,    already inclusive (``prompt_tokens`` counts
Mistral, DeepSeek, Groq     ``cached_tokens``; ``completion_tokens`` reasoning)
LangChain usage_metadata    already inclusive; its ``ephemeral_*`` keys are writes
Ollama                      ``prompt_eval_count`` / ``eval_count``
==========================  ====================================================

Example:
    >>> u = usage({"usage": {"input_tokens": 41, "cache_read_input_tokens": 1024,
    ...                      "cache_creation_input_tokens": 77, "output_tokens": 9}})
    >>> u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens
    (1142, 1024, 77)
"""

from __future__ import annotations

from typing import Any, Final

from semtrace.normalize._access import count, first_count, get, has_any, is_payload
from semtrace.records import Usage

# Where a response keeps its usage, when the payload is the whole response.
_NESTED: Final = ("usage", "usage_metadata", "usageMetadata", "token_usage")
_NESTED_KEYS: Final = frozenset(_NESTED)
_HOLDERS: Final = frozenset({"message", "metadata"})
_TTL_WRITES: Final = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
# Every top-level count key the readers below look for: a payload with none is skipped.
_COUNT_KEYS: Final = frozenset(
    {
        "promptTokenCount",
        "prompt_token_count",
        "candidatesTokenCount",
        "candidates_token_count",
        "inputTokens",
        "outputTokens",
        "prompt_eval_count",
        "eval_count",
        "prompt_tokens",
        "completion_tokens",
        "input_tokens",
        "output_tokens",
    }
)


def usage(*payloads: Any) -> Usage | None:
    """The usage of the first payload that reports token counts.

    Args:
        *payloads: Usage objects or whole responses (dicts or SDK objects), most
            trusted first. A response's ``usage``/``usage_metadata`` is looked into.

    Returns:
        Usage in the conventions' meaning, or None when no payload reports counts.
    """
    for payload in payloads:
        found = _read(payload)
        if found is None and is_payload(payload):
            found = _nested(payload)
        if found is not None:
            return found
    return None


def _nested(payload: Any) -> Usage | None:
    """Usage one or two levels down.

    A whole response keeps its usage one level down; Anthropic's stream-opening
    ``message_start`` event two levels (``message.usage``), as does Bedrock's stream
    ``metadata`` event (``metadata.usage``).
    """
    holders = [payload]
    if has_any(payload, _HOLDERS):
        holders += [get(payload, "message"), get(payload, "metadata")]
    for holder in holders:
        if holder is None or not has_any(holder, _NESTED_KEYS):
            continue
        for key in _NESTED:
            found = _read(get(holder, key))
            if found is not None:
                return found
    return None


def _read(payload: Any) -> Usage | None:
    if not is_payload(payload) or not has_any(payload, _COUNT_KEYS):
        return None
    for reader in (_gemini, _bedrock, _ollama, _openai_chat, _input_output):
        found = reader(payload)
        if found is not None and found.reported:
            return found
    return None


def _total(*parts: int | None) -> int | None:
    """The sum of the parts reported; None when none is."""
    reported = [p for p in parts if p is not None]
    return sum(reported) if reported else None


def _gemini(p: Any) -> Usage | None:
    prompt = first_count(p, ("promptTokenCount", "prompt_token_count"))
    candidates = first_count(p, ("candidatesTokenCount", "candidates_token_count"))
    if prompt is None and candidates is None:
        return None
    thoughts = first_count(p, ("thoughtsTokenCount", "thoughts_token_count"))
    tool_prompt = first_count(p, ("toolUsePromptTokenCount", "tool_use_prompt_token_count"))
    return Usage(
        input_tokens=_total(prompt, tool_prompt),
        output_tokens=_total(candidates, thoughts),
        cache_read_input_tokens=first_count(
            p, ("cachedContentTokenCount", "cached_content_token_count")
        ),
        reasoning_output_tokens=thoughts,
    )


def _bedrock(p: Any) -> Usage | None:
    inputs, outputs = count(get(p, "inputTokens")), count(get(p, "outputTokens"))
    if inputs is None and outputs is None:
        return None
    read, write = count(get(p, "cacheReadInputTokens")), count(get(p, "cacheWriteInputTokens"))
    return Usage(
        input_tokens=_total(inputs, read, write),
        output_tokens=outputs,
        cache_read_input_tokens=read,
        cache_creation_input_tokens=write,
    )


def _ollama(p: Any) -> Usage | None:
    inputs, outputs = count(get(p, "prompt_eval_count")), count(get(p, "eval_count"))
    if inputs is None and outputs is None:
        return None
    return Usage(input_tokens=inputs, output_tokens=outputs)


def _openai_chat(p: Any) -> Usage | None:
    """OpenAI chat completions and the APIs that copy it (Mistral, Groq, DeepSeek...)."""
    inputs, outputs = count(get(p, "prompt_tokens")), count(get(p, "completion_tokens"))
    if inputs is None and outputs is None:
        return None
    cached = count(get(get(p, "prompt_tokens_details"), "cached_tokens"))
    if cached is None:
        cached = count(get(p, "prompt_cache_hit_tokens"))  # DeepSeek
    return Usage(
        input_tokens=inputs,
        output_tokens=outputs,
        cache_read_input_tokens=cached,
        reasoning_output_tokens=count(get(get(p, "completion_tokens_details"), "reasoning_tokens")),
    )


def _input_output(p: Any) -> Usage | None:
    """``input_tokens``/``output_tokens``: Anthropic, OpenAI Responses, LangChain."""
    inputs, outputs = count(get(p, "input_tokens")), count(get(p, "output_tokens"))
    if inputs is None and outputs is None:
        return None
    read = count(get(p, "cache_read_input_tokens"))
    write = count(get(p, "cache_creation_input_tokens"))
    breakdown = _ttl_writes(get(p, "cache_creation"))
    if read is not None or write is not None or breakdown is not None:
        # Anthropic: input_tokens counts only what came after the last cache breakpoint.
        if not write and breakdown:
            write = breakdown
        return Usage(
            input_tokens=_total(inputs, read, write),
            output_tokens=outputs,
            cache_read_input_tokens=read,
            cache_creation_input_tokens=write,
            reasoning_output_tokens=count(get(get(p, "output_tokens_details"), "thinking_tokens")),
        )
    details = get(p, "input_token_details")  # LangChain: already the conventions' meaning
    out_details = get(p, "output_token_details")
    if details is not None or out_details is not None:
        write = count(get(details, "cache_creation"))
        breakdown = _ttl_writes(details)
        if not write and breakdown:
            write = breakdown  # langchain-anthropic moves writes to the TTL keys, leaves 0
        return Usage(
            input_tokens=inputs,
            output_tokens=outputs,
            cache_read_input_tokens=count(get(details, "cache_read")),
            cache_creation_input_tokens=write,
            reasoning_output_tokens=count(get(out_details, "reasoning")),
        )
    return Usage(  # OpenAI Responses, or Anthropic without caching
        input_tokens=inputs,
        output_tokens=outputs,
        cache_read_input_tokens=count(get(get(p, "input_tokens_details"), "cached_tokens")),
        reasoning_output_tokens=first_count(
            get(p, "output_tokens_details"), ("reasoning_tokens", "thinking_tokens")
        ),
    )


def _ttl_writes(breakdown: Any) -> int | None:
    """Anthropic's cache writes by time-to-live, summed."""
    return _total(*(count(get(breakdown, key)) for key in _TTL_WRITES))
