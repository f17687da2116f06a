"""semtrace.normalize.StreamSummary: a stream's facts from whichever chunk carries them.

Each case is a provider's documented stream, chunk by chunk.
"""

from __future__ import annotations

from typing import Any

import pytest
from semtrace.normalize import StreamSummary
from semtrace.records import Message, ModelEnd, TextPart, Usage

OPENAI_WITH_USAGE = [
    {"id": "chatcmpl-1", "model": "gpt-4o-mini", "choices": [{"delta": {"content": "Pa"}}]},
    {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini",
        "choices": [{"delta": {}, "finish_reason": "length"}],
    },
    {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini",
        "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3},
    },
]
ANTHROPIC = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "model": "claude-3-5-haiku-20241022",
            "usage": {
                "input_tokens": 41,
                "cache_read_input_tokens": 1024,
                "cache_creation_input_tokens": 77,
                "output_tokens": 1,
            },
        },
    },
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Pa"}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
    {"type": "message_stop"},
]
GEMINI = [
    {"candidates": [{"content": {"parts": [{"text": "Pa"}]}}], "responseId": "r-1"},
    {
        "candidates": [{"content": {"parts": [{"text": "ris"}]}, "finishReason": "MAX_TOKENS"}],
        "usageMetadata": {
            "promptTokenCount": 8,
            "candidatesTokenCount": 2,
            "thoughtsTokenCount": 4,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r-1",
    },
]
OLLAMA = [
    {"model": "llama3.2", "message": {"role": "assistant", "content": "Pa"}, "done": False},
    {
        "model": "llama3.2",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 26,
        "eval_count": 4,
    },
]
BEDROCK = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "Pa"}, "contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "max_tokens"}},
    {
        "metadata": {
            "usage": {
                "inputTokens": 41,
                "outputTokens": 7,
                "cacheReadInputTokens": 1024,
                "cacheWriteInputTokens": 77,
            },
            "metrics": {"latencyMs": 100},
        }
    },
]


@pytest.mark.parametrize(
    ("chunks", "finish", "usage", "response_id", "model"),
    [
        pytest.param(
            OPENAI_WITH_USAGE, "length", Usage(12, 3), "chatcmpl-1", "gpt-4o-mini", id="openai"
        ),
        pytest.param(
            ANTHROPIC,
            "stop",
            Usage(1142, 9, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
            "msg_1",
            "claude-3-5-haiku-20241022",
            id="anthropic",
        ),
        pytest.param(
            GEMINI,
            "length",
            Usage(8, 6, reasoning_output_tokens=4),
            "r-1",
            "gemini-2.5-flash",
            id="gemini",
        ),
        pytest.param(OLLAMA, "stop", Usage(26, 4), None, "llama3.2", id="ollama"),
        pytest.param(
            BEDROCK,
            "length",
            Usage(1142, 7, cache_read_input_tokens=1024, cache_creation_input_tokens=77),
            None,
            None,
            id="bedrock",
        ),
    ],
)
def test_stream_facts_come_from_whichever_chunk_carries_them(
    chunks: list[Any], finish: str, usage: Usage, response_id: Any, model: Any
) -> None:
    summary = StreamSummary()
    for chunk in chunks:
        summary.add(chunk)
    assert summary.finish_reason == finish
    assert summary.usage == usage
    assert summary.response_id == response_id
    assert summary.response_model == model


def test_fill_adds_what_the_last_chunk_lacks_and_keeps_what_it_has() -> None:
    summary = StreamSummary()
    for chunk in OPENAI_WITH_USAGE:
        summary.add(chunk)
    end = ModelEnd(
        output=[Message("assistant", [TextPart("Pa")])],
        usage=None,
        response_model="gpt-4o-mini-2024-07-18",
    )
    summary.fill(end)
    assert list(end.finish_reasons) == ["length"]
    assert end.output[0].finish_reason == "length"
    assert end.usage == Usage(12, 3)
    assert end.response_model == "gpt-4o-mini-2024-07-18"
    assert end.response_id == "chatcmpl-1"
