"""Amazon Bedrock's Converse and ConverseStream APIs.

Wire format per the API reference: ``POST /model/{modelId}/converse`` answers
``{output: {message}, stopReason, usage, metrics}``; ``/converse-stream`` answers an AWS
event stream (``application/vnd.amazon.eventstream``): binary messages, each a prelude
(total and header lengths, CRC32), headers (``:event-type``, ``:content-type``,
``:message-type``), a JSON payload and a CRC32 of the whole message. Events:
``messageStart``, ``contentBlockStart`` (tool use), ``contentBlockDelta``,
``contentBlockStop``, ``messageStop`` (``stopReason``) and ``metadata`` (usage).
``usage.inputTokens`` leaves out ``cacheReadInputTokens`` and ``cacheWriteInputTokens``.
Converse returns no response id and no model. Errors name their kind in
``x-amzn-ErrorType``.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from tests.providers.servers.base import Answer, ProviderServer, Reply, Request

FINISH = {"stop": "end_turn", "length": "max_tokens", "tool_call": "tool_use"}


class BedrockServer(ProviderServer):
    """Bedrock runtime Converse, whole or streamed."""

    def route(self, request: Request) -> Reply:
        """By the path's last part."""
        if request.path.endswith("/converse-stream"):
            messages = [event(name, payload) for name, payload in events(self.answer)]
            return Reply(chunks=messages, content_type="application/vnd.amazon.eventstream")
        return Reply.json(converse(self.answer))

    def error(self, status: int) -> Reply:
        """An AWS JSON error, its kind in ``x-amzn-ErrorType``."""
        kind = "ThrottlingException" if status == 429 else "InternalServerException"
        return Reply.json(
            {"message": f"fake {status}"}, status=status, **{"x-amzn-ErrorType": kind}
        )


def usage(answer: Answer) -> dict[str, Any]:
    """Converse usage: input without the cache counts."""
    fresh = answer.input_tokens - answer.cache_read - answer.cache_write
    out = {
        "inputTokens": fresh,
        "outputTokens": answer.output_tokens,
        "totalTokens": fresh + answer.output_tokens + answer.cache_read + answer.cache_write,
    }
    if answer.cache_read or answer.cache_write:
        out |= {
            "cacheReadInputTokens": answer.cache_read,
            "cacheWriteInputTokens": answer.cache_write,
        }
    return out


def _content(answer: Answer) -> list[dict[str, Any]]:
    if answer.tool:
        tool = answer.tool
        return [{"toolUse": {"toolUseId": tool.id, "name": tool.name, "input": tool.arguments}}]
    return [{"text": answer.text}]


def converse(answer: Answer) -> dict[str, Any]:
    """A whole Converse response."""
    return {
        "output": {"message": {"role": "assistant", "content": _content(answer)}},
        "stopReason": FINISH[answer.finish],
        "usage": usage(answer),
        "metrics": {"latencyMs": 120},
    }


def events(answer: Answer) -> list[tuple[str, dict[str, Any]]]:
    """The ConverseStream events, in order."""
    out: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    if answer.tool:
        tool = answer.tool
        start = {"toolUse": {"toolUseId": tool.id, "name": tool.name}}
        out.append(("contentBlockStart", {"start": start, "contentBlockIndex": 0}))
        delta = {"toolUse": {"input": json.dumps(tool.arguments)}}
        out.append(("contentBlockDelta", {"delta": delta, "contentBlockIndex": 0}))
    else:
        for piece in answer.pieces():
            out.append(("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0}))
    out.append(("contentBlockStop", {"contentBlockIndex": 0}))
    out.append(("messageStop", {"stopReason": FINISH[answer.finish]}))
    out.append(("metadata", {"usage": usage(answer), "metrics": {"latencyMs": 120}}))
    return out


def event(name: str, payload: dict[str, Any]) -> bytes:
    """One event-stream message: prelude, prelude CRC, headers, payload, message CRC."""
    headers = b"".join(
        _header(k, v)
        for k, v in (
            (":event-type", name),
            (":content-type", "application/json"),
            (":message-type", "event"),
        )
    )
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude))
    message = head + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    # type 7: a string, with a two-byte length
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", 7, len(raw_value))
        + raw_value
    )
