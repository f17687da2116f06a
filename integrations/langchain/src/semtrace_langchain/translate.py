"""LangChain objects to semtrace records. Pure functions, no spans.

Each function reads what a LangChain callback carries (messages, ``LLMResult``,
documents, run metadata) and returns a :mod:`semtrace.records` record; the
:class:`~semtrace_langchain.handler.CallbackHandler` only calls these and the recorder.
What a provider's payload means (usage, finish reasons, parameter names, endpoints)
is :mod:`semtrace.normalize`'s business: this module only says where LangChain keeps it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

from semtrace.integration import (
    Message,
    Part,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    context_attributes,
    normalize,
    records,
)

_ROLES: Final[Mapping[str, str]] = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "developer": "system",
}
_MODEL_KEYS: Final = ("model", "model_name", "model_id", "deployment_name", "azure_deployment")
# LangGraph raises these to steer the graph; they are not failures.
CONTROL_FLOW: Final = frozenset(
    {"GraphBubbleUp", "GraphInterrupt", "NodeInterrupt", "ParentCommand"}
)
CANCELLED: Final = frozenset({"GeneratorExit", "CancelledError"})
_ABSENT: Final = object()


def provider(metadata: Mapping[str, Any] | None, invocation: Mapping[str, Any] | None) -> str:
    """The GenAI provider name of a model run, from LangChain's ``ls_provider``."""
    hint = (metadata or {}).get("ls_provider") or (invocation or {}).get("_type")
    return normalize.provider_name(hint) or "langchain"


def model_name(
    metadata: Mapping[str, Any] | None, invocation: Mapping[str, Any] | None
) -> str | None:
    """The requested model: LangChain's ``ls_model_name``, else the invocation params."""
    name = (metadata or {}).get("ls_model_name")
    if not name:
        for key in _MODEL_KEYS:
            name = (invocation or {}).get(key)
            if name:
                break
    return str(name) if name else None


def request_params(
    metadata: Mapping[str, Any] | None,
    invocation: Mapping[str, Any] | None,
    own: Any = None,
) -> dict[str, Any]:
    """Sampling parameters: invocation params, then ``ls_*`` metadata, then the model's own.

    ``own`` is the model object, or what it holds (``ChatOllama(num_predict=50)`` puts it
    in no invocation param).
    """
    ls_params = {k: v for k, v in (metadata or {}).items() if k.startswith("ls_")}
    return normalize.request_params(invocation or {}, ls_params, own)


def tool_definitions(invocation: Mapping[str, Any] | None) -> list[records.ToolDefinition]:
    """Tools bound to a chat model, from OpenAI-style ``tools`` invocation params."""
    tools = (invocation or {}).get("tools") or ()
    out = []
    for tool in tools if isinstance(tools, (list, tuple)) else ():
        # A dict is matched first: the ABC's isinstance test runs Python code.
        if not isinstance(tool, (dict, Mapping)):
            continue
        function = tool.get("function")
        spec: Mapping[str, Any] = function if isinstance(function, (dict, Mapping)) else tool
        name = spec.get("name")
        if name:
            out.append(
                records.ToolDefinition(
                    name=str(name),
                    description=spec.get("description"),
                    parameters=spec.get("parameters") or spec.get("input_schema"),
                    type=str(tool.get("type") or "function"),
                )
            )
    return out


def message(msg: Any) -> Message:
    """One LangChain ``BaseMessage`` (or a plain string/tuple/dict) as a record."""
    if isinstance(msg, str):
        return Message("user", [TextPart(msg)])
    if isinstance(msg, (tuple, list)) and len(msg) == 2:
        return Message(_ROLES.get(str(msg[0]), str(msg[0])), [TextPart(str(msg[1]))])
    kind = str(getattr(msg, "type", None) or (msg.get("role") if isinstance(msg, Mapping) else ""))
    role = _ROLES.get(kind, kind or "user")
    if kind == "chat":
        role = str(getattr(msg, "role", "user"))
    content = getattr(msg, "content", None)
    if content is None and isinstance(msg, Mapping):
        content = msg.get("content")
    parts = _content_parts(content)
    if role == "tool":
        call_id = _attr(msg, "tool_call_id")
        parts = [ToolCallResponsePart(response=content, id=call_id)]
    for call in _attr(msg, "tool_calls") or ():
        if isinstance(call, Mapping) and call.get("name"):
            parts.append(ToolCallPart(str(call["name"]), call.get("id"), call.get("args")))
    name = _attr(msg, "name")
    return Message(role, parts, name=name if isinstance(name, str) else None)


