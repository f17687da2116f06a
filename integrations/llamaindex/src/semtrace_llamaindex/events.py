"""LlamaIndex instrumentation events to tracker calls, one small function per event.

Events carry the data spans lack: the messages and model of an LLM call, the vectors'
dimension, the retrieved nodes, the reranked nodes, the prompt template a ``predict``
formats. ``event.span_id`` names the span they belong to. Routes are looked up by event
class name along the class's MRO, so subclasses (``SparseEmbeddingStartEvent``) and events
of optional packages (``SpanCancelledEvent`` from ``llama-index-workflows``) need no
import here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from pydantic import PrivateAttr
from semtrace.integration import RetrievalEnd, Start, record_fault

from semtrace_llamaindex import structured, translate
from semtrace_llamaindex.classify import Op
from semtrace_llamaindex.table import OpenSpan
from semtrace_llamaindex.tracker import Tracker

Route = Callable[[Tracker, Any], None]
_MAX_CACHED_CLASSES: Final = 512
_UNKNOWN: Final[Any] = object()  # a class not looked up yet (None: no route)


def _chat_start(tracker: Tracker, event: Any) -> None:
    def build(span: OpenSpan) -> Start:
        return translate.chat_start(
            event.messages, event.additional_kwargs, event.model_dict, span.instance, _streams(span)
        )

    tracker.resolve(event.span_id, Op.MODEL, build)


def _completion_start(tracker: Tracker, event: Any) -> None:
    def build(span: OpenSpan) -> Start:
        return translate.completion_start(
            event.prompt, event.additional_kwargs, event.model_dict, span.instance, _streams(span)
        )

    tracker.resolve(event.span_id, Op.MODEL, build)


def _streams(span: OpenSpan) -> bool:
    return span.method.startswith(("stream", "astream"))


def _chunk(tracker: Tracker, event: Any) -> None:
    tracker.chunk(event.span_id, getattr(event, "response", None))


def _model_end(tracker: Tracker, event: Any) -> None:
    tracker.set_end(event.span_id, lambda: translate.model_end(event.response), final=True)


def _exception(tracker: Tracker, event: Any) -> None:
    tracker.fail(event.span_id, event.exception)


def _embedding_start(tracker: Tracker, event: Any) -> None:
    def build(span: OpenSpan) -> Start:
        return translate.embedding_start(span.instance, event.model_dict, span.args)

    tracker.resolve(event.span_id, Op.EMBEDDING, build)


def _embedding_end(tracker: Tracker, event: Any) -> None:
    tracker.set_end(event.span_id, lambda: translate.embedding_end(event.embeddings))


def _rerank_start(tracker: Tracker, event: Any) -> None:
    def build(span: OpenSpan) -> Start:
        return translate.rerank_start(event.query, event.nodes, event.top_n, event.model_name)

    tracker.resolve(event.span_id, Op.RERANK, build)


def _nodes_end(tracker: Tracker, event: Any) -> None:
    tracker.set_end(event.span_id, lambda: RetrievalEnd(translate.documents(event.nodes)))


def _prompt(tracker: Tracker, event: Any) -> None:
    tracker.note_prompt(event.span_id, translate.prompt_ref(event.template))


def _structured(tracker: Tracker, event: Any) -> None:
    _prompt(tracker, event)
    tracker.note_output_schema(event.span_id, structured.output_schema(event.output_cls))


def _cancelled(tracker: Tracker, event: Any) -> None:
    tracker.cancelled(event.span_id)


ROUTES: Final[dict[str, Route]] = {
    "LLMChatStartEvent": _chat_start,
    "LLMCompletionStartEvent": _completion_start,
    "LLMChatInProgressEvent": _chunk,
    "LLMCompletionInProgressEvent": _chunk,
    "LLMChatEndEvent": _model_end,
    "LLMCompletionEndEvent": _model_end,
    "ExceptionEvent": _exception,
    "EmbeddingStartEvent": _embedding_start,
    "EmbeddingEndEvent": _embedding_end,
    "SparseEmbeddingEndEvent": _embedding_end,
    "ReRankStartEvent": _rerank_start,
    "ReRankEndEvent": _nodes_end,
    "RetrievalEndEvent": _nodes_end,
    "SpanCancelledEvent": _cancelled,
    "LLMPredictStartEvent": _prompt,
    "LLMStructuredPredictStartEvent": _structured,
}


def route_of(cls: type) -> Route | None:
    """The route of an event class: its own name's, else its nearest base's."""
    for base in cls.__mro__:
        route = ROUTES.get(base.__name__)
        if route is not None:
            return route
    return None


class EventHandler(BaseEventHandler):
    """Sends LlamaIndex events to a :class:`~semtrace_llamaindex.tracker.Tracker`."""

    _tracker: Tracker = PrivateAttr()
    _routes: dict[type, Route | None] = PrivateAttr(default_factory=dict)

    def __init__(self, tracker: Tracker) -> None:
        super().__init__()
        self._tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's name for this handler."""
        return "SemtraceEventHandler"

    def handle(self, event: Any, **kwargs: Any) -> None:
        """Route one event.

        Called for every event of every call, most of which semtrace has no route for:
        one dict lookup decides. The private attributes are read from
        ``__pydantic_private__`` (``self._routes`` goes through pydantic's ``__getattr__``).
        """
        try:
            private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
            routes: dict[type, Route | None] = private["_routes"]
            cls = type(event)
            route = routes.get(cls, _UNKNOWN)
            if route is _UNKNOWN:
                if len(routes) >= _MAX_CACHED_CLASSES:
                    routes.clear()  # event classes are few; made on the fly, bounded anyway
                route = routes[cls] = route_of(cls)
            if route is not None:
                route(private["_tracker"], event)
        except Exception:
            record_fault("EventHandler.handle")
