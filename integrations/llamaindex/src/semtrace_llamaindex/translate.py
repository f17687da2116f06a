"""LlamaIndex objects to semtrace records. Pure functions, no spans, no state.

Each function reads what a LlamaIndex span or event carries (the instance, the bound
arguments, ``ChatMessage``/``ChatResponse``, ``NodeWithScore``...) and returns a
:mod:`semtrace.records` record. Duck-typed on purpose: provider packages return their
SDK's objects in ``raw``, as dicts or as objects. What those payloads mean (usage,
finish reasons, parameter names, endpoints) is :mod:`semtrace.normalize`'s business:
this module only says where LlamaIndex keeps them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.util.types import AttributeValue
from semtrace.integration import (
    Message,
    Part,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    bounded_text,
    context_attributes,
    normalize,
    records,
    semconv,
)

FALLBACK_PROVIDER: Final = "llama_index"
_INTEGRATION_NAMESPACES: Final = (
    "llama_index.llms.",
    "llama_index.embeddings.",
    "llama_index.postprocessor.",
)
_ROLES: Final[Mapping[str, str]] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "chatbot": "assistant",
    "model": "assistant",
    "tool": "tool",
    "function": "tool",
}
_MODEL_FIELDS: Final = ("model", "model_name", "model_id", "deployment_name", "engine")
_NO_MODEL: Final = frozenset({"", "unknown", "None"})
# ``llama_index.core.memory.types.DEFAULT_CHAT_STORE_KEY``: the key every memory shares
# unless told otherwise, so it names no conversation.
_DEFAULT_MEMORY_KEY: Final = "chat_history"
# The keys a memory stores its conversation under: ``Memory`` / ``ChatMemoryBuffer``.
_MEMORY_KEYS: Final = ("session_id", "chat_store_key")
_MAX_PROMPT_NAME: Final = 256
_MAX_PROMPT_VERSION: Final = 64
# Exceptions that mean "the caller stopped" rather than "it failed".
CANCELLATIONS: Final = frozenset({"GeneratorExit", "CancelledError", "WorkflowCancelledByUser"})


# --- small readers ---


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, else ``obj.key``; None when absent or unreadable."""
    if obj is None:
        return None
    cls: type = type(obj)
    try:
        if cls is dict or normalize.is_mapping_class(cls):
            return obj.get(key)
        return getattr(obj, key, None)
    except Exception:  # a provider object's property that raises: treat as absent
        return None


def field(obj: Any, key: str) -> Any:
    """``obj.key`` for a model object; None when absent or unreadable.

    Looks in the instance's ``__dict__`` (pydantic fields live there) and on its class
    (properties) before calling ``getattr``: a miss through pydantic's ``__getattr__``
    raises and formats an error, and the model readers probe a dozen names per call.
    """
    values = getattr(obj, "__dict__", None)
    if isinstance(values, dict):
        if key in values:
            return values[key]
        cls: type = type(obj)
        if not normalize.class_has(cls, key):
            return None
    return get(obj, key)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def is_cancellation(error: BaseException) -> bool:
    """Whether ``error`` means the caller abandoned or cancelled the run (not a failure)."""
    return any(cls.__name__ in CANCELLATIONS for cls in type(error).__mro__)


def query_text(query: Any) -> str:
    """The text of a ``str`` or ``QueryBundle`` query."""
    if isinstance(query, str):
        return query
    text = get(query, "query_str")
    return text if isinstance(text, str) else ""


def argument(bound_args: Any, *names: str) -> Any:
    """The first of ``names`` among a span's bound arguments."""
    arguments = getattr(bound_args, "arguments", None) or {}
    for name in names:
        if name in arguments:
            return arguments[name]
    return None


# --- models ---


def provider(instance: Any) -> str:
    """The GenAI provider of an LLM, embedding model or reranker, from its package.

    The first class in the instance's MRO that lives in a LlamaIndex integration package
    (``llama_index.llms.openai``...) names it, so a user's subclass of ``OpenAI`` is
    still ``openai``.
    """
    cls: type = type(instance)
    return _provider_of(cls)


