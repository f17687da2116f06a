"""Per operation, what its span gets: the one place to read "what does a chat span get?".

Each kind of run (the type of its start record) has one :class:`Operation`. It says what
the run's span is named, its kind and its attributes at start (samplers read those), its
request parameters, its opt-in content at start and at end, its attributes at end, the
attributes of its metric points, and how its tokens are counted when the provider
reported none. :mod:`.ending` applies them, in order, when the run ends.

==================  ======================================  ========  ==============
record              span name                               kind      metrics, usage
==================  ======================================  ========  ==============
WorkflowStart       ``invoke_workflow {name}``              INTERNAL
AgentStart          ``invoke_agent {name}``                 INTERNAL
ModelStart          ``chat {model}`` / ``text_completion``  CLIENT    yes
EmbeddingStart      ``embeddings {model}``                  CLIENT    yes
RetrievalStart      ``retrieval {data_source}``             INTERNAL
RerankStart         ``rerank {model}``                      INTERNAL
ToolStart           ``execute_tool {name}``                 INTERNAL
StepStart           ``{name}``                              INTERNAL
==================  ======================================  ========  ==============

Retrieval is INTERNAL: the conventions make it CLIENT for a remote store, and the
frameworks' retrievers do not say which they are.

Each operation is built for one set of conventions (:mod:`semtrace.semconv_latest`): the
released 1.41 names, or the newest; :func:`operation_for` takes the table to use.

Example:
    >>> from semtrace.records import ToolStart
    >>> operation_for(ToolStart(name="search")).describe(ToolStart(name="search"))[0]
    'execute_tool search'
"""

from __future__ import annotations

import json
import math
from typing import Any, Final, Generic, TypeVar

from opentelemetry.trace import SpanKind

from semtrace import semconv
from semtrace._telemetry.attributes import (
    Attributes,
    first_text,
    named,
    number,
    put,
    put_server,
    request_attributes,
    text,
)
from semtrace._telemetry.content import ContentPolicy, valid_utf8
from semtrace._telemetry.tokens import TokenCounter
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
from semtrace.semconv_latest import LATEST, RELEASED, Conventions

S = TypeVar("S", bound=Start)

#: What counting a run's tokens found: the usage and the encoding it was counted with.
Counted = tuple[Usage, str]


class Operation(Generic[S]):
    """What the span of one kind of run gets. The defaults are those of a plain step."""

    #: ``gen_ai.operation.name``; None for framework plumbing.
    name: str | None = None
    #: A call to a model: GenAI client metrics, token usage and cost.
    calls_model: bool = False

    def __init__(self, names: Conventions = RELEASED) -> None:
        #: the conventions this operation writes: the released ones, or the newest
        self.names = names

    def operation_name(self, start: S) -> str | None:
        """The GenAI operation this run is (``drop_operations`` matches it)."""
        return self.name

    def describe(self, start: S) -> tuple[str, SpanKind, Attributes]:
        """Span name, kind and the attributes known at start.

        Names come from frameworks and users: anything that is not a string is turned into
        one here, so a bad name can never become an invalid attribute.
        """
        name = text(getattr(start, "name", None)) or "step"
        return name, SpanKind.INTERNAL, {semconv.SEMTRACE_RUN_NAME: name}

    def question(self, start: S) -> str | None:
        """The trace's question, if this run's input states one."""
        return None

    def request(self, start: S) -> Attributes:
        """Request parameters: set by the worker, they cost the caller's thread too much."""
        return {}

    def content_at_start(self, start: S, policy: ContentPolicy) -> Attributes:
        """Opt-in content known at start."""
        value = getattr(start, "input", None)
        return {} if value is None else {semconv.SEMTRACE_INPUT_VALUE: policy.value_json(value)}

    def at_end(self, start: S, end: Any) -> Attributes:
        """Attributes known at end, without content or usage."""
        return {}

    def content_at_end(self, start: S, end: Any, policy: ContentPolicy) -> Attributes:
        """Opt-in content known at end."""
        if isinstance(end, ValueEnd) and end.output is not None:
            return {semconv.SEMTRACE_OUTPUT_VALUE: policy.value_json(end.output)}
        return {}

    def metric_attributes(self, start: S, response_model: str | None) -> Attributes:
        """The low-cardinality attributes of the GenAI client metrics (model calls only)."""
        return {}

    def tokenized_model(self, start: S) -> str | None:
        """The model whose encoding counting this run's tokens needs (None: not counted)."""
        return None

    def run_metric_attributes(self, start: S) -> Attributes | None:
        """The attributes of this run's duration metric; None: the conventions define none."""
        return None

    def count(self, start: S, end: Any, counter: TokenCounter) -> Counted | None:
        """The run's usage counted with tiktoken, when the provider reported none."""
        return None


