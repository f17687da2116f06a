"""Backend views: the attributes one backend reads, added to each span as it is exported.

semtrace's spans carry the OpenTelemetry GenAI conventions plus ``semtrace.*``. Some
backends read other keys for things the conventions leave open (Langfuse's usage types,
cost breakdown and observation types; Phoenix's span kinds). A view adds those keys in
the exporter, on the export thread, after the caller's code has moved on: recording a
span never does this work, and the spans other exporters see are left as they are.

Example:
    >>> import semtrace
    >>> semtrace.configure(backend_view="langfuse")  # doctest: +SKIP

or ``SEMTRACE_BACKEND_VIEW=langfuse``. ``configure()`` picks the Langfuse view by itself
when the OTLP traces endpoint is Langfuse's (``.../api/public/otel``). Views:

* ``langfuse`` (:mod:`semtrace.views.langfuse`): usage details in Langfuse's usage types,
  cost details, observation types, prompt link, completion start time, trace name, tags.
* ``phoenix`` (:mod:`semtrace.views.phoenix`): ``openinference.span.kind`` for the span
  types Phoenix does not derive from the conventions.
* ``none``: nothing added.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.types import AttributeValue

from semtrace.config import env_backend_view, parse_backend_view
from semtrace.export.processors import copy_span
from semtrace.safety import record_fault

__all__ = ["ViewExporter", "choose_view", "make_view"]

logger = logging.getLogger(__name__)

#: Extra attributes for one finished span (None or empty: none).
View = Callable[[ReadableSpan], Mapping[str, AttributeValue] | None]

#: The path of Langfuse's OTLP endpoint (cloud and self-hosted alike).
LANGFUSE_OTLP_PATH: Final = "/api/public/otel"


class ViewExporter(SpanExporter):
    """Wraps an exporter: each span gets the view's attributes, then goes to ``exporter``.

    Runs wherever the wrapped exporter runs (a ``BatchSpanProcessor``'s worker thread).
    A view that fails on a span costs that span its extra attributes, nothing more: the
    span is exported as it was and the fault is counted.

    Args:
        exporter: The exporter that sends the spans.
        view: Computes the extra attributes of one span.
        name: The view's name, for logs and fault counts.
    """

    def __init__(self, exporter: SpanExporter, view: View, name: str) -> None:
        self.exporter = exporter
        self.name = name
        self._view = view

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export ``spans`` with the view's attributes added."""
        return self.exporter.export([self._apply(span) for span in spans])

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self.exporter.force_flush(timeout_millis)

    def _apply(self, span: ReadableSpan) -> ReadableSpan:
        try:
            extra = self._view(span)
            if not extra:
                return span
            return with_attributes(span, extra)
        except Exception:
            record_fault(f"view {self.name}")
            return span


def with_attributes(span: ReadableSpan, extra: Mapping[str, AttributeValue]) -> ReadableSpan:
    """A copy of the finished ``span`` with ``extra`` added to its attributes."""
    return copy_span(span, extra_attributes=extra)


def make_view(name: str) -> View | None:
    """The view called ``name`` (``none``: None).

    Raises:
        ValueError: If there is no such view.
    """
    name = parse_backend_view(name)
    if name == "langfuse":
        from semtrace.export.views.langfuse import LangfuseView

        return LangfuseView()
    if name == "phoenix":
        from semtrace.export.views.phoenix import phoenix_view

        return phoenix_view
    return None


def traces_endpoint() -> str:
    """The OTLP traces endpoint the exporter will use, from the standard variables."""
    for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return ""


def is_langfuse_endpoint(endpoint: str) -> bool:
    """Whether an OTLP endpoint URL is Langfuse's (its path holds ``/api/public/otel``)."""
    try:
        path = urllib.parse.urlparse(endpoint).path
    except ValueError:
        return False
    return LANGFUSE_OTLP_PATH + "/" in path.rstrip("/") + "/"


def choose_view(explicit: str | None = None, endpoint: str | None = None) -> str:
    """Which view to apply: the argument, else ``SEMTRACE_BACKEND_VIEW``, else the endpoint's.

    Args:
        explicit: ``configure(backend_view=...)``; None means not given.
        endpoint: The OTLP traces endpoint; None reads the ``OTEL_EXPORTER_OTLP_*`` variables.

    Returns:
        ``langfuse``, ``phoenix`` or ``none``.

    Raises:
        ValueError: If ``explicit`` names no view.
    """
    if explicit is not None:
        return parse_backend_view(explicit)
    from_env = env_backend_view()
    if from_env is not None:
        return from_env
    if is_langfuse_endpoint(traces_endpoint() if endpoint is None else endpoint):
        logger.debug("the OTLP endpoint is Langfuse's: applying the langfuse view")
        return "langfuse"
    return "none"


def wrap(exporter: SpanExporter, name: str) -> SpanExporter:
    """``exporter`` with view ``name`` applied (itself for ``none``)."""
    view = make_view(name)
    return exporter if view is None else ViewExporter(exporter, view, name)