@functools.lru_cache(maxsize=1024)
def _provider_of(instance_cls: type) -> str:
    """:func:`provider` of a class (cached: it depends on the class alone)."""
    for cls in instance_cls.__mro__:
        module = cls.__module__
        for namespace in _INTEGRATION_NAMESPACES:
            if module.startswith(namespace):
                package = module[len(namespace) :].split(".", 1)[0].removesuffix("_rerank")
                return normalize.provider_name(package) or FALLBACK_PROVIDER
    return FALLBACK_PROVIDER


def model_name(instance: Any, model_dict: Mapping[str, Any] | None) -> str | None:
    """The requested model: the payload's ``model_name`` unless unknown, else a model field."""
    for key in ("model_name", *_MODEL_FIELDS):
        value = get(model_dict, key)
        if isinstance(value, str) and value not in _NO_MODEL:
            return value
    for key in ("model_name", *_MODEL_FIELDS):
        value = field(instance, key)
        if isinstance(value, str) and value not in _NO_MODEL:
            return value
    return None


def request_params(instance: Any, kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Sampling parameters: per-call kwargs first, then ``additional_kwargs``, then fields.

    Ollama's ``num_predict`` and the like live in ``additional_kwargs``.
    """
    extra = field(instance, "additional_kwargs")
    return normalize.request_params(
        kwargs or {},
        extra if isinstance(extra, Mapping) else {},
        instance,
        _generation_config(instance),
    )


def _generation_config(instance: Any) -> Any:
    """llama-index-llms-google-genai keeps ``max_tokens`` only in a private config."""
    private = getattr(instance, "__pydantic_private__", None)
    return private.get("_generation_config") if isinstance(private, dict) else None


def server(provider_name: str, instance: Any) -> tuple[str | None, int | None]:
    """``server.address``/``server.port`` from the model's base URL, else the provider's."""
    return normalize.server(provider_name, instance)


def tool_definitions(kwargs: Mapping[str, Any] | None) -> list[records.ToolDefinition]:
    """Tools offered to the model: OpenAI-style dicts or LlamaIndex tools."""
    tools = (kwargs or {}).get("tools")
    out = []
    for tool in tools if isinstance(tools, (list, tuple)) else ():
        meta = getattr(tool, "metadata", None)
        if meta is not None and isinstance(getattr(meta, "name", None), str):
            out.append(records.ToolDefinition(name=meta.name, description=meta.description))
            continue
        if not isinstance(tool, Mapping):
            continue
        function = tool.get("function")
        spec: Mapping[str, Any] = function if isinstance(function, Mapping) else tool
        if spec.get("name"):
            out.append(
                records.ToolDefinition(
                    name=str(spec["name"]),
                    description=spec.get("description"),
                    parameters=spec.get("parameters") or spec.get("input_schema"),
                    type=str(tool.get("type") or "function"),
                )
            )
    return out


def _role(message: Any) -> str:
    role = get(message, "role")
    value = str(getattr(role, "value", role) or "user")
    return _ROLES.get(value, value)


def _tool_call(call: Any) -> ToolCallPart | None:
    """One tool call: a ``ToolSelection``, an OpenAI/Anthropic object, or a dict."""
    name = get(call, "tool_name")
    if name:
        return ToolCallPart(
            str(name), get(call, "tool_id") or get(call, "tool_call_id"), get(call, "tool_kwargs")
        )
    function = get(call, "function")
    name = get(function, "name") or get(call, "name")
    if not name:
        return None
    arguments = get(function, "arguments") if function is not None else get(call, "input")
    call_id = get(call, "id")
    return ToolCallPart(str(name), str(call_id) if call_id else None, arguments)


def _block_part(block: Any) -> Part | None:
    kind = get(block, "block_type")
    if kind == "text":
        return TextPart(str(get(block, "text") or ""))
    if kind == "thinking":
        return records.ReasoningPart(str(get(block, "content") or ""))
    if kind == "tool_call":
        return ToolCallPart(
            str(get(block, "tool_name")), get(block, "tool_call_id"), get(block, "tool_kwargs")
        )
    return _media_block(kind, block)


# Block types that carry a medium: (modality, the bytes field, the MIME type field).
_MEDIA_BLOCKS: Final = {
    "image": ("image", "image", "image_mimetype"),
    "audio": ("audio", "audio", None),
    "document": ("document", "data", "document_mimetype"),
}


def _media_block(kind: Any, block: Any) -> records.MediaPart | None:
    """An ``ImageBlock``, ``AudioBlock`` or ``DocumentBlock``: by URL, path or bytes."""
    spec = _MEDIA_BLOCKS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        return None
    modality, data_field, mime_field = spec
    url = get(block, "url")
    path = get(block, "path")
    mime = get(block, mime_field) if mime_field else None
    if mime is None and kind == "audio" and get(block, "format"):
        mime = f"audio/{get(block, 'format')}"
    data = get(block, data_field)
    reference = str(url) if url else (f"file://{path}" if path and data is None else None)
    return normalize.media_part(modality, url=reference, data=data, mime_type=mime)


def message(msg: Any) -> Message:
    """One LlamaIndex ``ChatMessage`` (or a plain string) as a record."""
    if isinstance(msg, str):
        return Message("user", [TextPart(msg)])
    role = _role(msg)
    extra = get(msg, "additional_kwargs") or {}
    if role == "tool":
        call_id = get(extra, "tool_call_id")
        return Message(
            role, [ToolCallResponsePart(get(msg, "content"), str(call_id) if call_id else None)]
        )
    blocks = get(msg, "blocks")
    parts: list[Part] = []
    if isinstance(blocks, list):
        parts = [p for p in (_block_part(b) for b in blocks) if p is not None]
    else:
        content = get(msg, "content")
        if isinstance(content, str) and content:
            parts = [TextPart(content)]
    calls = get(extra, "tool_calls")
    seen = {p.id for p in parts if isinstance(p, ToolCallPart) and p.id}
    for call in calls if isinstance(calls, (list, tuple)) else ():
        part = _tool_call(call)
        if part is not None and not (part.id and part.id in seen):  # also in the blocks
            parts.append(part)
    name = get(extra, "name")
    return Message(
        role,
        [p for p in parts if not (isinstance(p, TextPart) and not p.content)],
        name=name if isinstance(name, str) else None,
    )


def chat_start(
    messages: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
    model_dict: Mapping[str, Any] | None,
    instance: Any,
    stream: bool,
) -> records.ModelStart:
    """A chat call, from ``LLMChatStartEvent`` and the LLM it was made on."""
    name = provider(instance)
    address, port = server(name, instance)
    return records.ModelStart(
        provider=name,
        model=model_name(instance, model_dict),
        messages=records.LazySequence.mapped(message, messages),  # read on the worker
        params=records.LazyParams(functools.partial(request_params, instance, kwargs)),
        tools=records.LazySequence(functools.partial(tool_definitions, kwargs)),
        stream=stream,
        server_address=address,
        server_port=port,
    )


def completion_start(
    prompt: str,
    kwargs: Mapping[str, Any] | None,
    model_dict: Mapping[str, Any] | None,
    instance: Any,
    stream: bool,
) -> records.ModelStart:
    """A completion call, from ``LLMCompletionStartEvent`` and its LLM.

    ``complete()`` on a chat model (``metadata.is_chat_model``: OpenAI's chat models,
    Anthropic, Ollama, Gemini, Bedrock) goes over the wire as a chat call, and the
    conventions name the operation the API performs.
    """
    name = provider(instance)
    address, port = server(name, instance)
    is_chat = get(field(instance, "metadata"), "is_chat_model") is True
    return records.ModelStart(
        provider=name,
        model=model_name(instance, model_dict),
        messages=[Message("user", [TextPart(prompt)])],
        operation="chat" if is_chat else "text_completion",
        params=records.LazyParams(functools.partial(request_params, instance, kwargs)),
        stream=stream,
        server_address=address,
        server_port=port,
    )


def failed_call_start(instance: Any, bound_args: Any, method: str) -> records.ModelStart:
    """A model call that raised before LlamaIndex sent its start event, from its arguments."""
    stream = method.startswith(("stream", "astream"))
    kwargs = argument(bound_args, "kwargs")
    kwargs = kwargs if isinstance(kwargs, Mapping) else None
    if method.endswith("complete"):
        prompt = argument(bound_args, "prompt")
        return completion_start(str(prompt or ""), kwargs, None, instance, stream)
    messages = argument(bound_args, "messages")
    messages = messages if isinstance(messages, (list, tuple)) else []
    return chat_start(messages, kwargs, None, instance, stream)


def model_end(response: Any) -> records.ModelEnd:
    """What a ``ChatResponse`` or ``CompletionResponse`` says: output, usage, ids, finish.

    The provider's payload is ``raw`` (a whole response, or a stream's last chunk);
    some packages copy facts into ``additional_kwargs`` (Anthropic's streamed
    ``stop_reason`` and ``usage``), which are read after it.
    """
    if response is None:
        return records.ModelEnd()
    raw = get(response, "raw")
    chat_message = get(response, "message")
    if chat_message is not None:
        out = message(chat_message)
        out.role = "assistant"
    else:
        out = Message("assistant", [TextPart(str(get(response, "text") or ""))])
    # ``payloads(response)`` without reading ``raw`` and ``message`` a second time.
    extras = (get(chat_message, "additional_kwargs"), get(response, "additional_kwargs"))
    reason = finish_reason(raw, out, *extras)
    out.finish_reason = reason
    return records.ModelEnd(
        output=[out],
        usage=usage(raw, *extras),
        response_model=normalize.response_model(raw),
        response_id=normalize.response_id(raw),
        finish_reasons=[reason] if reason else [],
    )


def payloads(response: Any) -> tuple[Any, Any, Any]:
    """Where a response (or a streamed chunk) keeps the provider's facts, best first.

    ``raw`` (the provider's response or chunk), the message's ``additional_kwargs``
    (Anthropic's streamed ``stop_reason`` and ``usage``), the response's.
    """
    return (
        get(response, "raw"),
        get(get(response, "message"), "additional_kwargs"),
        get(response, "additional_kwargs"),
    )


def finish_reason(raw: Any, out: Message, *extras: Any) -> str | None:
    """The finish reason in the conventions' words (``stop``, ``length``, ``tool_call``...).

    A message that calls tools and gives no reason stopped to call them.
    """
    reason = normalize.finish_reason_of(raw, *extras)
    if reason is None and any(isinstance(p, ToolCallPart) for p in out.parts):
        return "tool_call"
    return reason


def usage(raw: Any, *extras: Any) -> records.Usage | None:
    """Provider-reported token usage, from the response's ``raw`` or ``additional_kwargs``.

    None when nothing is reported (the core then counts with tiktoken, if allowed).
    """
    return normalize.usage(raw, *extras)


# --- embeddings, retrieval, rerank ---


def embedding_start(
    instance: Any, model_dict: Mapping[str, Any] | None, bound_args: Any
) -> records.EmbeddingStart:
    """An embeddings call; the inputs are the texts the method was called with."""
    inputs = argument(bound_args, "texts", "queries", "query", "text")
    if isinstance(inputs, str):
        inputs = [inputs]
    texts = [t for t in inputs if isinstance(t, str)] if isinstance(inputs, (list, tuple)) else []
    name = provider(instance)
    address, port = server(name, instance)
    return records.EmbeddingStart(
        provider=name,
        model=model_name(instance, model_dict),
        inputs=texts,
        server_address=address,
        server_port=port,
    )


def embedding_end(embeddings: Any) -> records.EmbeddingEnd:
    """The dimension of the vectors returned (never the vectors)."""
    first = embeddings[0] if isinstance(embeddings, list) and embeddings else None
    return records.EmbeddingEnd(dimension=len(first) if isinstance(first, (list, tuple)) else None)


def retrieval_start(instance: Any, bound_args: Any) -> records.RetrievalStart:
    """A retriever call: query, the vector store (or retriever) name, and top-k."""
    store = getattr(instance, "_vector_store", None)
    source = type(store).__name__ if store is not None else type(instance).__name__
    top_k = getattr(instance, "_similarity_top_k", None)
    return records.RetrievalStart(
        query=query_text(argument(bound_args, "str_or_query_bundle", "query_bundle", "query")),
        data_source=source,
        top_k=records.as_int(top_k),
    )


def documents(nodes: Any) -> list[records.Document]:
    """``NodeWithScore`` objects as documents with node ids, scores and text."""
    out = []
    for item in nodes if isinstance(nodes, (list, tuple)) else ():
        node: Any = getattr(item, "node", item)
        score = getattr(item, "score", None)
        try:
            content = node.get_content()
        except Exception:  # not a node: no text rather than no span
            content = ""
        node_id = getattr(node, "node_id", None)
        out.append(
            records.Document(
                content=content if isinstance(content, str) else "",
                id=str(node_id) if node_id is not None else None,
                score=float(score)
                if isinstance(score, (int, float)) and not isinstance(score, bool)
                else None,
            )
        )
    return out


def rerank_start(query: Any, nodes: Any, top_n: Any, model: Any) -> records.RerankStart:
    """A reranker call, from ``ReRankStartEvent``."""
    return records.RerankStart(
        query=query_text(query),
        model=model if isinstance(model, str) and model not in _NO_MODEL else None,
        top_n=records.as_int(top_n),
        documents=documents(nodes),
    )


# --- tools, agents, workflows ---


def tool_start(instance: Any, bound_args: Any) -> records.ToolStart:
    """A ``BaseTool.call``/``acall``: name, description and arguments."""
    meta = getattr(instance, "metadata", None)
    name = getattr(meta, "name", None) or type(instance).__name__
    arguments = getattr(bound_args, "arguments", None) or {}
    args = dict(arguments.get("kwargs") or {})
    args.update({k: v for k, v in arguments.items() if k not in ("self", "args", "kwargs")})
    positional = arguments.get("args")
    if positional:
        args["args"] = list(positional)
    return records.ToolStart(
        name=str(name), description=getattr(meta, "description", None), arguments=args
    )


def tool_call_start(event: Any) -> records.ToolStart:
    """An agent's ``call_tool`` step, from its ``ToolCall`` event (has the call id)."""
    return records.ToolStart(
        name=str(get(event, "tool_name") or "tool"),
        call_id=_text(get(event, "tool_id")),
        arguments=get(event, "tool_kwargs"),
    )


def tool_failure(result: Any) -> BaseException | None:
    """The exception a tool raised, when the agent caught it into a ``ToolOutput``."""
    output = get(result, "tool_output") or result
    if get(output, "is_error"):
        error = get(output, "exception")
        return (
            error if isinstance(error, BaseException) else RuntimeError(str(get(output, "content")))
        )
    return None


def agent_start(instance: Any, bound_args: Any) -> records.AgentStart:
    """A workflow agent's run (``FunctionAgent``, ``ReActAgent``, ``AgentWorkflow``)."""
    name = getattr(instance, "name", None)
    description = getattr(instance, "description", None)
    event = argument(bound_args, "start_event", "ev")
    user_msg = get(event, "user_msg")
    return records.AgentStart(
        name=name if isinstance(name, str) and name else type(instance).__name__,
        description=description if isinstance(description, str) else None,
        input=output(user_msg) if user_msg is not None else None,
    )


def workflow_start(instance: Any, bound_args: Any) -> records.WorkflowStart:
    """A ``Workflow.run``: the workflow's class, and its start event's fields as input."""
    fields = event_fields(argument(bound_args, "start_event", "ev"))
    return records.WorkflowStart(name=type(instance).__name__, input=fields or None)


def event_fields(event: Any) -> dict[str, Any]:
    """A workflow event's declared and dynamic fields (``StartEvent(topic=...)``)."""
    if event is None:
        return {}
    fields: dict[str, Any] = {}
    with contextlib.suppress(Exception):  # a dict-like event: its dynamic fields
        fields.update(event.items())
    for key in getattr(type(event), "model_fields", None) or {}:
        if not key.startswith("_"):
            fields[key] = getattr(event, key, None)
    return fields


def engine_start(instance: Any, bound_args: Any) -> records.WorkflowStart:
    """A query or chat engine call: the engine's class, and the question as input."""
    query = argument(bound_args, "str_or_query_bundle", "message", "query")
    return records.WorkflowStart(name=type(instance).__name__, input=query_text(query) or None)


def output(value: Any) -> Any:
    """What a run returned, as text where LlamaIndex wraps text in an object.

    A tool's ``ToolCallResult`` gives its tool's own output (``raw_output``), never the
    wrapper's ``repr``.
    """
    for _ in range(4):  # StopEvent -> AgentOutput -> ChatMessage -> str
        if value is None or isinstance(value, (str, int, float, bool, list, dict)):
            return value
        for attr in ("result", "response", "tool_output", "raw_output", "content"):
            inner = getattr(value, attr, None)
            if inner is not None and not callable(inner):
                value = inner
                break
        else:
            return str(value)
    return value if isinstance(value, str) else str(value)


# --- who the run is for, and which prompt template it used ---


def run_context(
    tags: Any, instance: Any, bound_args: Any, has_conversation: bool
) -> dict[str, AttributeValue] | None:
    """Per-call user, session and conversation ids of a top-level run.

    ``instrument_tags`` keys ``user_id``, ``session_id`` and ``conversation_id`` are read as
    they are (as LangChain's run metadata is). Without a conversation id there or in the
    enclosing ``semtrace.context`` (``has_conversation``), the key the run's memory stores
    the conversation under is the conversation id: a chat engine's memory, or the
    ``memory`` an agent or workflow was run with.
    """
    tags = tags if isinstance(tags, Mapping) else {}
    conversation = tags.get("conversation_id")
    if not conversation and not has_conversation:
        conversation = conversation_id(get(argument(bound_args, "start_event", "ev"), "memory"))
        conversation = conversation or conversation_id(get(instance, "_memory"))
    found = context_attributes(
        user_id=tags.get("user_id"),
        session_id=tags.get("session_id"),
        conversation_id=conversation,
    )
    return found or None


def conversation_id(memory: Any) -> str | None:
    """The key a LlamaIndex memory stores its messages under, unless it is the shared default.

    ``Memory.session_id``, ``ChatMemoryBuffer.chat_store_key`` (and the other chat-store
    memories'), or the primary memory's of a ``SimpleComposableMemory``.
    """
    for candidate in (memory, get(memory, "primary_memory")):
        for key in _MEMORY_KEYS:
            value = get(candidate, key)
            if isinstance(value, str) and value and value != _DEFAULT_MEMORY_KEY:
                return value
    return None


def prompt_ref(template: Any) -> tuple[str, str | None] | None:
    """A prompt template's name and version, when its ``metadata`` names it.

    The keys are LangChain's: ``PromptTemplate(..., metadata={"prompt_name": "qa",
    "prompt_version": "3"})``. A ``SelectorPromptTemplate`` (LlamaIndex's default
    templates) shares its default template's metadata.
    """
    meta = get(template, "metadata")
    if not isinstance(meta, Mapping):
        return None
    name = _short(meta.get("prompt_name"), _MAX_PROMPT_NAME)
    if not name:
        return None
    return name, _short(meta.get("prompt_version"), _MAX_PROMPT_VERSION)


def prompt_attributes(ref: tuple[str, str | None]) -> dict[str, AttributeValue]:
    """``gen_ai.prompt.name`` and ``semtrace.prompt.version`` of a :func:`prompt_ref`."""
    name, version = ref
    attributes: dict[str, AttributeValue] = {semconv.GEN_AI_PROMPT_NAME: name}
    if version:
        attributes[semconv.SEMTRACE_PROMPT_VERSION] = version
    return attributes


def _short(value: Any, limit: int) -> str | None:
    """A prompt name or version as bounded, valid UTF-8; None for a missing or empty one."""
    return bounded_text(value, limit) or None