class Workflow(Operation[WorkflowStart]):
    """A top-level pipeline run."""

    name = semconv.OP_INVOKE_WORKFLOW

    def describe(self, start: WorkflowStart) -> tuple[str, SpanKind, Attributes]:
        """``invoke_workflow {name}``."""
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_WORKFLOW}
        put(attrs, semconv.GEN_AI_WORKFLOW_NAME, text(start.name))  # none invented
        return named(semconv.OP_INVOKE_WORKFLOW, text(start.name)), SpanKind.INTERNAL, attrs

    def question(self, start: WorkflowStart) -> str | None:
        """The workflow input's one obvious text."""
        return first_text(start.input)

    def content_at_start(self, start: WorkflowStart, policy: ContentPolicy) -> Attributes:
        """The input: ``gen_ai.input.messages`` in the newest conventions."""
        return _run_input(self.names, start.input, policy)

    def content_at_end(self, start: WorkflowStart, end: Any, policy: ContentPolicy) -> Attributes:
        """The output: ``gen_ai.output.messages`` in the newest conventions."""
        return _run_output(self.names, end, policy)


class Agent(Operation[AgentStart]):
    """An agent run."""

    name = semconv.OP_INVOKE_AGENT

    def describe(self, start: AgentStart) -> tuple[str, SpanKind, Attributes]:
        """``invoke_agent {name}``, with the agent's id, description and provider."""
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT}
        put(attrs, semconv.GEN_AI_AGENT_NAME, text(start.name))  # none invented
        if self.names.agent_provider_and_id:  # not on the internal span since 1.41
            put(attrs, semconv.GEN_AI_PROVIDER_NAME, text(start.provider))
            put(attrs, semconv.GEN_AI_AGENT_ID, text(start.id))
        put(attrs, semconv.GEN_AI_AGENT_DESCRIPTION, text(start.description))
        return named(semconv.OP_INVOKE_AGENT, text(start.name)), SpanKind.INTERNAL, attrs

    def question(self, start: AgentStart) -> str | None:
        """The agent input's one obvious text."""
        return first_text(start.input)

    def content_at_start(self, start: AgentStart, policy: ContentPolicy) -> Attributes:
        """The input: ``gen_ai.input.messages`` in the newest conventions."""
        return _run_input(self.names, start.input, policy)

    def content_at_end(self, start: AgentStart, end: Any, policy: ContentPolicy) -> Attributes:
        """The output: ``gen_ai.output.messages`` in the newest conventions."""
        return _run_output(self.names, end, policy)


