"""The LlamaIndex span handler: each dispatcher span's enter, exit and drop go to the tracker.

It keeps nothing in LlamaIndex's ``open_spans`` (``new_span`` returns None): the
tracker's bounded table holds the state, so a span whose exit never comes cannot
grow the handler (``SimpleSpanHandler`` keeps every completed span forever).

After ``uninstrument()`` it stays registered, inert, only until the spans still
running have returned and detached the context they attached, then retires.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from pydantic import PrivateAttr
from semtrace.integration import never_raise, record_fault

from semtrace_llamaindex.tracker import Tracker


class SpanHandler(BaseSpanHandler[BaseSpan]):
    """Sends LlamaIndex dispatcher spans to a :class:`~semtrace_llamaindex.tracker.Tracker`.

    Args:
        tracker: Where spans go.
        retire: Called once the tracker is closed and no running span holds an attached
            context any more (the instrumentor then removes this handler).
    """

    _tracker: Tracker = PrivateAttr()
    _retire: Callable[[SpanHandler], None] | None = PrivateAttr(default=None)

    def __init__(
        self, tracker: Tracker, retire: Callable[[SpanHandler], None] | None = None
    ) -> None:
        super().__init__()
        self._tracker = tracker
        self._retire = retire

    @property
    def tracker(self) -> Tracker:
        """The tracker this handler reports to."""
        return self._tracker

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's name for this handler."""
        return "SemtraceSpanHandler"

    # The dispatcher calls span_enter/exit/drop for every span of every call. They are
    # overridden (the base's versions only forward to new_span & co. and store what they
    # return, which is always None here) and read the tracker from ``__pydantic_private__``:
    # ``self._tracker`` goes through pydantic's ``__getattr__``, about 2 us a read.

    def span_enter(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A span started."""
        try:
            tracker: Tracker = self.__pydantic_private__["_tracker"]  # type: ignore[index]
            tracker.enter(id_, parent_id, instance, bound_args)
        except Exception:
            record_fault("SpanHandler.span_enter")

    def span_exit(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> None:
        """A span's method returned."""
        try:
            tracker: Tracker = self.__pydantic_private__["_tracker"]  # type: ignore[index]
            tracker.exit(id_, result)
            if tracker.closed:
                self._retire_if_drained()
        except Exception:
            record_fault("SpanHandler.span_exit")

    def span_drop(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        """A span's method raised."""
        try:
            tracker: Tracker = self.__pydantic_private__["_tracker"]  # type: ignore[index]
            tracker.drop(id_, err)
            if tracker.closed:
                self._retire_if_drained()
        except Exception:
            record_fault("SpanHandler.span_drop")

    # The base class's abstract hooks, for callers that use them directly.

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> BaseSpan | None:
        """A span started (see :meth:`span_enter`)."""
        self.span_enter(id_, bound_args, instance, parent_span_id, tags)
        return None

    def prepare_to_exit_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> BaseSpan | None:
        """A span's method returned (see :meth:`span_exit`)."""
        self.span_exit(id_, bound_args, instance, result)
        return None

    def prepare_to_drop_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> BaseSpan | None:
        """A span's method raised (see :meth:`span_drop`)."""
        self.span_drop(id_, bound_args, instance, err)
        return None

    def _retire_if_drained(self) -> None:
        retire = self._retire
        if retire is not None and self._tracker.closed and not self._tracker.draining:
            self._retire = None
            retire(self)

    @never_raise
    def close(self) -> None:
        """``Dispatcher.shutdown()``: end what is still open."""
        self._tracker.close()
