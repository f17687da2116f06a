"""Anthropic's Messages API.

Wire format per the API reference: ``POST /v1/messages`` answers a ``message`` object; with
``"stream": true``, server-sent events ``message_start`` (id, model, usage so far),
``content_block_start`` / ``content_block_delta`` / ``content_block_stop``, ``message_delta``
(``stop_reason`` and cumulative usage) and ``message_stop``. ``usage.input_tokens`` leaves
out ``cache_read_input_tokens`` and ``cache_creation_input_tokens``; ``usage.cache_creation``
splits the writes by cache TTL. There is no stream without usage.
"""

from __future__ import annotations

import json
from typing import Any

from tests.providers.servers.base import Answer, ProviderServer, Reply, Request, sse

FINISH = {"stop": "end_turn", "length": "max_tokens", "tool_call": "tool_use"}


class AnthropicServer(ProviderServer):
    """Anthropic Messages."""

    def route(self, request: Request) -> Reply:
        """A message, whole or streamed."""
        if request.json.get("stream"):
            stream = events(self.answer)
            if self.stream_error:  # documented: an `error` event, e.g. overloaded_error
                error = {"type": "overloaded_error", "message": "Overloaded"}
                stream = [*stream[:4], ("error", {"type": "error", "error": error})]
            return Reply(chunks=sse(stream), content_type="text/event-stream")
        return Reply.json(message(self.answer), **{"request-id": "req_1"})

    def error(self, status: int) -> Reply:
        """Anthropic's error object."""
        kind = "rate_limit_error" if status == 429 else "api_error"
        return Reply.json(
            {"type": "error", "error": {"type": kind, "message": f"fake {status}"}}, status=status
        )


def usage(answer: Answer, output_tokens: int | None = None) -> dict[str, Any]:
    """Anthropic's usage: input without the cache counts, writes split by TTL."""
    return {
        "input_tokens": answer.input_tokens - answer.cache_read - answer.cache_write,
        "cache_creation_input_tokens": answer.cache_write,
        "cache_read_input_tokens": answer.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": answer.cache_write,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": answer.output_tokens if output_tokens is None else output_tokens,
        "service_tier": "standard",
    }


def _content(answer: Answer) -> list[dict[str, Any]]:
    if answer.tool:
        tool = answer.tool
        return [{"type": "tool_use", "id": tool.id, "name": tool.name, "input": tool.arguments}]
    return [{"type": "text", "text": answer.text}]


def message(answer: Answer) -> dict[str, Any]:
    """A whole ``message``."""
    return {
        "id": answer.id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": _content(answer),
        "stop_reason": FINISH[answer.finish],
        "stop_sequence": None,
        "usage": usage(answer),
    }


def events(answer: Answer) -> list[tuple[str, dict[str, Any]]]:
    """The stream's events, in order."""
    start = {**message(answer), "content": [], "stop_reason": None, "usage": usage(answer, 1)}
    out: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    if answer.tool:
        block = {**_content(answer)[0], "input": {}}
        args = json.dumps(answer.tool.arguments)
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in (args[:5], args[5:])]
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in answer.pieces()]
    out.append(
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
    )
    out.append(("ping", {"type": "ping"}))
    out += [
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": d})
        for d in deltas
    ]
    out.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    delta = {"stop_reason": FINISH[answer.finish], "stop_sequence": None}
    out.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage(answer)}))
    out.append(("message_stop", {"type": "message_stop"}))
    return out