class Model(Operation[ModelStart]):
    """A chat or text completion call."""

    calls_model = True

    def operation_name(self, start: ModelStart) -> str | None:
        """``chat`` or ``text_completion``, as the record says."""
        return start.operation

    def describe(self, start: ModelStart) -> tuple[str, SpanKind, Attributes]:
        """``chat {model}``: operation, provider, model, stream and server at start."""
        attrs: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: start.operation,
            semconv.GEN_AI_PROVIDER_NAME: text(start.provider) or "unknown",
        }
        put(attrs, semconv.GEN_AI_REQUEST_MODEL, text(start.model))
        if start.stream:
            attrs[semconv.GEN_AI_REQUEST_STREAM] = True
        put_server(attrs, start)
        return named(start.operation, text(start.model)), SpanKind.CLIENT, attrs

    def request(self, start: ModelStart) -> Attributes:
        """``gen_ai.request.*``: temperature, max tokens, stop sequences, ..."""
        return request_attributes(start, self.names)

    def content_at_start(self, start: ModelStart, policy: ContentPolicy) -> Attributes:
        """System instructions, input messages and tool definitions."""
        attrs: Attributes = {}
        system = [m for m in start.messages if m.role == "system"]
        others = [m for m in start.messages if m.role != "system"]
        if system:
            attrs[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = policy.system_instructions_json(system)
        attrs[semconv.GEN_AI_INPUT_MESSAGES] = policy.messages_json(others)
        if start.tools:
            attrs[semconv.GEN_AI_TOOL_DEFINITIONS] = policy.tools_json(start.tools)
        return attrs

    def at_end(self, start: ModelStart, end: Any) -> Attributes:
        """Response model, id and finish reasons."""
        attrs: Attributes = {}
        if isinstance(end, ModelEnd):
            put(attrs, semconv.GEN_AI_RESPONSE_MODEL, text(end.response_model))
            put(attrs, semconv.GEN_AI_RESPONSE_ID, text(end.response_id))
            if end.finish_reasons:
                attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = [
                    text(r) or "" for r in end.finish_reasons
                ]
        return attrs

    def content_at_end(self, start: ModelStart, end: Any, policy: ContentPolicy) -> Attributes:
        """The output messages."""
        if isinstance(end, ModelEnd):
            output = policy.output_messages_json(end.output, end.finish_reasons)
            return {semconv.GEN_AI_OUTPUT_MESSAGES: output}
        return super().content_at_end(start, end, policy)

    def metric_attributes(self, start: ModelStart, response_model: str | None) -> Attributes:
        """Operation, provider, request and response model, server."""
        return _model_metric_attributes(start, start.operation, response_model)

    def tokenized_model(self, start: ModelStart) -> str | None:
        """The requested model."""
        return start.model

    def count(self, start: ModelStart, end: Any, counter: TokenCounter) -> Counted | None:
        """Prompt tokens as OpenAI's chat accounting bills them, and the output's."""
        if not isinstance(end, ModelEnd):
            return None
        counted = counter.count_input(start.model, start.messages, start.tools)
        output = counter.count_output(start.model, end.output)
        if counted is None or output is None:
            return None
        return Usage(input_tokens=counted.tokens, output_tokens=output.tokens), counted.encoding


class Embeddings(Operation[EmbeddingStart]):
    """An embeddings call."""

    name = semconv.OP_EMBEDDINGS
    calls_model = True

    def describe(self, start: EmbeddingStart) -> tuple[str, SpanKind, Attributes]:
        """``embeddings {model}``: provider, model and server at start."""
        attrs: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EMBEDDINGS,
            semconv.GEN_AI_PROVIDER_NAME: text(start.provider) or "unknown",
        }
        put(attrs, semconv.GEN_AI_REQUEST_MODEL, text(start.model))
        put_server(attrs, start)
        return named(semconv.OP_EMBEDDINGS, text(start.model)), SpanKind.CLIENT, attrs

    def content_at_start(self, start: EmbeddingStart, policy: ContentPolicy) -> Attributes:
        """The texts embedded."""
        if not start.inputs:
            return {}
        return {semconv.SEMTRACE_INPUT_VALUE: policy.value_json(list(start.inputs))}

    def at_end(self, start: EmbeddingStart, end: Any) -> Attributes:
        """The vectors' dimension."""
        attrs: Attributes = {}
        if isinstance(end, EmbeddingEnd):
            put(attrs, semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, number(end.dimension, int))
        return attrs

    def metric_attributes(self, start: EmbeddingStart, response_model: str | None) -> Attributes:
        """Operation, provider, request and response model, server."""
        return _model_metric_attributes(start, semconv.OP_EMBEDDINGS, response_model)

    def tokenized_model(self, start: EmbeddingStart) -> str | None:
        """The requested model."""
        return start.model

    def count(self, start: EmbeddingStart, end: Any, counter: TokenCounter) -> Counted | None:
        """Tokens of the texts embedded."""
        counted = counter.count_texts(start.model, start.inputs)
        if counted is None:
            return None
        return Usage(input_tokens=counted.tokens), counted.encoding


