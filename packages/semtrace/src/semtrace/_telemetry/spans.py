"""What each record becomes on a span: name, kind and attributes. Pure functions.

One function per record type, named for the GenAI operation it emits:

==================  ======================================  ========
record              span name                               kind
==================  ======================================  ========
WorkflowStart       ``invoke_workflow {name}``              INTERNAL
AgentStart          ``invoke_agent {name}``                 INTERNAL
ModelStart          ``chat {model}`` / ``text_completion``  CLIENT
EmbeddingStart      ``embeddings {model}``                  CLIENT
RetrievalStart      ``retrieval {data_source}``             INTERNAL
RerankStart         ``rerank {model}``                      INTERNAL
ToolStart           ``execute_tool {name}``                 INTERNAL
StepStart           ``{name}``                              INTERNAL
==================  ======================================  ========

Retrieval is INTERNAL: the conventions make it CLIENT for a remote store, and the
frameworks' retrievers do not say which they are.

Example:
    >>> from semtrace.records import ToolStart
    >>> describe(ToolStart(name="search"))[0]
    'execute_tool search'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace._telemetry.content import ContentPolicy, bounded_text, valid_utf8
from semtrace.cost import Cost
from semtrace.records import (
    AgentStart,
    EmbeddingEnd,
    EmbeddingStart,
    ModelEnd,
    ModelStart,
    RerankStart,
    RetrievalEnd,
    RetrievalStart,
    Start,
    StepStart,
    ToolStart,
    Usage,
    ValueEnd,
    WorkflowStart,
)

Attributes = dict[str, AttributeValue]

#: Longest name, id or model string kept on a span.
_MAX_NAME_CHARS: Final = 256

# Request parameter names, as the integrations report them, to the GenAI key and type.
REQUEST_PARAMS: Final[Mapping[str, tuple[str, type]]] = {
    "temperature": (semconv.GEN_AI_REQUEST_TEMPERATURE, float),
    "top_p": (semconv.GEN_AI_REQUEST_TOP_P, float),
    "top_k": (semconv.GEN_AI_REQUEST_TOP_K, float),
    "max_tokens": (semconv.GEN_AI_REQUEST_MAX_TOKENS, int),
    "seed": (semconv.GEN_AI_REQUEST_SEED, int),
    "frequency_penalty": (semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
    "presence_penalty": (semconv.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
    "choice_count": (semconv.GEN_AI_REQUEST_CHOICE_COUNT, int),
}
MODEL_OPERATIONS: Final = (semconv.OP_CHAT, semconv.OP_TEXT_COMPLETION, semconv.OP_EMBEDDINGS)


_OPERATION_OF: Final[Mapping[type, str]] = {
    WorkflowStart: semconv.OP_INVOKE_WORKFLOW,
    AgentStart: semconv.OP_INVOKE_AGENT,
    EmbeddingStart: semconv.OP_EMBEDDINGS,
    RetrievalStart: semconv.OP_RETRIEVAL,
    RerankStart: semconv.OP_RERANK,
    ToolStart: semconv.OP_EXECUTE_TOOL,
}


def operation_of(start: Start) -> str | None:
    """The GenAI operation a record opens (None for plumbing steps)."""
    if isinstance(start, ModelStart):
        return start.operation
    return _OPERATION_OF.get(type(start))


def describe(start: Start) -> tuple[str, SpanKind, Attributes]:
    """Span name, kind and the attributes known at start (samplers read these).

    Names come from frameworks and users: anything that is not a string is turned into
    one here, so a bad name can never become an invalid attribute.
    """
    if isinstance(start, ModelStart):
        return _model(start)
    if isinstance(start, RetrievalStart):
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_RETRIEVAL}
        _put(attrs, semconv.GEN_AI_DATA_SOURCE_ID, _str(start.data_source))
        _put(attrs, semconv.GEN_AI_REQUEST_TOP_K, _number(start.top_k, float))
        return _named(semconv.OP_RETRIEVAL, _str(start.data_source)), SpanKind.INTERNAL, attrs
    if isinstance(start, ToolStart):
        attrs = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: _str(start.name) or "tool",
            semconv.GEN_AI_TOOL_TYPE: _str(start.type) or "function",
        }
        _put(attrs, semconv.GEN_AI_TOOL_CALL_ID, _str(start.call_id))
        _put(attrs, semconv.GEN_AI_TOOL_DESCRIPTION, _str(start.description))
        return _named(semconv.OP_EXECUTE_TOOL, _str(start.name)), SpanKind.INTERNAL, attrs
    if isinstance(start, WorkflowStart):
        attrs = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW,
            semconv.GEN_AI_WORKFLOW_NAME: _str(start.name) or "workflow",
        }
        return _named(semconv.OP_INVOKE_WORKFLOW, _str(start.name)), SpanKind.INTERNAL, attrs
    if isinstance(start, AgentStart):
        attrs = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
            semconv.GEN_AI_AGENT_NAME: _str(start.name) or "agent",
        }
        _put(attrs, semconv.GEN_AI_AGENT_ID, _str(start.id))
        _put(attrs, semconv.GEN_AI_AGENT_DESCRIPTION, _str(start.description))
        return _named(semconv.OP_INVOKE_AGENT, _str(start.name)), SpanKind.INTERNAL, attrs
    if isinstance(start, EmbeddingStart):
        attrs = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
            semconv.GEN_AI_PROVIDER_NAME: _str(start.provider) or "unknown",
        }
        _put(attrs, semconv.GEN_AI_REQUEST_MODEL, _str(start.model))
        _put_server(attrs, start)
        return _named(semconv.OP_EMBEDDINGS, _str(start.model)), SpanKind.CLIENT, attrs
    if isinstance(start, RerankStart):
        attrs = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_RERANK}
        _put(attrs, semconv.GEN_AI_REQUEST_MODEL, _str(start.model))
        _put(attrs, semconv.SEMTRACE_RERANK_TOP_N, _number(start.top_n, int))
        return _named(semconv.OP_RERANK, _str(start.model)), SpanKind.INTERNAL, attrs
    if isinstance(start, StepStart):
        name = _str(start.name) or "step"
        return name, SpanKind.INTERNAL, {semconv.SEMTRACE_RUN_NAME: name}
    raise TypeError(f"not a start record: {type(start).__name__}")


def _model(start: ModelStart) -> tuple[str, SpanKind, Attributes]:
    attrs: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: start.operation,
        semconv.GEN_AI_PROVIDER_NAME: _str(start.provider) or "unknown",
    }
    _put(attrs, semconv.GEN_AI_REQUEST_MODEL, _str(start.model))
    if start.stream:
        attrs[semconv.GEN_AI_REQUEST_STREAM] = True
    _put_server(attrs, start)
    return _named(start.operation, _str(start.model)), SpanKind.CLIENT, attrs


def request_attributes(start: ModelStart) -> Attributes:
    """``gen_ai.request.*`` parameters (temperature, max tokens, stop sequences, ...).

    Set by the worker, not at start: the conventions ask for operation, provider, model
    and server at span creation (samplers read those); reading a model object's
    parameters costs the caller's thread as much as starting its span.
    """
    attrs: Attributes = {}
    for param, value in start.params.items():
        spec = REQUEST_PARAMS.get(param)
        if spec is not None:
            _put(attrs, spec[0], _number(value, spec[1]))
    stop = start.params.get("stop")
    if isinstance(stop, str):
        attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [valid_utf8(stop)]
    elif isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
        attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [valid_utf8(s) for s in stop]
    return attrs


def _put_server(attrs: Attributes, start: ModelStart | EmbeddingStart) -> None:
    """``server.address`` and ``server.port``, set at start as the conventions ask."""
    _put(attrs, semconv.SERVER_ADDRESS, _str(start.server_address))
    port = _number(start.server_port, int)
    if port is not None and 0 < port < 65536:
        attrs[semconv.SERVER_PORT] = port


def content_at_start(start: Start, policy: ContentPolicy) -> Attributes:
    """Opt-in content attributes known at start."""
    attrs: Attributes = {}
    if isinstance(start, ModelStart):
        system = [m for m in start.messages if m.role == "system"]
        others = [m for m in start.messages if m.role != "system"]
        if system:
            attrs[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = policy.system_instructions_json(system)
        attrs[semconv.GEN_AI_INPUT_MESSAGES] = policy.messages_json(others)
        if start.tools:
            attrs[semconv.GEN_AI_TOOL_DEFINITIONS] = policy.tools_json(start.tools)
    elif isinstance(start, (RetrievalStart, RerankStart)):
        attrs[semconv.GEN_AI_RETRIEVAL_QUERY_TEXT] = policy.text(start.query)
    elif isinstance(start, ToolStart):
        if start.arguments is not None:
            attrs[semconv.GEN_AI_TOOL_CALL_ARGUMENTS] = policy.value_json(start.arguments)
    elif isinstance(start, EmbeddingStart):
        if start.inputs:
            attrs[semconv.SEMTRACE_INPUT_VALUE] = policy.value_json(list(start.inputs))
    elif start.input is not None:
        attrs[semconv.SEMTRACE_INPUT_VALUE] = policy.value_json(start.input)
    return attrs


def at_end(start: Start, end: Any) -> Attributes:
    """Attributes known at end, without content or usage."""
    attrs: Attributes = {}
    if isinstance(end, ModelEnd):
        _put(attrs, semconv.GEN_AI_RESPONSE_MODEL, _str(end.response_model))
        _put(attrs, semconv.GEN_AI_RESPONSE_ID, _str(end.response_id))
        if end.finish_reasons:
            attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [
                _str(r) or "" for r in end.finish_reasons
            ]
    elif isinstance(end, EmbeddingEnd):
        _put(attrs, semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, _number(end.dimension, int))
    elif isinstance(end, RetrievalEnd):
        docs = end.documents
        attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_COUNT] = len(docs)
        ids = [d.id for d in docs]
        if ids and all(isinstance(i, str) for i in ids):
            attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_IDS] = [valid_utf8(str(i)) for i in ids]
        scores = [d.score for d in docs]
        if scores and all(isinstance(s, (int, float)) and math.isfinite(s) for s in scores):
            attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_SCORES] = [float(s) for s in scores]  # type: ignore[arg-type]
    return attrs


def content_at_end(start: Start, end: Any, policy: ContentPolicy) -> Attributes:
    """Opt-in content attributes known at end."""
    attrs: Attributes = {}
    if isinstance(end, ModelEnd):
        attrs[semconv.GEN_AI_OUTPUT_MESSAGES] = policy.messages_json(end.output)
    elif isinstance(end, RetrievalEnd):
        attrs[semconv.GEN_AI_RETRIEVAL_DOCUMENTS] = policy.documents_json(end.documents)
    elif isinstance(end, ValueEnd) and end.output is not None:
        key = (
            semconv.GEN_AI_TOOL_CALL_RESULT
            if isinstance(start, ToolStart)
            else semconv.SEMTRACE_OUTPUT_VALUE
        )
        attrs[key] = policy.value_json(end.output)
    return attrs


def usage_attributes(usage: Usage, source: str, encoding: str | None) -> Attributes:
    """``gen_ai.usage.*`` plus where the numbers came from."""
    attrs: Attributes = {semconv.SEMTRACE_USAGE_SOURCE: source}
    _put(attrs, semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens)
    _put(attrs, semconv.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens)
    _put(attrs, semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens)
    _put(attrs, semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_creation_input_tokens)
    _put(attrs, semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_output_tokens)
    _put(attrs, semconv.SEMTRACE_USAGE_ENCODING, encoding)
    return attrs


def cost_attributes(cost: Cost) -> Attributes:
    """``semtrace.usage.cost.*`` of one call, and whether its tokens were estimated."""
    return {
        semconv.SEMTRACE_USAGE_COST_AMOUNT: round(cost.amount, 10),
        semconv.SEMTRACE_USAGE_COST_CURRENCY: cost.currency,
        semconv.SEMTRACE_USAGE_COST_SOURCE: cost.source,
        semconv.SEMTRACE_USAGE_COST_ESTIMATED: cost.estimated,
    }


def metric_attributes(start: Start, response_model: str | None) -> Attributes:
    """The low-cardinality attributes of the GenAI client metrics."""
    attrs: Attributes = {}
    if isinstance(start, (ModelStart, EmbeddingStart)):
        attrs[semconv.GEN_AI_OPERATION_NAME] = (
            start.operation if isinstance(start, ModelStart) else semconv.OP_EMBEDDINGS
        )
        attrs[semconv.GEN_AI_PROVIDER_NAME] = _str(start.provider) or "unknown"
        _put(attrs, semconv.GEN_AI_REQUEST_MODEL, _str(start.model))
        _put(attrs, semconv.GEN_AI_RESPONSE_MODEL, _str(response_model))
        _put_server(attrs, start)
    return attrs


def _str(value: Any) -> str | None:
    """A name-like value as a string of bounded length, or None."""
    if type(value) is str and len(value) <= _MAX_NAME_CHARS and value.isascii():
        return value  # the common case, as bounded_text would return it (about 20 a run)
    return bounded_text(value, _MAX_NAME_CHARS)


_INT64: Final = 2**63


def _named(operation: str, detail: str | None) -> str:
    return f"{operation} {detail}" if detail else operation


def fits_int64(value: int) -> bool:
    """OTLP integers are int64: one past it would lose the whole export batch."""
    return -_INT64 <= value < _INT64


def _put(attrs: Attributes, key: str, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, int) and not -_INT64 <= value < _INT64:  # fits_int64, inlined
        return
    attrs[key] = value


def _number(value: Any, kind: type) -> Any:
    """``value`` as ``kind`` if it is a finite number, else None (bad input is dropped)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return kind(value)


def first_text(value: Any) -> str | None:
    """The text of a workflow input, when it has one obvious text (for the signals)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        texts = [v for v in value.values() if isinstance(v, str)]
        if len(texts) == 1:
            return texts[0]
        for key in ("question", "query", "input", "query_str"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return None
