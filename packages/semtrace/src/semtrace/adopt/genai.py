"""Spans in the OpenTelemetry GenAI conventions as the core's records.

What the official instrumentations (``opentelemetry-instrumentation-genai-*``), PydanticAI,
and recent OpenLLMetry write: ``gen_ai.operation.name``, the request and usage attributes,
content as ``gen_ai.input.messages`` / ``gen_ai.output.messages`` /
``gen_ai.system_instructions`` (on the span, or on its
``gen_ai.client.inference.operation.details`` event), and the older forms: one event per
message (``gen_ai.user.message``, ``gen_ai.choice``, ...) carrying a ``content`` attribute.
Retrievals carry ``gen_ai.retrieval.query.text`` and ``gen_ai.retrieval.documents``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from semtrace import semconv
from semtrace.adopt.spans import (
    Translated,
    answer_text,
    error_of,
    genai_messages,
    instructions,
    loads,
    plain,
    text,
    usage,
    value_end,
)
from semtrace.records import (
    AgentStart,
    Document,
    Message,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    ToolStart,
    WorkflowStart,
)

MODEL_OPERATIONS = frozenset({semconv.OP_CHAT, semconv.OP_TEXT_COMPLETION, "generate_content"})
RETRIEVAL_OPERATIONS = frozenset({semconv.OP_RETRIEVAL, "retrieve"})


def translate(span: ReadableSpan) -> Translated | None:
    """The records of a span in the GenAI conventions; None for any other span."""
    attributes = span.attributes or {}
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if operation in MODEL_OPERATIONS:
        return model(span, attributes)
    if operation in RETRIEVAL_OPERATIONS:
        return retrieval(span, attributes)
    if operation == semconv.OP_EXECUTE_TOOL:
        name = text(attributes, semconv.GEN_AI_TOOL_NAME) or span.name
        start = ToolStart(
            name,
            call_id=text(attributes, semconv.GEN_AI_TOOL_CALL_ID),
            arguments=attributes.get(semconv.GEN_AI_TOOL_CALL_ARGUMENTS),
        )
        return Translated(
            start, value_end(attributes.get(semconv.GEN_AI_TOOL_CALL_RESULT)), error_of(span)
        )
    if operation in (semconv.OP_INVOKE_AGENT, "create_agent"):
        name = text(attributes, semconv.GEN_AI_AGENT_NAME) or span.name
        return Translated(AgentStart(name), value_end(_final_output(attributes)), error_of(span))
    if operation == semconv.OP_INVOKE_WORKFLOW:
        name = text(attributes, semconv.GEN_AI_WORKFLOW_NAME) or span.name
        return Translated(WorkflowStart(name), value_end(_final_output(attributes)), error_of(span))
    return None


def model(span: ReadableSpan, attributes: Mapping[str, Any]) -> Translated:
    """A chat or completion call: its messages, answer, usage and finish reasons."""
    inputs, outputs = _content(span, attributes)
    operation = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    start = ModelStart(
        provider=text(attributes, semconv.GEN_AI_PROVIDER_NAME)
        or text(attributes, semconv.FOREIGN_GEN_AI_SYSTEM)
        or "unknown",
        model=text(attributes, semconv.GEN_AI_REQUEST_MODEL),
        messages=inputs,
        operation=semconv.OP_TEXT_COMPLETION
        if operation == semconv.OP_TEXT_COMPLETION
        else semconv.OP_CHAT,
    )
    reasons = attributes.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS) or ()
    end = ModelEnd(
        output=outputs,
        usage=usage(
            attributes,
            (semconv.GEN_AI_USAGE_INPUT_TOKENS, semconv.FOREIGN_GEN_AI_USAGE_PROMPT_TOKENS),
            (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, semconv.FOREIGN_GEN_AI_USAGE_COMPLETION_TOKENS),
        ),
        response_model=text(attributes, semconv.GEN_AI_RESPONSE_MODEL),
        response_id=text(attributes, semconv.GEN_AI_RESPONSE_ID),
        finish_reasons=tuple(str(r) for r in reasons)
        if not isinstance(reasons, str)
        else (reasons,),
    )
    return Translated(start, end, error_of(span))


def retrieval(span: ReadableSpan, attributes: Mapping[str, Any]) -> Translated:
    """A retrieval: its query and the documents it found (their text only if captured)."""
    found = loads(attributes.get(semconv.GEN_AI_RETRIEVAL_DOCUMENTS))
    documents = (
        [_document(d) for d in found if isinstance(d, dict)] if isinstance(found, list) else []
    )
    query = text(attributes, semconv.GEN_AI_RETRIEVAL_QUERY_TEXT) or ""
    return Translated(RetrievalStart(query), RetrievalEnd(documents), error_of(span))


def has_content(span: ReadableSpan) -> bool:
    """Whether a model span carries its messages (the signals have nothing to read otherwise)."""
    inputs, outputs = _content(span, span.attributes or {})
    return bool(inputs or outputs)


def _content(
    span: ReadableSpan, attributes: Mapping[str, Any]
) -> tuple[list[Message], list[Message]]:
    """Input and output messages: span attributes, else the details event, else old events."""
    for source in (attributes, *_details_events(span)):
        inputs = instructions(source.get(semconv.GEN_AI_SYSTEM_INSTRUCTIONS)) + genai_messages(
            source.get(semconv.GEN_AI_INPUT_MESSAGES)
        )
        outputs = genai_messages(source.get(semconv.GEN_AI_OUTPUT_MESSAGES))
        if inputs or outputs:
            return inputs, outputs
    return _old_events(span)


def _details_events(span: ReadableSpan) -> list[Mapping[str, Any]]:
    return [
        e.attributes
        for e in span.events
        if e.name == semconv.EVENT_INFERENCE_DETAILS and e.attributes is not None
    ]


def _old_events(span: ReadableSpan) -> tuple[list[Message], list[Message]]:
    """The conventions' first content events: one per message, ``content`` as an attribute."""
    inputs: list[Message] = []
    outputs: list[Message] = []
    for event in span.events:
        attrs = event.attributes or {}
        role = semconv.FOREIGN_MESSAGE_EVENTS.get(event.name)
        if role is not None:
            inputs += plain(role, _event_text(attrs.get("content")))
        elif event.name == semconv.FOREIGN_CHOICE_EVENT:
            message = loads(attrs.get("message"))
            content = message.get("content") if isinstance(message, dict) else attrs.get("content")
            outputs += plain("assistant", _event_text(content))
    return inputs, outputs


def _event_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _document(item: dict[str, Any]) -> Document:
    content = item.get("content")
    score = item.get("score")
    return Document(
        content=content if isinstance(content, str) else "",
        id=str(item["id"]) if item.get("id") is not None else None,
        score=float(score) if isinstance(score, (int, float)) else None,
    )


def _final_output(attributes: Mapping[str, Any]) -> Any:
    """An agent's or workflow's answer, where the span carries one."""
    outputs = genai_messages(attributes.get(semconv.GEN_AI_OUTPUT_MESSAGES))
    if outputs:
        return answer_text(outputs)
    return None
