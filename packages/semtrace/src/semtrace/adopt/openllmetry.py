"""Spans of OpenLLMetry (Traceloop's instrumentations) as records.

Recent versions write the GenAI conventions' messages (:mod:`.genai` reads those); older
ones flatten them (``gen_ai.prompt.{i}.role`` / ``.content``, ``gen_ai.completion.{i}.*``),
and both mark their spans with ``traceloop.span.kind`` (``workflow``, ``task``, ``agent``,
``tool``) and carry a run's input and output as JSON in ``traceloop.entity.input`` /
``traceloop.entity.output``. A retriever is a ``task`` whose output holds ``documents``.
A LangChain model's name, when the span says ``unknown``, is in
``traceloop.association.properties.ls_model_name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan

from semtrace import semconv
from semtrace.adopt import genai
from semtrace.adopt.spans import Translated, error_of, loads, text, value_end
from semtrace.records import (
    AgentStart,
    Document,
    Message,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    TextPart,
    ToolStart,
    WorkflowStart,
)

TRACELOOP: Final = "traceloop."
SPAN_KIND: Final = "traceloop.span.kind"
ENTITY_NAME: Final = "traceloop.entity.name"
ENTITY_INPUT: Final = "traceloop.entity.input"
ENTITY_OUTPUT: Final = "traceloop.entity.output"
MODEL_NAME: Final = "traceloop.association.properties.ls_model_name"
REQUEST_TYPE: Final = "llm.request.type"
MAX_ITEMS: Final = 256


def is_openllmetry(span: ReadableSpan) -> bool:
    """Whether OpenLLMetry made ``span``."""
    attributes = span.attributes or {}
    if REQUEST_TYPE in attributes or semconv.FOREIGN_GEN_AI_PROMPT_PREFIX + "0.role" in attributes:
        return True
    return any(key.startswith(TRACELOOP) for key in attributes)


def translate(span: ReadableSpan, is_root: bool = False) -> Translated | None:
    """The records of an OpenLLMetry span; None for plumbing."""
    attributes = span.attributes or {}
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if operation in genai.MODEL_OPERATIONS or attributes.get(REQUEST_TYPE) in (
        "chat",
        "completion",
    ):
        return _model(span, attributes)
    kind = attributes.get(SPAN_KIND)
    error = error_of(span)
    found_in = loads(attributes.get(ENTITY_INPUT))
    found_out = loads(attributes.get(ENTITY_OUTPUT))
    if isinstance(found_out, dict) and isinstance(found_out.get("documents"), list):
        query = found_in.get("query") if isinstance(found_in, dict) else None
        documents = [
            _document(d) for d in found_out["documents"][:MAX_ITEMS] if isinstance(d, dict)
        ]
        return Translated(RetrievalStart(str(query or "")), RetrievalEnd(documents), error)
    output = found_out.get("outputs") if isinstance(found_out, dict) else None
    if kind == "tool" or operation == semconv.OP_EXECUTE_TOOL:
        name = text(attributes, semconv.GEN_AI_TOOL_NAME) or text(attributes, ENTITY_NAME)
        # The input holds the call's arguments and LangGraph's step metadata: the
        # arguments alone, so that a repeated call reads as one.
        arguments = found_in.get("input_str", found_in) if isinstance(found_in, dict) else None
        return Translated(
            ToolStart(name or span.name, arguments=arguments), value_end(output), error
        )
    if kind == "agent":
        return Translated(AgentStart(span.name), value_end(output), error)
    if kind == "workflow" and is_root:
        return Translated(WorkflowStart(span.name), value_end(output), error)
    return None


def _model(span: ReadableSpan, attributes: Mapping[str, Any]) -> Translated:
    found = genai.model(span, attributes)
    start = found.start
    assert isinstance(start, ModelStart)
    inputs = list(start.messages) or _flattened(attributes, semconv.FOREIGN_GEN_AI_PROMPT_PREFIX)
    model = start.model if start.model not in (None, "unknown") else text(attributes, MODEL_NAME)
    provider = start.provider
    if provider == "langchain":  # the framework, not the provider: the ls_ hint says which
        provider = text(attributes, "traceloop.association.properties.ls_provider") or provider
    end = found.end
    if isinstance(end, ModelEnd):
        output = end.output or _flattened(attributes, semconv.FOREIGN_GEN_AI_COMPLETION_PREFIX)
        known = end.response_model if end.response_model != "unknown" else None
        end = replace(end, output=output, response_model=known)
    new_start = ModelStart(
        provider=provider, model=model, messages=inputs, operation=start.operation
    )
    return Translated(new_start, end, found.error)


def _flattened(attributes: Mapping[str, Any], prefix: str) -> list[Message]:
    out = []
    for i in range(MAX_ITEMS):
        role = text(attributes, f"{prefix}{i}.role")
        content = text(attributes, f"{prefix}{i}.content")
        if role is None and content is None:
            break
        reason = text(attributes, f"{prefix}{i}.finish_reason")
        parts = [TextPart(content)] if content else []
        out.append(Message(role or "user", parts, finish_reason=reason))  # type: ignore[arg-type]
    return out


def _document(item: dict[str, Any]) -> Document:
    content = item.get("page_content")
    return Document(content=content if isinstance(content, str) else "")
