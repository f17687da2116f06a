"""What a streamed response says, gathered from whichever chunk carries it.

Providers spread the answer's facts over a stream: OpenAI sends the finish reason in
one chunk and (with ``stream_options.include_usage``) the usage in a last chunk with
no choices; Anthropic sends the id, model and input usage in ``message_start`` and the
stop reason and cumulative usage in ``message_delta``; Gemini and Ollama put usage and
the finish reason on the last chunk; Bedrock Converse sends ``messageStop`` then a
``metadata`` event with the usage. A :class:`StreamSummary` is fed every chunk and
keeps the latest of each.

Example:
    >>> s = StreamSummary()
    >>> s.add({"type": "message_start", "message": {"id": "msg_1", "model": "claude-x",
    ...        "usage": {"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 1}}})
    >>> s.add({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
    ...        "usage": {"output_tokens": 7}})
    >>> s.finish_reason, s.usage.input_tokens, s.usage.output_tokens, s.response_id
    ('stop', 100, 7, 'msg_1')
"""

from __future__ import annotations

import dataclasses
from typing import Any

from semtrace.normalize.finish import finish_reason_of
from semtrace.normalize.response import response_id, response_model
from semtrace.normalize.usage import usage as read_usage
from semtrace.records import ModelEnd, Usage


class StreamSummary:
    """The finish reason, usage, response id and model of one stream, chunk by chunk.

    Not thread-safe: one stream's chunks arrive in order, on one thread at a time.
    """

    __slots__ = ("finish_reason", "response_id", "response_model", "usage")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.response_id: str | None = None
        self.response_model: str | None = None

    def add(self, *payloads: Any) -> None:
        """Read one chunk (its raw payload first, then any framework copy of it)."""
        reason = finish_reason_of(*payloads)
        if reason is not None:
            self.finish_reason = reason
        found = read_usage(*payloads)
        if found is not None:
            self.usage = found if self.usage is None else _merge(self.usage, found)
        self.response_id = self.response_id or response_id(*payloads)
        self.response_model = self.response_model or response_model(*payloads)

    def fill(self, end: ModelEnd) -> ModelEnd:
        """``end`` with what it lacks taken from the stream (it wins where it has a value)."""
        if self.finish_reason and not end.finish_reasons:
            end.finish_reasons = [self.finish_reason]
            for message in end.output[-1:]:
                message.finish_reason = message.finish_reason or self.finish_reason
        if self.usage is not None:
            end.usage = self.usage if end.usage is None else _merge(self.usage, end.usage)
        end.response_id = end.response_id or self.response_id
        end.response_model = end.response_model or self.response_model
        return end


def _merge(earlier: Usage, later: Usage) -> Usage:
    """Later counts replace earlier ones (providers' stream counts are cumulative).

    A count the later chunk leaves out keeps its earlier value: Anthropic's
    ``message_delta`` may carry only ``output_tokens`` after ``message_start`` gave the
    input and cache counts. The input total is then made again from its parts.
    """
    merged = dataclasses.replace(earlier)
    for field in dataclasses.fields(Usage):
        value = getattr(later, field.name)
        if value is not None:
            setattr(merged, field.name, value)
    return merged
