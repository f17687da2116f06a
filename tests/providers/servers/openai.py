"""OpenAI's Chat Completions and Embeddings APIs (and Azure OpenAI's deployment paths).

Wire format per the API reference: ``POST /v1/chat/completions`` answers a
``chat.completion`` object, or with ``"stream": true`` server-sent ``chat.completion.chunk``
events ending in ``data: [DONE]``. With ``stream_options.include_usage`` a last chunk has
``choices: []`` and the usage; the finish reason is in the chunk before it.
``prompt_tokens`` already includes ``prompt_tokens_details.cached_tokens`` and
``completion_tokens`` includes ``completion_tokens_details.reasoning_tokens``.
``POST /v1/embeddings`` answers base64 float32 vectors when ``encoding_format`` is
``base64`` (the openai SDK's default) and float lists otherwise.
Azure: ``/openai/deployments/{deployment}/chat/completions?api-version=...``.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from tests.providers.servers.base import Answer, ProviderServer, Reply, Request, sse

FINISH = {"stop": "stop", "length": "length", "tool_call": "tool_calls"}
CREATED = 1_700_000_000
DIMENSIONS = 4


class OpenAIServer(ProviderServer):
    """OpenAI (and Azure OpenAI) chat completions and embeddings."""

    def route(self, request: Request) -> Reply:
        """Chat completions or embeddings, by path."""
        body = request.json
        if request.path.endswith("/embeddings"):
            return Reply.json(embeddings(self.answer, body))
        if body.get("stream"):
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            stream: list[dict[str, Any]] = chunks(self.answer, include)
            if self.stream_error:  # an error object in place of the next chunk
                error = {"message": "fake server error", "type": "server_error", "code": None}
                stream = [*stream[:3], {"error": error}]
            return Reply(
                chunks=[*sse((None, c) for c in stream), b"data: [DONE]\n\n"],
                content_type="text/event-stream",
            )
        return Reply.json(completion(self.answer), **{"x-request-id": "req_1"})

    def error(self, status: int) -> Reply:
        """OpenAI's error object."""
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        payload = {
            "error": {"message": f"fake {status}", "type": kind, "param": None, "code": kind}
        }
        return Reply.json(payload, status=status)


def usage(answer: Answer) -> dict[str, Any]:
    """OpenAI's usage object: totals already include cached and reasoning tokens."""
    return {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
        "prompt_tokens_details": {"cached_tokens": answer.cache_read, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(answer: Answer) -> list[dict[str, Any]]:
    assert answer.tool is not None
    function = {"name": answer.tool.name, "arguments": json.dumps(answer.tool.arguments)}
    return [{"id": answer.tool.id, "type": "function", "function": function}]


def completion(answer: Answer) -> dict[str, Any]:
    """A whole ``chat.completion``."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.text, "refusal": None}
    if answer.tool:
        message = {"role": "assistant", "content": None, "tool_calls": _tool_calls(answer)}
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": CREATED,
        "model": answer.model,
        "system_fingerprint": "fp_test",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": FINISH[answer.finish],
                "logprobs": None,
            }
        ],
        "usage": usage(answer),
    }


def chunks(answer: Answer, include_usage: bool) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of the same answer."""
    base = {"id": answer.id, "object": "chat.completion.chunk", "created": CREATED}

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {**base, "model": answer.model, "choices": [choice]}

    out = [chunk({"role": "assistant", "content": ""}, None)]
    if answer.tool:
        call = _tool_calls(answer)[0]
        head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        out.append(chunk({"tool_calls": [{"index": 0, **head}]}, None))
        args = call["function"]["arguments"]
        for part in (args[: len(args) // 2], args[len(args) // 2 :]):
            out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}, None))
    else:
        out += [chunk({"content": piece}, None) for piece in answer.pieces()]
    out.append(chunk({}, FINISH[answer.finish]))
    if include_usage:
        out.append({**base, "model": answer.model, "choices": [], "usage": usage(answer)})
    return out


def embeddings(answer: Answer, body: dict[str, Any]) -> dict[str, Any]:
    """An embeddings list, one vector per input, encoded as the request asks."""
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = []
    for i, _ in enumerate(inputs):
        vector = [0.5 + i, -0.25, 0.125, 1.0][:DIMENSIONS]
        encoded: Any = vector
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    total = answer.input_tokens
    return {
        "object": "list",
        "data": data,
        "model": answer.model,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }
