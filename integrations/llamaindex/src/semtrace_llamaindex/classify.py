"""What a LlamaIndex dispatcher span is, from its id, its instance and its arguments.

LlamaIndex names a span ``"{Class}.{method}-{uuid4}"`` and hands its handlers the
instance the method ran on. Structural spans are known at once from the instance's
type: engines, retrievers, tools, agents and workflows. Provider calls are only
*candidates* at first (an LLM instance also runs ``predict``, ``stream`` and
``_prepare_chat_with_tools`` spans): the event that carries their data
(``LLMChatStartEvent``, ``EmbeddingStartEvent``, ``ReRankStartEvent``) says which span
is the call. Everything else is plumbing.
"""

from __future__ import annotations

import enum
import functools
from typing import Any, Final

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.chat_engine.types import BaseChatEngine, StreamingAgentChatResponse
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.tools.types import BaseTool

try:  # llama-index-core >= 0.12: workflows
    from llama_index.core.workflow import Workflow
except ImportError:  # pragma: no cover - older cores
    Workflow = None  # type: ignore[assignment,misc]
try:
    from llama_index.core.agent.workflow import AgentWorkflow, BaseWorkflowAgent

    _AGENTS: tuple[type, ...] = (BaseWorkflowAgent, AgentWorkflow)
except ImportError:  # pragma: no cover - cores without workflow agents
    _AGENTS = ()
try:
    from llama_index.core.multi_modal_llms.base import MultiModalLLM

    _LLMS: tuple[type, ...] = (BaseLLM, MultiModalLLM)
except ImportError:  # pragma: no cover
    _LLMS = (BaseLLM,)

_UUID_SUFFIX: Final = 37  # "-" + str(uuid4())


class Op(enum.Enum):
    """What a span is recorded as."""

    # Identity hashing (members are singletons, equal only to themselves): Enum's own
    # ``__hash__`` is Python code, and ops and kinds are looked up in sets and dicts on
    # every dispatcher span.
    __hash__ = object.__hash__

    PENDING = "pending"  # a provider-call candidate waiting for its start event
    SKIP = "skip"  # plumbing: not recorded, children re-parent to its ancestor
    STEP = "step"  # plumbing shown because ``trace_all_runs`` is on
    WORKFLOW = "workflow"  # query/chat engine call at the top of a trace, or Workflow.run
    AGENT = "agent"
    RETRIEVAL = "retrieval"
    MODEL = "model"  # chat or text completion
    EMBEDDING = "embedding"
    RERANK = "rerank"
    TOOL = "tool"


RECORDED: Final = frozenset(Op) - {Op.PENDING, Op.SKIP}


class Kind(enum.Enum):
    """The family of the instance a span ran on."""

    __hash__ = object.__hash__  # as Op's

    OTHER = enum.auto()
    QUERY_ENGINE = enum.auto()
    CHAT_ENGINE = enum.auto()
    RETRIEVER = enum.auto()
    TOOL = enum.auto()
    LLM = enum.auto()
    EMBEDDING = enum.auto()
    POSTPROCESSOR = enum.auto()
    WORKFLOW = enum.auto()
    AGENT = enum.auto()
    STREAM_WRITER = enum.auto()


_METHODS: Final[dict[Kind, frozenset[str]]] = {
    Kind.QUERY_ENGINE: frozenset({"query", "aquery"}),
    Kind.CHAT_ENGINE: frozenset({"chat", "achat", "stream_chat", "astream_chat"}),
    Kind.RETRIEVER: frozenset({"retrieve", "aretrieve"}),
    Kind.TOOL: frozenset({"call", "acall"}),
    Kind.WORKFLOW: frozenset({"run"}),
    Kind.AGENT: frozenset({"run"}),
    Kind.STREAM_WRITER: frozenset({"write_response_to_history", "awrite_response_to_history"}),
}
# Provider-call candidates, and the op their start event makes them.
CANDIDATES: Final[dict[Kind, Op]] = {
    Kind.LLM: Op.MODEL,
    Kind.EMBEDDING: Op.EMBEDDING,
    Kind.POSTPROCESSOR: Op.RERANK,
}


# The span's (name, method, kind) by (instance class, span name); cleared when full.
_IDENTITIES: dict[tuple[type, str], tuple[str, str, Kind]] = {}
_MAX_IDENTITIES: Final = 4096


