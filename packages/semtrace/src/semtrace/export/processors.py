"""The base of semtrace's span processors that sit in front of other processors.

:class:`~semtrace.dedupe.DuplicateModelSpanFilter` and
:class:`~semtrace.sampling.TailSamplingProcessor` both wrap the processors that export.
What they share lives here: every call to a downstream processor is guarded (a fault
is counted, never raised into the code that ended a span), the SDK's private
``_on_ending`` hook is passed on (see :mod:`semtrace.private_apis`), and
``force_flush`` shares one deadline among the downstream processors.

They also keep a trace's local root after the rest of it. semtrace ends its spans on
its worker thread (:mod:`semtrace._worker`), a few milliseconds after the framework
returned; an application span around the chain (a web request's) ends on the app's
thread meanwhile. Its end is passed on once the worker is done with its trace, so the
exporters, the tail sampler and the console tree still see the root last.

Example:
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    ...     InMemorySpanExporter,
    ... )
    >>> class PassThrough(WrappingProcessor):
    ...     pass
    >>> PassThrough(SimpleSpanProcessor(InMemorySpanExporter())).force_flush()
    True
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanContext
from opentelemetry.util.types import AttributeValue

from semtrace import _worker as worker
from semtrace.private_apis import ON_ENDING, forward_on_ending
from semtrace.safety import record_fault


class WrappingProcessor(SpanProcessor):
    """Forwards every span processor call to ``downstream``; never raises.

    Subclasses decide what to forward by overriding ``on_start``, ``_on_ending`` or
    ``_on_end`` and calling the ``_forward_*`` methods.

    Args:
        *downstream: The processors to forward to, in order.
    """

    def __init__(self, *downstream: SpanProcessor) -> None:
        self._downstream: tuple[SpanProcessor, ...] = tuple(downstream)

    # --- SpanProcessor ---

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Forward the start."""
        self._forward_start(span, parent_context)

    def _on_ending(self, span: Span) -> None:
        """Forward the SDK's "span is ending" hook."""
        self._forward_ending(span)

    def on_end(self, span: ReadableSpan) -> None:
        """Pass the end on; a local root waits for the rest of its trace (see above)."""
        try:
            if is_local_root(span) and worker.after_trace(
                span.context.trace_id, functools.partial(self._on_end, span)
            ):
                return
        except Exception:
            self._fault("on_end")
        self._on_end(span)

    def _on_end(self, span: ReadableSpan) -> None:
        """Forward the end."""
        self._forward_end(span)

    def shutdown(self) -> None:
        """End the spans whose end was worker, then shut every downstream processor down."""
        worker.drain(worker.EXIT_WAIT_S)
        for processor in self._downstream:
            self._call("shutdown", processor.shutdown)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """End deferred spans, then flush every downstream processor: ``timeout_millis`` in all."""
        deadline = time.monotonic_ns() + timeout_millis * 1_000_000
        worker.drain(timeout_millis / 1000)
        flushed = True
        for processor in self._downstream:
            left_ms = (deadline - time.monotonic_ns()) // 1_000_000
            if left_ms <= 0:
                return False
            if self._call("force_flush", processor.force_flush, left_ms) is not True:
                flushed = False
        return flushed

    # --- for subclasses ---

    def _forward_start(self, span: Span, parent_context: Context | None) -> None:
        for processor in self._downstream:
            self._call("on_start", processor.on_start, span, parent_context)

    def _forward_ending(self, span: Span) -> None:
        for processor in self._downstream:
            self._call(ON_ENDING, forward_on_ending, processor, span)

    def _forward_end(self, span: ReadableSpan) -> None:
        for processor in self._downstream:
            self._call("on_end", processor.on_end, span)

    def _call(self, site: str, method: Callable[..., Any], *args: Any) -> Any:
        """Call a downstream processor; its exception is counted, never raised."""
        try:
            return method(*args)
        except Exception:
            self._fault(f"downstream.{site}")
            return None

    def _fault(self, site: str) -> None:
        """Count a fault at ``site`` (subclasses may count it in their own stats too)."""
        record_fault(f"{type(self).__name__}.{site}")


def is_local_root(span: ReadableSpan) -> bool:
    """Whether ``span`` is its process's root of the trace: no parent, or a remote one."""
    parent = span.parent
    return parent is None or parent.is_remote


def copy_span(
    span: ReadableSpan,
    *,
    parent: SpanContext | None = None,
    extra_attributes: Mapping[str, AttributeValue] | None = None,
) -> ReadableSpan:
    """A copy of the finished ``span``, re-parented and/or with attributes added.

    The SDK's spans are immutable once ended; processors and exporters that change one
    (the duplicate filter re-parents, the backend views add attributes) export a copy.
    Dropped-item counts read as 0 on the copy.
    """
    attributes = span.attributes
    if extra_attributes:
        attributes = {**(attributes or {}), **extra_attributes}
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=parent if parent is not None else span.parent,
        resource=span.resource,
        attributes=attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