class Retrieval(Operation[RetrievalStart]):
    """A retriever call."""

    name = semconv.OP_RETRIEVAL

    def describe(self, start: RetrievalStart) -> tuple[str, SpanKind, Attributes]:
        """``retrieval {data_source}``, with the data source and top k."""
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_RETRIEVAL}
        put(attrs, semconv.GEN_AI_DATA_SOURCE_ID, text(start.data_source))
        names = self.names
        put(attrs, names.retrieval_top_k, number(start.top_k, names.retrieval_top_k_type))
        return named(semconv.OP_RETRIEVAL, text(start.data_source)), SpanKind.INTERNAL, attrs

    def content_at_start(self, start: RetrievalStart, policy: ContentPolicy) -> Attributes:
        """The query."""
        return {semconv.GEN_AI_RETRIEVAL_QUERY_TEXT: policy.text(start.query)}

    def at_end(self, start: RetrievalStart, end: Any) -> Attributes:
        """How many documents came back, their ids and scores (when all have one)."""
        return _documents_at_end(end, self.names)

    def content_at_end(self, start: RetrievalStart, end: Any, policy: ContentPolicy) -> Attributes:
        """The documents."""
        return _documents_content(end, policy) or super().content_at_end(start, end, policy)


class Rerank(Operation[RerankStart]):
    """A reranker call (no GenAI operation exists yet)."""

    name = semconv.OP_RERANK

    def describe(self, start: RerankStart) -> tuple[str, SpanKind, Attributes]:
        """``rerank {model}``, with the model and top n."""
        attrs: Attributes = {semconv.GEN_AI_OPERATION_NAME: semconv.OP_RERANK}
        put(attrs, semconv.GEN_AI_REQUEST_MODEL, text(start.model))
        put(attrs, semconv.SEMTRACE_RERANK_TOP_N, number(start.top_n, int))
        return named(semconv.OP_RERANK, text(start.model)), SpanKind.INTERNAL, attrs

    def content_at_start(self, start: RerankStart, policy: ContentPolicy) -> Attributes:
        """The query."""
        return {semconv.GEN_AI_RETRIEVAL_QUERY_TEXT: policy.text(start.query)}

    def at_end(self, start: RerankStart, end: Any) -> Attributes:
        """The documents kept, as a retrieval's."""
        return _documents_at_end(end, self.names)

    def content_at_end(self, start: RerankStart, end: Any, policy: ContentPolicy) -> Attributes:
        """The documents kept."""
        return _documents_content(end, policy) or super().content_at_end(start, end, policy)


class Tool(Operation[ToolStart]):
    """A tool execution."""

    name = semconv.OP_EXECUTE_TOOL

    def describe(self, start: ToolStart) -> tuple[str, SpanKind, Attributes]:
        """``execute_tool {name}``: tool name, type, call id and description."""
        attrs: Attributes = {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: text(start.name) or "tool",
            semconv.GEN_AI_TOOL_TYPE: text(start.type) or "function",
        }
        put(attrs, semconv.GEN_AI_TOOL_CALL_ID, text(start.call_id))
        put(attrs, semconv.GEN_AI_TOOL_DESCRIPTION, text(start.description))
        return named(semconv.OP_EXECUTE_TOOL, text(start.name)), SpanKind.INTERNAL, attrs

    def run_metric_attributes(self, start: ToolStart) -> Attributes | None:
        """``gen_ai.execute_tool.duration``'s: operation, tool name and type (newest only)."""
        if not self.names.tool_duration:
            return None
        return {
            semconv.GEN_AI_OPERATION_NAME: semconv.OP_EXECUTE_TOOL,
            semconv.GEN_AI_TOOL_NAME: text(start.name) or "tool",
            semconv.GEN_AI_TOOL_TYPE: text(start.type) or "function",
        }

    def content_at_start(self, start: ToolStart, policy: ContentPolicy) -> Attributes:
        """The call's arguments."""
        if start.arguments is None:
            return {}
        return {semconv.GEN_AI_TOOL_CALL_ARGUMENTS: policy.value_json(start.arguments)}

    def content_at_end(self, start: ToolStart, end: Any, policy: ContentPolicy) -> Attributes:
        """The tool's result."""
        if isinstance(end, ValueEnd) and end.output is not None:
            return {semconv.GEN_AI_TOOL_CALL_RESULT: policy.value_json(end.output)}
        return {}


class Step(Operation[StepStart]):
    """Framework plumbing, shown only when ``trace_all_runs`` is on."""


