"""Trace every LlamaIndex run in the process, with no code change.

Example:
    >>> from semtrace_llamaindex import LlamaIndexInstrumentor
    >>> LlamaIndexInstrumentor().instrument()  # doctest: +SKIP

It adds one span handler and one event handler to LlamaIndex's root dispatcher, which
every LlamaIndex dispatcher propagates to. The legacy ``CallbackManager`` is not
involved: LlamaIndex fires instrumentation spans and events whatever callback
handlers are set.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from semtrace.integration import Options

from semtrace_llamaindex.events import EventHandler
from semtrace_llamaindex.handler import SpanHandler
from semtrace_llamaindex.package import _instruments
from semtrace_llamaindex.tracker import Tracker
from semtrace_llamaindex.version import __version__


class LlamaIndexInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """An OpenTelemetry instrumentor for LlamaIndex (``opentelemetry_instrumentor`` entry point).

    ``instrument()`` takes the keyword arguments of :class:`semtrace._recording.options.Options`,
    the same as the LangChain ``CallbackHandler``; an unknown one raises ``TypeError``.
    """

    _span_handler: SpanHandler | None = None
    _event_handler: EventHandler | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        """The LlamaIndex versions this instrumentor supports."""
        return _instruments

    @property
    def tracker(self) -> Tracker | None:
        """The tracker of the current instrumentation, if instrumented."""
        return self._span_handler.tracker if self._span_handler is not None else None

    def _instrument(self, **kwargs: Any) -> None:
        options = Options(**kwargs)  # unknown or conflicting keywords raise here
        recorder = options.recorder("llamaindex", "semtrace_llamaindex", __version__)
        tracker = Tracker(recorder, recorder.settings)
        root = get_dispatcher()
        _remove(root, SpanHandler, EventHandler)  # never two, however often we are called
        self._span_handler = SpanHandler(tracker, retire=_retire)
        self._event_handler = EventHandler(tracker)
        root.add_span_handler(self._span_handler)
        root.add_event_handler(self._event_handler)

    def _uninstrument(self, **kwargs: Any) -> None:
        root = get_dispatcher()
        _remove(root, EventHandler)
        span_handler, self._span_handler, self._event_handler = self._span_handler, None, None
        if span_handler is None:
            _remove(root, SpanHandler)
            return
        span_handler.tracker.close()  # nothing more is recorded
        if not span_handler.tracker.draining:
            _remove(root, SpanHandler)
        # else it retires itself once the calls still running have returned


def _retire(handler: SpanHandler) -> None:
    """Remove one drained span handler from the root dispatcher."""
    root = get_dispatcher()
    root.span_handlers = [h for h in root.span_handlers if h is not handler]


def _remove(dispatcher: Any, *types: type) -> None:
    """Remove semtrace's handlers of these types.

    The lists are replaced, not edited in place: another thread may be iterating them.
    Matched by type, not ``==`` (pydantic compares handlers field by field).
    """
    dispatcher.span_handlers = [h for h in dispatcher.span_handlers if not isinstance(h, types)]
    dispatcher.event_handlers = [h for h in dispatcher.event_handlers if not isinstance(h, types)]