def _attr(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)``, without the cost of a pydantic model's miss.

    Only AI messages have ``tool_calls``: on the others pydantic formats and raises an
    AttributeError that getattr then swallows, for every message of every prompt. A
    pydantic model answers a name that is not a field or a class attribute from its
    extras, so that is read directly.
    """
    values = getattr(obj, "__dict__", None)
    if type(values) is dict:
        if name in values:
            return values[name]
        extra = getattr(obj, "__pydantic_extra__", _ABSENT)
        if extra is not _ABSENT and not normalize.class_has(type(obj), name):  # type: ignore[arg-type]
            return extra.get(name) if isinstance(extra, dict) else None
    return getattr(obj, name, None)


def _content_parts(content: Any) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[Part] = []
    for block in content if isinstance(content, list) else ():
        if isinstance(block, str):
            parts.append(TextPart(block))
        elif isinstance(block, Mapping):
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                parts.append(TextPart(block["text"]))
            elif kind in ("reasoning", "thinking"):
                text = block.get("reasoning") or block.get("thinking") or ""
                parts.append(records.ReasoningPart(str(text)))
            else:
                media = _media(kind, block)
                if media is not None:
                    parts.append(media)
    return parts


# Content block types that carry a medium, and the medium they carry.
_MEDIA_KINDS: Final = {
    "image_url": "image",  # OpenAI's chat format
    "image": "image",  # LangChain's standard blocks, Anthropic's format
    "input_audio": "audio",
    "audio": "audio",
    "video": "video",
    "file": "document",
    "document": "document",
}


def _media(kind: Any, block: Mapping[str, Any]) -> records.MediaPart | None:
    """An image, audio, video or file block, in any of the shapes LangChain passes on."""
    modality = _MEDIA_KINDS.get(kind) if isinstance(kind, str) else None
    if modality is None:
        return None
    image_url = block.get("image_url")
    if isinstance(image_url, Mapping):  # {"type": "image_url", "image_url": {"url": ...}}
        image_url = image_url.get("url")
    source = block.get("source")
    source = source if isinstance(source, Mapping) else {}  # Anthropic's {"source": {...}}
    data = block.get("base64") or source.get("data")
    if block.get("source_type") == "base64" or (data is None and "data" in block):
        data = block.get("data")  # LangChain's v0.3 standard blocks
    audio = block.get("input_audio")
    if isinstance(audio, Mapping):  # OpenAI's {"input_audio": {"data", "format"}}
        data = audio.get("data")
    url = image_url or block.get("url") or source.get("url")
    if block.get("source_type") == "url":
        url = url or block.get("data")
    mime = block.get("mime_type") or source.get("media_type")
    file_id = block.get("file_id") or block.get("id") if modality == "document" else None
    return normalize.media_part(modality, url=url, data=data, mime_type=mime, file_id=file_id)


def model_start(
    messages: Sequence[Any],
    metadata: Mapping[str, Any] | None,
    invocation: Mapping[str, Any] | None,
    operation: str = "chat",
    model: tuple[str | None, str | None, Any] = (None, None, None),
) -> records.ModelStart:
    """A chat (``on_chat_model_start``) or completion (``on_llm_start``) call.

    ``model`` is what the model object says: its base URL, its region, and the object
    whose parameters are read with the rest on the worker
    (see :func:`semtrace_langchain.execution.take_model_facts`).
    """
    name = provider(metadata, invocation)
    url, region, own = model
    address, port = normalize.server(name, url=url, region=region)
    return records.ModelStart(
        provider=name,
        model=model_name(metadata, invocation),
        messages=records.LazySequence.mapped(message, messages),  # read on the worker
        operation="text_completion" if operation == "text_completion" else "chat",
        params=records.LazyParams(functools.partial(request_params, metadata, invocation, own)),
        tools=records.LazySequence(functools.partial(tool_definitions, invocation)),
        stream=bool((invocation or {}).get("stream")),
        server_address=address,
        server_port=port,
    )


def model_end(response: Any) -> records.ModelEnd:
    """What an ``LLMResult`` says: output messages, usage, model, id, finish reasons.

    Each generation's message carries the provider's ``response_metadata`` (merged over
    a stream's chunks) and LangChain's ``usage_metadata``; ``generation_info`` and
    ``llm_output`` hold the same facts for older or completion models.
    """
    generations = [g for batch in (getattr(response, "generations", None) or ()) for g in batch]
    llm_output = getattr(response, "llm_output", None) or {}
    output: list[Message] = []
    finish: list[str] = []
    response_model = response_id = None
    for generation in generations:
        msg = getattr(generation, "message", None)
        info = getattr(generation, "generation_info", None) or {}
        meta = getattr(msg, "response_metadata", None) or {}
        out = (
            message(msg)
            if msg is not None
            else Message("assistant", _content_parts(generation.text))
        )
        out.role = "assistant"
        out.finish_reason = normalize.finish_reason_of(meta, info) or _tool_call_finish(out)
        output.append(out)
        if out.finish_reason:
            finish.append(out.finish_reason)
        response_model = response_model or normalize.response_model(meta, info)
        response_id = (
            response_id
            or normalize.response_id(meta, info)
            or _provider_id(getattr(msg, "id", None))
        )
    return records.ModelEnd(
        output=output,
        usage=usage(generations, llm_output),
        response_model=response_model or normalize.response_model(llm_output),
        response_id=response_id or normalize.response_id(llm_output),
        finish_reasons=finish,
    )


def _tool_call_finish(out: Message) -> str | None:
    """No reason given: a message that calls tools stopped to call them."""
    return "tool_call" if any(isinstance(p, ToolCallPart) for p in out.parts) else None


def _provider_id(message_id: Any) -> str | None:
    """A message id, unless it is one LangChain made up from the run id."""
    if not isinstance(message_id, str) or message_id.startswith(("run-", "lc_run-", "lc_")):
        return None
    return message_id


def usage(generations: Sequence[Any], llm_output: Mapping[str, Any]) -> records.Usage | None:
    """Provider usage: ``usage_metadata`` first, then ``llm_output``, then ``generation_info``.

    Several generations (``n > 1``, a batch of one prompt) each report their own usage
    and are summed; ``llm_output`` already holds the call's total.
    """
    total: records.Usage | None = None
    for generation in generations:
        msg = getattr(generation, "message", None)
        found = normalize.usage(getattr(msg, "usage_metadata", None))
        if found is not None:
            total = found if total is None else _add(total, found)
    if total is not None:
        return total
    found = normalize.usage(llm_output)
    if found is not None:
        return found
    for generation in generations:
        info = getattr(generation, "generation_info", None)
        meta = getattr(getattr(generation, "message", None), "response_metadata", None)
        found = normalize.usage(info, meta)
        if found is not None:
            total = found if total is None else _add(total, found)
    return total


def _add(total: records.Usage, more: records.Usage) -> records.Usage:
    for field in (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "reasoning_output_tokens",
    ):
        value = getattr(more, field)
        if value is not None:
            setattr(total, field, (getattr(total, field) or 0) + value)
    return total


def retrieval_start(
    query: Any, name: str | None, metadata: Mapping[str, Any] | None
) -> records.RetrievalStart:
    """A retriever run; the data source is the vector store's class when LangChain says it."""
    source = (metadata or {}).get("ls_vector_store_provider") or name
    return records.RetrievalStart(query=str(query), data_source=str(source) if source else None)


def retrieval_end(docs: Any) -> records.RetrievalEnd:
    """What a retriever returned."""
    return records.RetrievalEnd(documents(docs))


def documents(docs: Any) -> list[records.Document]:
    """LangChain ``Document`` objects as records, with ids and scores where present."""
    out = []
    for doc in docs if isinstance(docs, (list, tuple)) else ():
        meta = getattr(doc, "metadata", None) or {}
        doc_id = getattr(doc, "id", None) or meta.get("id") or meta.get("doc_id")
        score = meta.get("score", meta.get("relevance_score", meta.get("_similarity_score")))
        out.append(
            records.Document(
                content=str(getattr(doc, "page_content", "") or ""),
                id=str(doc_id) if doc_id is not None else None,
                score=float(score)
                if isinstance(score, (int, float)) and not isinstance(score, bool)
                else None,
            )
        )
    return out


def tool_start(
    serialized: Mapping[str, Any] | None, input_str: Any, kwargs: Mapping[str, Any]
) -> records.ToolStart:
    """A tool run: name, call id, description and arguments."""
    name = kwargs.get("name") or (serialized or {}).get("name") or "tool"
    inputs = kwargs.get("inputs")
    return records.ToolStart(
        name=str(name),
        call_id=kwargs.get("tool_call_id"),
        description=(serialized or {}).get("description"),
        arguments=inputs if inputs is not None else input_str,
    )


def tool_output(output: Any) -> Any:
    """A tool's result: a ``ToolMessage``'s content, or the value itself."""
    content = getattr(output, "content", None)
    return content if content is not None else output


#: Names LangChain gives a run the user did not name: no name is recorded for them.
_DEFAULT_NAMES: Final = frozenset({"LangGraph"})


def run_name(name: Any) -> str:
    """The name a user gave a chain or graph; empty for none, or for LangGraph's default."""
    if not isinstance(name, str) or name in _DEFAULT_NAMES:
        return ""
    return name


def is_agent_root(name: str | None, metadata: Mapping[str, Any] | None) -> bool:
    """The root run of a ``langchain.agents.create_agent`` agent."""
    agent = (metadata or {}).get("lc_agent_name")
    return agent is not None and agent == name


#: The steps of ``langgraph.prebuilt.create_react_agent`` that can run first: its model
#: step, and the hook before it. Their names are the only mark the prebuilt agent leaves.
_PREBUILT_AGENT_FIRST_STEPS: Final = frozenset({"agent", "pre_model_hook"})


def is_prebuilt_agent_node(metadata: Mapping[str, Any] | None, tags: Sequence[str] | None) -> bool:
    """A first step of ``langgraph.prebuilt.create_react_agent``: its graph is an agent.

    LangGraph 1.x also marks its runs ``ls_integration: langgraph``; LangGraph 0.x (the
    langchain-core 0.3 generation) does not, so only a different integration's mark excludes.
    """
    meta = metadata or {}
    return (
        meta.get("langgraph_node") in _PREBUILT_AGENT_FIRST_STEPS
        and meta.get("ls_integration", "langgraph") == "langgraph"
        and any(t.startswith("graph:step:") for t in tags or ())
    )


def run_context(
    metadata: Mapping[str, Any] | None, tags: Sequence[str] | None
) -> dict[str, Any] | None:
    """Per-call user/session/conversation ids and tags of a top-level run.

    LangGraph copies ``configurable.thread_id`` into the run metadata: it is the
    conversation id. ``user_id``, ``session_id`` and ``conversation_id`` metadata keys are
    read as they are; the run's own tags become ``semtrace.tags``.
    """
    meta = metadata or {}
    found = context_attributes(
        user_id=meta.get("user_id"),
        session_id=meta.get("session_id"),
        conversation_id=meta.get("conversation_id") or meta.get("thread_id"),
        tags=[t for t in tags or () if isinstance(t, str)],
    )
    return found or None


def prompt_ref(name: str, metadata: Mapping[str, Any] | None) -> tuple[str, str | None] | None:
    """A prompt template's name and version, when its run's metadata carries them.

    Read from the template's own ``metadata`` (``prompt_name``, ``prompt_version``), or from
    what LangSmith's hub sets on pulled prompts (``lc_hub_repo``, ``lc_hub_commit_hash``).
    """
    if "Prompt" not in name:
        return None
    meta = metadata or {}
    prompt = meta.get("prompt_name") or meta.get("lc_hub_repo")
    if not prompt:
        return None
    owner = meta.get("lc_hub_owner")
    if owner and not meta.get("prompt_name"):
        prompt = f"{owner}/{prompt}"
    version = meta.get("prompt_version") or meta.get("lc_hub_commit_hash")
    return str(prompt), str(version) if version else None


def error_kind(error: BaseException) -> str:
    """``control`` for LangGraph control flow, ``cancelled`` for abandonment, else ``error``."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & CONTROL_FLOW:
        return "control"
    if names & CANCELLED:
        return "cancelled"
    return "error"
