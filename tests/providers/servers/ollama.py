"""Ollama's API: ``/api/chat``, ``/api/show`` and ``/api/embed``.

Wire format per the API docs: ``POST /api/chat`` streams NDJSON by default (``"stream"``
missing or true): message chunks, then a ``done: true`` chunk with ``done_reason``,
``prompt_eval_count``, ``eval_count`` and durations. With ``"stream": false`` one object.
Options such as ``num_predict`` and ``temperature`` come in ``options``. There are no
response ids and no cache counts.
"""

from __future__ import annotations

from typing import Any

from tests.providers.servers.base import Answer, ProviderServer, Reply, Request, ndjson

FINISH = {"stop": "stop", "length": "length", "tool_call": "stop"}
CREATED = "2025-01-01T00:00:00.000000Z"
DIMENSIONS = 3


class OllamaServer(ProviderServer):
    """Ollama chat, show and embed."""

    def route(self, request: Request) -> Reply:
        """By path."""
        body = request.json or {}
        if request.path == "/api/show":
            return Reply.json(show(self.answer))
        if request.path == "/api/embed":
            return Reply.json(embed(self.answer, body))
        if body.get("stream", True):
            return Reply(chunks=ndjson(chunks(self.answer)), content_type="application/x-ndjson")
        return Reply.json(final(self.answer, self.answer.text, with_tools=True))

    def error(self, status: int) -> Reply:
        """Ollama's error object."""
        return Reply.json({"error": f"fake {status}"}, status=status)


def _message(answer: Answer, content: str, with_tools: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if with_tools and answer.tool:
        call = {"function": {"name": answer.tool.name, "arguments": answer.tool.arguments}}
        message = {"role": "assistant", "content": "", "tool_calls": [call]}
    return message


def final(answer: Answer, content: str, with_tools: bool) -> dict[str, Any]:
    """The ``done`` object: the finish reason and the counts."""
    return {
        "model": answer.model,
        "created_at": CREATED,
        "message": _message(answer, content, with_tools),
        "done": True,
        "done_reason": FINISH[answer.finish],
        "total_duration": 5_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": answer.input_tokens,
        "prompt_eval_duration": 1_000_000,
        "eval_count": answer.output_tokens,
        "eval_duration": 2_000_000,
    }


def chunks(answer: Answer) -> list[dict[str, Any]]:
    """The NDJSON stream: a chunk per word (or the tool call), then the ``done`` chunk."""
    out: list[dict[str, Any]] = []
    if answer.tool:
        message = _message(answer, "", with_tools=True)
        out.append(
            {"model": answer.model, "created_at": CREATED, "message": message, "done": False}
        )
    else:
        for piece in answer.pieces():
            message = _message(answer, piece, with_tools=False)
            out.append(
                {"model": answer.model, "created_at": CREATED, "message": message, "done": False}
            )
    out.append(final(answer, "", with_tools=False))
    return out


def show(answer: Answer) -> dict[str, Any]:
    """``/api/show``: the model's details and capabilities."""
    return {
        "modelfile": "FROM llama3.2",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
        "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
        "capabilities": ["completion", "tools"],
    }


def embed(answer: Answer, body: dict[str, Any]) -> dict[str, Any]:
    """``/api/embed``: one vector per input."""
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return {
        "model": answer.model,
        "embeddings": [[0.1 * (i + 1), 0.2, 0.3][:DIMENSIONS] for i, _ in enumerate(inputs)],
        "total_duration": 1_000_000,
        "load_duration": 100_000,
        "prompt_eval_count": answer.input_tokens,
    }