def identify(span_id: str, instance: Any) -> tuple[str, str, Kind]:
    """``split_id`` and ``entry_kind`` of a new span, in one dict lookup.

    Called for every dispatcher span; both answers depend only on the instance's class
    and the span's name, of which a process has few.
    """
    name = span_id
    if len(span_id) > _UUID_SUFFIX and span_id[-_UUID_SUFFIX] == "-":
        name = span_id[:-_UUID_SUFFIX]
    key = (type(instance), name)
    found = _IDENTITIES.get(key)
    if found is None:
        short, method = _split_name(name)
        found = (short, method, entry_kind(instance, method))
        if len(_IDENTITIES) >= _MAX_IDENTITIES:
            _IDENTITIES.clear()
        _IDENTITIES[key] = found
    return found


def split_id(span_id: str) -> tuple[str, str]:
    """``"RetrieverQueryEngine.query-<uuid>"`` -> ``("RetrieverQueryEngine.query", "query")``."""
    name = span_id
    if len(span_id) > _UUID_SUFFIX and span_id[-_UUID_SUFFIX] == "-":
        name = span_id[:-_UUID_SUFFIX]
    return _split_name(name)


@functools.lru_cache(maxsize=1024)
def _split_name(name: str) -> tuple[str, str]:
    """``split_id`` without the uuid (cached: a process runs few distinct methods)."""
    parts = name.rsplit(".", 2)
    method = parts[-1]
    short = ".".join(parts[-2:]) if len(parts) > 1 and parts[-2] != "<locals>" else method
    return short, method


@functools.lru_cache(maxsize=1024)
def kind_of(cls: type) -> Kind:
    """The family of a class (cached: classes are few, spans are many)."""
    checks: tuple[tuple[Kind, tuple[type, ...]], ...] = (
        (Kind.LLM, _LLMS),
        (Kind.EMBEDDING, (BaseEmbedding,)),
        (Kind.RETRIEVER, (BaseRetriever,)),
        (Kind.QUERY_ENGINE, (BaseQueryEngine,)),
        (Kind.CHAT_ENGINE, (BaseChatEngine,)),
        (Kind.TOOL, (BaseTool,)),
        (Kind.POSTPROCESSOR, (BaseNodePostprocessor,)),
        (Kind.STREAM_WRITER, (StreamingAgentChatResponse,)),
        (Kind.AGENT, _AGENTS),
        (Kind.WORKFLOW, (Workflow,) if Workflow is not None else ()),
    )
    for kind, bases in checks:
        if bases and issubclass(cls, bases):
            return kind
    return Kind.OTHER


def entry_kind(instance: Any, method: str) -> Kind:
    """The kind of a span, or OTHER when its method is not that kind's entry point."""
    if instance is None:
        return Kind.OTHER
    cls: type = type(instance)
    kind = kind_of(cls)
    if kind in CANDIDATES:
        return kind
    methods = _METHODS.get(kind)
    return kind if methods is not None and method in methods else Kind.OTHER


def is_tool_call_step(bound_args: Any) -> bool:
    """A workflow agent's ``call_tool`` step: its input event is a ``ToolCall``."""
    arguments = getattr(bound_args, "arguments", None) or {}
    event = arguments.get("ev")
    return type(event).__name__ == "ToolCall" and hasattr(event, "tool_name")


@functools.lru_cache(maxsize=512)  # a few hundred combinations; ``Kind.X`` reads are slow
def op_for(kind: Kind, outer: Op | None, tool_step: bool) -> Op:
    """The op of a new span of ``kind`` whose nearest recorded ancestor is ``outer``.

    Engines are workflows only at the top of a trace (nested ones are plumbing, as
    LangChain's nested chains are); a tool inside a tool is the same call.
    """
    if kind in CANDIDATES:
        return Op.PENDING
    if kind in (Kind.QUERY_ENGINE, Kind.CHAT_ENGINE):
        return Op.WORKFLOW if outer is None else Op.SKIP
    if kind is Kind.RETRIEVER:
        return Op.RETRIEVAL
    if kind is Kind.TOOL or tool_step:
        return Op.SKIP if outer is Op.TOOL else Op.TOOL
    if kind is Kind.AGENT:
        return Op.AGENT
    if kind is Kind.WORKFLOW:
        return Op.WORKFLOW
    return Op.SKIP
