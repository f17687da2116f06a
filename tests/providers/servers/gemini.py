"""The Gemini API's ``generateContent`` and ``streamGenerateContent``.

``GET /v1beta/models/{model}`` (``models.get``) answers the model's description.

Wire format per the API reference: ``POST /v1beta/models/{model}:generateContent`` answers a
``GenerateContentResponse`` (``candidates[].finishReason`` such as ``STOP`` or
``MAX_TOKENS``, ``usageMetadata``, ``modelVersion``, ``responseId``);
``:streamGenerateContent?alt=sse`` sends the same objects as server-sent events, the last
one with the finish reason. ``promptTokenCount`` includes ``cachedContentTokenCount``;
``candidatesTokenCount`` leaves out ``thoughtsTokenCount``. A tool call is a
``functionCall`` part with finish reason ``STOP``.
"""

from __future__ import annotations

from typing import Any

from tests.providers.servers.base import Answer, ProviderServer, Reply, Request, sse

FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_call": "STOP"}


class GeminiServer(ProviderServer):
    """Gemini generateContent, whole or streamed."""

    def route(self, request: Request) -> Reply:
        """By the method after the colon; ``GET .../models/{model}`` describes the model."""
        if request.method == "GET":
            return Reply.json(model_info(request.path.rsplit("/", 1)[-1]))
        if request.path.endswith(":streamGenerateContent"):
            return Reply(
                chunks=sse((None, c) for c in chunks(self.answer)), content_type="text/event-stream"
            )
        return Reply.json(response(self.answer, self.answer.text, final=True))

    def error(self, status: int) -> Reply:
        """Google's error object."""
        code = "RESOURCE_EXHAUSTED" if status == 429 else "INTERNAL"
        return Reply.json(
            {"error": {"code": status, "message": f"fake {status}", "status": code}}, status=status
        )


def usage(answer: Answer, final: bool) -> dict[str, Any]:
    """``usageMetadata``: thoughts apart from candidates, cached reads inside the prompt count."""
    out = answer.output_tokens - answer.reasoning
    meta: dict[str, Any] = {
        "promptTokenCount": answer.input_tokens,
        "candidatesTokenCount": out if final else 1,
        "totalTokenCount": answer.input_tokens + (answer.output_tokens if final else 1),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": answer.input_tokens}],
    }
    if answer.reasoning:
        meta["thoughtsTokenCount"] = answer.reasoning
    if answer.cache_read:
        meta["cachedContentTokenCount"] = answer.cache_read
    return meta


def response(answer: Answer, text: str, final: bool) -> dict[str, Any]:
    """One ``GenerateContentResponse``."""
    parts: list[dict[str, Any]] = [{"text": text}]
    if answer.tool and final:
        parts = [{"functionCall": {"name": answer.tool.name, "args": answer.tool.arguments}}]
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if final:
        candidate["finishReason"] = FINISH[answer.finish]
    return {
        "candidates": [candidate],
        "usageMetadata": usage(answer, final),
        "modelVersion": answer.model,
        "responseId": answer.id,
    }


def chunks(answer: Answer) -> list[dict[str, Any]]:
    """The stream: a response per word, the last with the finish reason and final usage."""
    if answer.tool:
        return [response(answer, "", final=True)]
    pieces = answer.pieces()
    out = [response(answer, p, final=False) for p in pieces[:-1]]
    out.append(response(answer, pieces[-1], final=True))
    return out


def model_info(model: str) -> dict[str, Any]:
    """``models.get``: what llama-index-llms-google-genai asks for when it is built."""
    return {
        "name": f"models/{model}",
        "displayName": model,
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