def _documents_at_end(end: Any, names: Conventions) -> Attributes:
    attrs: Attributes = {}
    if not isinstance(end, RetrievalEnd):
        return attrs
    docs = end.documents
    attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_COUNT] = len(docs)
    if names.documents_as_standard:
        # Ids and scores are not content: the standard attribute carries them without
        # capture; with it, the documents' content replaces this (content_at_end).
        if docs:
            attrs[semconv.GEN_AI_RETRIEVAL_DOCUMENTS] = _document_refs(docs)
        return attrs
    ids = [d.id for d in docs]
    if ids and all(isinstance(i, str) for i in ids):
        attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_IDS] = [valid_utf8(str(i)) for i in ids]
    scores = [d.score for d in docs]
    if scores and all(isinstance(s, (int, float)) and math.isfinite(s) for s in scores):
        attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_SCORES] = [float(s) for s in scores]  # type: ignore[arg-type]
    return attrs


def _document_refs(docs: Any) -> str:
    """``gen_ai.retrieval.documents`` with each document's id and score, no content."""
    refs: list[dict[str, Any]] = []
    for doc in docs:
        ref: dict[str, Any] = {}
        if isinstance(doc.id, str):
            ref["id"] = valid_utf8(doc.id)
        score = doc.score
        if isinstance(score, (int, float)) and not isinstance(score, bool) and math.isfinite(score):
            ref["score"] = float(score)
        refs.append(ref)
    return json.dumps(refs, ensure_ascii=False, separators=(",", ":"))


def _run_input(names: Conventions, value: Any, policy: ContentPolicy) -> Attributes:
    """An agent's or workflow's input: a user message (newest), else ``semtrace.input.value``."""
    if value is None:
        return {}
    if not names.run_content_as_messages:
        return {semconv.SEMTRACE_INPUT_VALUE: policy.value_json(value)}
    return {semconv.GEN_AI_INPUT_MESSAGES: policy.value_message_json("user", value)}


def _run_output(names: Conventions, end: Any, policy: ContentPolicy) -> Attributes:
    """An agent's or workflow's output: an assistant message (newest), else ``semtrace.*``."""
    if not isinstance(end, ValueEnd) or end.output is None:
        return {}
    if not names.run_content_as_messages:
        return {semconv.SEMTRACE_OUTPUT_VALUE: policy.value_json(end.output)}
    # No finish_reason: the newest conventions deprecate it in output messages (#363).
    return {semconv.GEN_AI_OUTPUT_MESSAGES: policy.value_message_json("assistant", end.output)}


def _documents_content(end: Any, policy: ContentPolicy) -> Attributes:
    if isinstance(end, RetrievalEnd):
        return {semconv.GEN_AI_RETRIEVAL_DOCUMENTS: policy.documents_json(end.documents)}
    return {}


def _model_metric_attributes(
    start: ModelStart | EmbeddingStart, operation: str, response_model: str | None
) -> Attributes:
    attrs: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_PROVIDER_NAME: text(start.provider) or "unknown",
    }
    put(attrs, semconv.GEN_AI_REQUEST_MODEL, text(start.model))
    put(attrs, semconv.GEN_AI_RESPONSE_MODEL, text(response_model))
    put_server(attrs, start)
    return attrs


def _table(names: Conventions) -> dict[type, Operation[Any]]:
    return {
        WorkflowStart: Workflow(names),
        AgentStart: Agent(names),
        ModelStart: Model(names),
        EmbeddingStart: Embeddings(names),
        RetrievalStart: Retrieval(names),
        RerankStart: Rerank(names),
        ToolStart: Tool(names),
        StepStart: Step(names),
    }


#: The operations of the released 1.41 conventions, and of the newest.
_OPERATIONS: Final = _table(RELEASED)
_LATEST_OPERATIONS: Final = _table(LATEST)


def operation_for(start: Start, names: Conventions = RELEASED) -> Operation[Any]:
    """The operation a start record opens; a ``TypeError`` for anything else."""
    table = _LATEST_OPERATIONS if names.latest else _OPERATIONS
    operation = table.get(type(start))  # the records themselves: one look-up, on every run
    if operation is not None:
        return operation
    for cls in type(start).__mro__[1:]:  # a subclass of one
        operation = table.get(cls)
        if operation is not None:
            return operation
    raise TypeError(f"not a start record: {type(start).__name__}")
