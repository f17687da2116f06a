"""Spans in OpenInference's conventions (Arize Phoenix's instrumentations) as records.

``openinference.span.kind`` says what a span is: ``LLM`` (messages flattened as
``llm.input_messages.{i}.message.role`` / ``.content``, ``llm.model_name``,
``llm.token_count.*``), ``RETRIEVER`` (``input.value`` is the query,
``retrieval.documents.{i}.document.content`` / ``.id`` / ``.score`` what it found),
``TOOL``, ``AGENT``, ``CHAIN`` (``input.value`` / ``output.value``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan

from semtrace.adopt.spans import (
    MAX_TEXT,
    Translated,
    error_of,
    loads,
    number,
    plain,
    text,
    value_end,
)
from semtrace.records import (
    AgentStart,
    Document,
    Message,
    ModelEnd,
    ModelStart,
    Part,
    RetrievalEnd,
    RetrievalStart,
    TextPart,
    ToolCallPart,
    ToolStart,
    Usage,
    WorkflowStart,
)

SPAN_KIND: Final = "openinference.span.kind"
#: Most flattened messages or documents read from one span.
MAX_ITEMS: Final = 256


def translate(span: ReadableSpan, is_root: bool = False) -> Translated | None:
    """The records of an OpenInference span; None for a span the signals do not read.

    A ``CHAIN`` is plumbing (a prompt template, a parser) unless it is the trace's root.
    """
    attributes = span.attributes or {}
    kind = attributes.get(SPAN_KIND)
    error = error_of(span)
    if kind == "LLM":
        return _model(attributes, error)
    if kind == "RETRIEVER":
        documents = _documents(attributes)
        if not documents and _found_some(attributes):
            return None  # a wrapper around the retriever that recorded them (LlamaIndex's)
        query = text(attributes, "input.value") or ""
        return Translated(RetrievalStart(query), RetrievalEnd(documents), error)
    if kind == "TOOL":
        name = text(attributes, "tool.name") or span.name
        start = ToolStart(
            name, arguments=attributes.get("tool.parameters") or attributes.get("input.value")
        )
        return Translated(start, value_end(attributes.get("output.value")), error)
    if kind == "AGENT":
        return Translated(AgentStart(span.name), value_end(attributes.get("output.value")), error)
    if kind == "CHAIN" and is_root:
        return Translated(
            WorkflowStart(span.name), value_end(attributes.get("output.value")), error
        )
    return None


def _model(attributes: Mapping[str, Any], error: BaseException | None) -> Translated:
    inputs = _messages(attributes, "llm.input_messages") or _prompts(attributes)
    outputs = _messages(attributes, "llm.output_messages")
    if not outputs and attributes.get("output.mime_type") != "application/json":
        outputs = plain("assistant", text(attributes, "output.value"))
    start = ModelStart(
        provider=text(attributes, "llm.provider") or text(attributes, "llm.system") or "unknown",
        model=text(attributes, "llm.model_name"),
        messages=inputs,
    )
    usage = Usage(
        number(attributes, "llm.token_count.prompt"),
        number(attributes, "llm.token_count.completion"),
        cache_read_input_tokens=number(attributes, "llm.token_count.prompt_details.cache_read"),
    )
    return Translated(start, ModelEnd(output=outputs, usage=usage), error)


def _messages(attributes: Mapping[str, Any], prefix: str) -> list[Message]:
    out = []
    for i in range(MAX_ITEMS):
        base = f"{prefix}.{i}.message."
        role = text(attributes, base + "role")
        if role is None:
            break
        parts: list[Part] = []
        content = text(attributes, base + "content")
        if content:
            parts.append(TextPart(content))
        for j in range(MAX_ITEMS):
            part = text(attributes, f"{base}contents.{j}.message_content.text")
            if part is None:
                break
            parts.append(TextPart(part))
        for j in range(MAX_ITEMS):
            name = text(attributes, f"{base}tool_calls.{j}.tool_call.function.name")
            if name is None:
                break
            arguments = attributes.get(f"{base}tool_calls.{j}.tool_call.function.arguments")
            call_id = text(attributes, f"{base}tool_calls.{j}.tool_call.id")
            parts.append(ToolCallPart(name, call_id, arguments))
        out.append(Message(role, parts))
    return out


def _prompts(attributes: Mapping[str, Any]) -> list[Message]:
    """A completion call's prompts (``llm.prompts``), else its plain input."""
    prompts = attributes.get("llm.prompts")
    if isinstance(prompts, (list, tuple)) and prompts:
        return [m for p in prompts if isinstance(p, str) for m in plain("user", p[:MAX_TEXT])]
    return plain("user", text(attributes, "input.value"))


def _found_some(attributes: Mapping[str, Any]) -> bool:
    """Whether a retriever's output lists something, though not as documents."""
    found = loads(attributes.get("output.value"))
    return isinstance(found, list) and bool(found)


def _documents(attributes: Mapping[str, Any]) -> list[Document]:
    out = []
    for i in range(MAX_ITEMS):
        base = f"retrieval.documents.{i}.document."
        content, doc_id = text(attributes, base + "content"), attributes.get(base + "id")
        if content is None and doc_id is None:
            break
        score = attributes.get(base + "score")
        out.append(
            Document(
                content=content or "",
                id=str(doc_id) if doc_id is not None else None,
                score=float(score) if isinstance(score, (int, float)) else None,
            )
        )
    return out
