"""Mistral's chat completions API.

Wire format per the API reference: ``POST /v1/chat/completions``, OpenAI-like, with usage
``prompt_tokens`` / ``completion_tokens`` / ``total_tokens``. A stream
(``"stream": true``) is server-sent ``chat.completion.chunk`` events; the last one carries
both the finish reason and the usage, then ``data: [DONE]``. So there is no stream without
usage. Errors are ``{"object": "error", "message": ..., "type": ...}``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.providers.servers.base import Answer, ProviderServer, Reply, Request, sse

FINISH = {"stop": "stop", "length": "length", "tool_call": "tool_calls"}
CREATED = 1_700_000_000


class MistralServer(ProviderServer):
    """Mistral chat completions."""

    def route(self, request: Request) -> Reply:
        """A completion, whole or streamed."""
        if request.json.get("stream"):
            return Reply(
                chunks=[*sse((None, c) for c in chunks(self.answer)), b"data: [DONE]\n\n"],
                content_type="text/event-stream",
            )
        return Reply.json(completion(self.answer))

    def error(self, status: int) -> Reply:
        """Mistral's error object."""
        kind = "rate_limited" if status == 429 else "internal_server_error"
        payload = {
            "object": "error",
            "message": f"fake {status}",
            "type": kind,
            "param": None,
            "code": None,
        }
        return Reply.json(payload, status=status)


def usage(answer: Answer) -> dict[str, Any]:
    """Mistral's usage object."""
    total = answer.input_tokens + answer.output_tokens
    return {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": total,
    }


def _message(answer: Answer) -> dict[str, Any]:
    if answer.tool:
        call = {
            "id": answer.tool.id[:9],  # Mistral's tool call ids are 9 characters
            "type": "function",
            "function": {"name": answer.tool.name, "arguments": json.dumps(answer.tool.arguments)},
        }
        return {"role": "assistant", "content": "", "tool_calls": [call]}
    return {"role": "assistant", "content": answer.text, "tool_calls": None}


def completion(answer: Answer) -> dict[str, Any]:
    """A whole completion."""
    choice = {"index": 0, "message": _message(answer), "finish_reason": FINISH[answer.finish]}
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": CREATED,
        "model": answer.model,
        "choices": [choice],
        "usage": usage(answer),
    }


def chunks(answer: Answer) -> list[dict[str, Any]]:
    """The stream: role, words (or the tool call), then finish reason with usage."""
    base = {
        "id": answer.id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": answer.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    out = [chunk({"role": "assistant", "content": ""})]
    if answer.tool:
        out.append(chunk({"tool_calls": _message(answer)["tool_calls"]}))
    else:
        out += [chunk({"content": p}) for p in answer.pieces()]
    last = chunk({"content": ""}, FINISH[answer.finish])
    last["usage"] = usage(answer)
    out.append(last)
    return out
