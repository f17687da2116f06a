"""The framework-neutral records that integrations hand to the :class:`~semtrace.Recorder`.

An integration's whole job is to turn its framework's events into these: it never
touches a span. Each ``*Start`` record opens one span; the matching ``*End`` record
closes it. Records are plain slotted dataclasses so building them is cheap.

What only the worker reads can be translated there: a model's prompt and tools as
:class:`LazySequence`, its parameters as :class:`LazyParams`, its response as
:class:`LazyEnd`. The caller's thread then keeps a reference to the framework's objects
and pays for none of the translation.

Example:
    >>> from semtrace.records import ModelStart, Message, TextPart
    >>> start = ModelStart(provider="openai", model="gpt-4o-mini",
    ...                    messages=[Message("user", [TextPart("Hi")])])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from semtrace import semconv
from semtrace.safety import record_fault

T = TypeVar("T")
R = TypeVar("R")

# --- message parts, in the GenAI conventions' shape ---


@dataclass(slots=True)
class TextPart:
    """Plain text."""

    content: str


@dataclass(slots=True)
class ReasoningPart:
    """Reasoning text the model exposed."""

    content: str


@dataclass(slots=True)
class ToolCallPart:
    """A tool call requested by the model."""

    name: str
    id: str | None = None
    arguments: Any = None


@dataclass(slots=True)
class ToolCallResponsePart:
    """The result of a tool call, sent back to the model."""

    response: Any
    id: str | None = None


@dataclass(slots=True)
class MediaPart:
    """An image, audio clip, video or document: by URI, as inline data, or as a file id.

    Written as the conventions' ``uri``, ``blob`` or ``file`` part. Inline ``data`` is
    base64 text; tiktoken does not count any of these.
    """

    #: ``image``, ``audio``, ``video`` or ``document``
    modality: str
    mime_type: str | None = None
    uri: str | None = None
    data: str | None = None
    file_id: str | None = None


Part = TextPart | ReasoningPart | ToolCallPart | ToolCallResponsePart | MediaPart
Role = str  # "system" | "user" | "assistant" | "tool" | anything a framework invents


@dataclass(slots=True)
class Message:
    """One chat message: a role and its parts."""

    role: Role
    parts: list[Part]
    name: str | None = None
    finish_reason: str | None = None


@dataclass(slots=True)
class ToolDefinition:
    """A tool offered to a model."""

    name: str
    description: str | None = None
    parameters: Any = None
    type: str = "function"


@dataclass(slots=True)
class Usage:
    """Token usage as a provider reported it. ``None`` means not reported."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None

    @property
    def reported(self) -> bool:
        """Whether the provider gave the input or output count."""
        return self.input_tokens is not None or self.output_tokens is not None


