"""semtrace.normalize.usage: every provider's usage shape, in the conventions' meaning.

Payloads are shaped as each provider documents its wire format (and as the SDKs dump it).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from semtrace import normalize
from semtrace.cost import PriceTable
from semtrace.records import Usage

CASES = [
    pytest.param(
        {
            "prompt_tokens": 1142,
            "completion_tokens": 19,
            "prompt_tokens_details": {"cached_tokens": 1024},
            "completion_tokens_details": {"reasoning_tokens": 12},
        },
        Usage(1142, 19, cache_read_input_tokens=1024, reasoning_output_tokens=12),
        id="openai-chat-already-inclusive",
    ),
    pytest.param(
        {
            "input_tokens": 1142,
            "output_tokens": 19,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens_details": {"reasoning_tokens": 12},
        },
        Usage(1142, 19, cache_read_input_tokens=1024, reasoning_output_tokens=12),
        id="openai-responses",
    ),
    pytest.param(
        {"input_tokens": 41, "output_tokens": 9},
        Usage(41, 9),
        id="anthropic-no-cache",
    ),
    pytest.param(
        {
            "input_tokens": 41,
            "cache_read_input_tokens": 1024,
            "cache_creation_input_tokens": 77,
            "output_tokens": 9,
        },
        Usage(1142, 9, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
        id="anthropic-cache-summed-into-input",
    ),
    pytest.param(
        {
            "input_tokens": 41,
            "cache_read_input_tokens": 1024,
            "cache_creation_input_tokens": 77,
            "cache_creation": {"ephemeral_5m_input_tokens": 70, "ephemeral_1h_input_tokens": 7},
            "output_tokens": 9,
        },
        Usage(1142, 9, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
        id="anthropic-ttl-breakdown-not-counted-twice",
    ),
    pytest.param(
        {
            "input_tokens": 41,
            "cache_read_input_tokens": 1024,
            "cache_creation_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 70, "ephemeral_1h_input_tokens": 7},
            "output_tokens": 9,
        },
        Usage(1142, 9, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
        id="anthropic-writes-only-in-ttl-breakdown",
    ),
    pytest.param(
        {
            "input_tokens": 1142,
            "output_tokens": 9,
            "total_tokens": 1151,
            "input_token_details": {
                "cache_read": 1024,
                "cache_creation": 0,
                "ephemeral_5m_input_tokens": 77,
                "ephemeral_1h_input_tokens": 0,
            },
        },
        Usage(1142, 9, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
        id="langchain-anthropic-usage-metadata-ttl-keys",
    ),
    pytest.param(
        {
            "input_tokens": 30,
            "output_tokens": 31,
            "total_tokens": 61,
            "output_token_details": {"reasoning": 12},
        },
        Usage(30, 31, reasoning_output_tokens=12),
        id="langchain-usage-metadata-reasoning",
    ),
    pytest.param(
        {
            "promptTokenCount": 1142,
            "candidatesTokenCount": 7,
            "thoughtsTokenCount": 12,
            "cachedContentTokenCount": 1024,
            "totalTokenCount": 1161,
        },
        Usage(1142, 19, cache_read_input_tokens=1024, reasoning_output_tokens=12),
        id="gemini-thoughts-summed-into-output",
    ),
    pytest.param(
        {"prompt_token_count": 8, "candidates_token_count": 2, "thoughts_token_count": 3},
        Usage(8, 5, reasoning_output_tokens=3),
        id="gemini-sdk-snake-case",
    ),
    pytest.param(
        {
            "inputTokens": 41,
            "outputTokens": 7,
            "totalTokens": 1149,
            "cacheReadInputTokens": 1024,
            "cacheWriteInputTokens": 77,
        },
        Usage(1142, 7, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
        id="bedrock-cache-summed-into-input",
    ),
    pytest.param(
        {"model": "llama3.2", "done": True, "prompt_eval_count": 26, "eval_count": 259},
        Usage(26, 259),
        id="ollama-eval-counts",
    ),
    pytest.param(
        {
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "prompt_cache_hit_tokens": 64,
            "prompt_cache_miss_tokens": 36,
        },
        Usage(100, 5, cache_read_input_tokens=64),
        id="deepseek-cache-hits",
    ),
]


@pytest.mark.parametrize(("payload", "expected"), CASES)
def test_usage_is_read_in_the_conventions_meaning(payload: Any, expected: Usage) -> None:
    assert normalize.usage(payload) == expected


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"id": "chatcmpl-1", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}),
        pytest.param(
            SimpleNamespace(usage=SimpleNamespace(prompt_tokens=5, completion_tokens=2)),
            id="sdk-object",
        ),
        pytest.param({"usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}}),
        pytest.param(
            {
                "type": "message_start",
                "message": {"usage": {"input_tokens": 5, "output_tokens": 2}},
            },
            id="anthropic-message-start",
        ),
        pytest.param(
            {"metadata": {"usage": {"inputTokens": 5, "outputTokens": 2}, "metrics": {}}},
            id="bedrock-stream-metadata-event",
        ),
        pytest.param({"token_usage": {"prompt_tokens": 5, "completion_tokens": 2}}),
    ],
)
def test_usage_is_found_inside_a_whole_response(response: Any) -> None:
    found = normalize.usage(response)
    assert found is not None and (found.input_tokens, found.output_tokens) == (5, 2)


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"id": "x"}, "usage", 3, {"prompt_tokens": -1}, {"input_tokens": True}],
)
def test_no_usage_is_none(payload: Any) -> None:
    assert normalize.usage(payload) is None


def test_the_first_payload_that_reports_wins() -> None:
    found = normalize.usage({"choices": []}, {"prompt_tokens": 3, "completion_tokens": 1})
    assert found == Usage(3, 1)


def test_cache_reads_and_writes_are_billed_at_their_own_rates_once() -> None:
    prices = PriceTable.load(
        {"claude-x": {"input": 2.0, "output": 8.0, "cache_read": 0.5, "cache_write": 2.5}},
        include_defaults=False,
    )
    usage = normalize.usage(
        {
            "input_tokens": 41,
            "cache_read_input_tokens": 1024,
            "cache_creation_input_tokens": 77,
            "output_tokens": 7,
        }
    )
    assert usage is not None
    cost = prices.cost("claude-x", "anthropic", usage)
    assert cost is not None
    expected = (41 * 2.0 + 1024 * 0.5 + 77 * 2.5 + 7 * 8.0) / 1_000_000
    assert cost.amount == pytest.approx(expected)


def test_mapping_types_other_than_dict_are_read() -> None:
    from collections import OrderedDict
    from types import MappingProxyType

    raw = OrderedDict(prompt_tokens=4, completion_tokens=1)
    assert normalize.usage(raw) == Usage(4, 1)
    assert normalize.usage(MappingProxyType({"usage": raw})) == Usage(4, 1)