def as_int(value: Any) -> int | None:
    """A count from a framework payload (tokens, top_k): an int, or a finite float; else None.

    ``True`` is not a count (``bool`` is an ``int`` in Python).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return None


@dataclass(slots=True)
class Document:
    """One retrieved document or node."""

    content: str = ""
    id: str | None = None
    score: float | None = None


# --- starts ---


@dataclass(slots=True)
class WorkflowStart:
    """A top-level pipeline run: ``invoke_workflow {name}``."""

    name: str
    input: Any = None


@dataclass(slots=True)
class AgentStart:
    """An agent run: ``invoke_agent {name}``."""

    name: str
    id: str | None = None
    description: str | None = None
    input: Any = None
    #: ``gen_ai.provider.name``: the provider of the agent's model, when known at start;
    #: otherwise the recorder takes it from the agent's first model call.
    provider: str | None = None


@dataclass(slots=True)
class ModelStart:
    """A chat or completion call: ``chat {model}`` / ``text_completion {model}``."""

    provider: str
    model: str | None
    messages: Sequence[Message]
    operation: Literal["chat", "text_completion"] = semconv.OP_CHAT
    params: Mapping[str, Any] = field(default_factory=dict)
    tools: Sequence[ToolDefinition] = ()
    stream: bool = False
    #: ``server.address`` / ``server.port``: where the client sends the call
    #: (see :func:`semtrace.normalize.server`).
    server_address: str | None = None
    server_port: int | None = None
    #: Structured output requested: ``"json"`` (the text must be JSON) or ``"tool_call"``
    #: (the answer must come as a tool call); None when none was.
    output_format: str | None = None
    #: The JSON Schema the structured output must match, when the request gave one.
    output_schema: Any = None


@dataclass(slots=True)
class EmbeddingStart:
    """An embeddings call: ``embeddings {model}``."""

    provider: str
    model: str | None
    inputs: Sequence[str] = ()
    server_address: str | None = None
    server_port: int | None = None


@dataclass(slots=True)
class RetrievalStart:
    """A retriever call: ``retrieval {data_source}``."""

    query: str
    data_source: str | None = None
    top_k: int | None = None


@dataclass(slots=True)
class RerankStart:
    """A reranker call (no GenAI operation exists yet): ``rerank {model}``."""

    query: str
    model: str | None = None
    top_n: int | None = None
    documents: Sequence[Document] = ()


@dataclass(slots=True)
class ToolStart:
    """A tool execution: ``execute_tool {name}``."""

    name: str
    call_id: str | None = None
    description: str | None = None
    arguments: Any = None
    type: str = "function"


@dataclass(slots=True)
class StepStart:
    """Framework plumbing shown only when ``trace_all_runs`` is on: span named ``name``."""

    name: str
    input: Any = None


Start = (
    WorkflowStart
    | AgentStart
    | ModelStart
    | EmbeddingStart
    | RetrievalStart
    | RerankStart
    | ToolStart
    | StepStart
)

# --- ends ---


@dataclass(slots=True)
class ModelEnd:
    """What a model call returned."""

    output: list[Message] = field(default_factory=list)
    usage: Usage | None = None
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: Sequence[str] = ()


@dataclass(slots=True)
class EmbeddingEnd:
    """What an embeddings call returned (never the vectors themselves)."""

    dimension: int | None = None
    usage: Usage | None = None


@dataclass(slots=True)
class RetrievalEnd:
    """What a retriever or reranker returned."""

    documents: Sequence[Document] = ()


@dataclass(slots=True)
class ValueEnd:
    """What a workflow, agent, tool or step returned."""

    output: Any = None


End = ModelEnd | EmbeddingEnd | RetrievalEnd | ValueEnd


# --- translated where they are read ---


class LazySequence(Sequence[T]):
    """A sequence read on first use: on the worker, not on the caller's thread.

    Args:
        read: Returns the items; it runs on first use. Whatever it reads must not change
            later: an integration hands it a copy of a list the app may change
            (:meth:`mapped` makes that copy).

    A fault while reading is counted and reads as no items: the span and its other
    attributes are unaffected. Two threads reading at once may both read; each gets the
    same result.
    """

    __slots__ = ("_items", "_read")

    def __init__(self, read: Callable[[], Sequence[T]]) -> None:
        self._read = read
        self._items: Sequence[T] | None = None

    @classmethod
    def mapped(cls, translate: Callable[[Any], T], items: Iterable[Any]) -> LazySequence[T]:
        """``translate`` of each of ``items``, on first use.

        ``items`` (the framework's list, which the app may change after the call) is
        copied now; the objects in it are not.
        """
        copied = tuple(items)
        return cls(lambda: [translate(item) for item in copied])

    def _values(self) -> Sequence[T]:
        items = self._items
        if items is None:
            none: list[T] = []
            items = self._items = _read_or(lambda: list(self._read()), none, "LazySequence")
        return items

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._values()[index]

    def __len__(self) -> int:
        return len(self._values())

    def __iter__(self) -> Iterator[T]:
        return iter(self._values())

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._values())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazySequence):
            other = other._values()
        return list(self._values()) == other

    def __repr__(self) -> str:
        return f"LazySequence({self._values()!r})"

    __hash__ = None  # type: ignore[assignment]  # like the list it stands for


class LazyParams(Mapping[str, Any]):
    """A model call's request parameters, read on first use (on the worker).

    ``read`` returns them as :func:`semtrace.normalize.request_params` does; a fault
    while reading is counted and reads as none.
    """

    __slots__ = ("_items", "_read")

    def __init__(self, read: Callable[[], Mapping[str, Any]]) -> None:
        self._read = read
        self._items: Mapping[str, Any] | None = None

    def _values(self) -> Mapping[str, Any]:
        items = self._items
        if items is None:
            none: dict[str, Any] = {}
            items = self._items = _read_or(lambda: dict(self._read()), none, "LazyParams")
        return items

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __len__(self) -> int:
        return len(self._values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __repr__(self) -> str:
        return f"LazyParams({self._values()!r})"


@dataclass(slots=True)
class LazyEnd:
    """An end record read from the framework's response on the worker.

    ``read`` returns the :class:`ModelEnd` (or any end record); it runs once, off the
    caller's thread, after the run ended. The response it reads must be the framework's
    own object, which nobody changes after handing it over.
    """

    read: Callable[[], End]

    def resolve(self) -> End | None:
        """The end record; None (and a counted fault) if the response cannot be read.

        A fault loses what the response said, never the span.
        """
        return _read_or(self.read, None, "Recorder.end read")


def _read_or(read: Callable[[], R], default: R, site: str) -> R:
    """What ``read`` returns, or ``default`` with a fault counted at ``site``."""
    try:
        return read()
    except Exception:
        record_fault(site)
        return default
