"""Record each LLM call once when a provider SDK's own instrumentation is also active.

LangChain's ``ChatOpenAI`` calls the ``openai`` SDK. semtrace makes its ``chat`` span
current while the model runs (:meth:`semtrace.Recorder.activate`), so when
``opentelemetry-instrumentation-openai-v2`` (or OpenInference's, or OpenLLMetry's) is
also on, its own ``chat gpt-4o-mini`` span with ``gen_ai.usage.*`` nests under ours:
one call, two model spans, and a dashboard that sums tokens or counts calls over spans
counts it twice.

:class:`DuplicateModelSpanFilter` wraps the span processors that export. A model span
of another instrumentation whose parent is a semtrace model span (or such a duplicate)
is never shown to them, neither its start nor its end, and the spans below it (the HTTP
``POST``) are handed over re-parented to the semtrace span, so no orphan appears::

    chat gpt-4o-mini   (semtrace)             chat gpt-4o-mini   (semtrace)
      chat gpt-4o-mini (openai-v2)     ->       POST
        POST

Why this design:

* semtrace's span is the one kept: it has everything the provider's has that a
  dashboard counts (model, response id, finish reasons, the provider's usage as
  LangChain reports it) plus cost, quality signals, content policy and the run tree.
* The decision is made when the duplicate *starts* (its parent and start attributes
  are known then), so processors that pair ``on_start`` with ``on_end`` stay
  consistent, and its children, which end before it, can already be re-parented.
  (A child's ``on_start`` still carries the original parent: the SDK's live span cannot
  be changed; the re-parented copy is what ``on_end``, and so every exporter, gets.)
* A sampler could not do it: a dropped span's id is still its children's parent, so
  they would be orphans. Suppressing instrumentation (the API's
  ``suppress_instrumentation`` key) would silence the HTTP span and semtrace itself.
  Uninstrumenting the provider loses its spans for calls made outside any framework,
  which this filter keeps: only a model span *under* a semtrace model span is dropped.
* ``opentelemetry-util-genai`` 1.3 suppresses a nested inference when the context
  holds its ``CLIENT_INFERENCE_CONTEXT_KEY``, which would also silence the provider's
  metrics per call; no released ``opentelemetry-instrumentation-openai-v2`` works with
  that version yet (2.4b0 needs util-genai < 1.2), so it is not relied on here.

State is bounded: ``max_spans`` entries per table, oldest forgotten first, so spans
that never end cannot grow it; a duplicate forgotten that way is exported after all
(a duplicate kept, never a span lost). Every method is thread-safe and never raises:
on an internal fault the span is forwarded unchanged.

Not covered: a provider span that is not a child of the semtrace span (LangChain's
``.stream()``/``.astream()`` run outside :meth:`~semtrace.Recorder.activate`, so the
provider's span is not nested under ours there, and it is kept).

Metrics are a separate stream. The provider instrumentation records
``gen_ai.client.token.usage`` and ``gen_ai.client.operation.duration`` under its own
meter, so those totals stay doubled unless that meter's GenAI metrics are dropped with
SDK views (this drops them for calls made outside any framework too; the alternative is
to filter dashboards on the instrumentation scope)::

    from opentelemetry.sdk.metrics import MeterProvider
    from semtrace.export.dedupe import provider_metric_views

    meter_provider = MeterProvider(metric_readers=[reader], views=provider_metric_views())

Example:
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    ...     InMemorySpanExporter,
    ... )
    >>> from semtrace.dedupe import DuplicateModelSpanFilter
    >>> provider = TracerProvider()
    >>> exporting = SimpleSpanProcessor(InMemorySpanExporter())
    >>> provider.add_span_processor(DuplicateModelSpanFilter(exporting))

    or, for a provider already set up (e.g. by ``phoenix.otel.register()``):

    >>> from semtrace.dedupe import install
    >>> install(provider) is not None
    True
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.context import Context
from opentelemetry.sdk.metrics.view import DropAggregation, View
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanContext

from semtrace import semconv
from semtrace._telemetry.attributes import MODEL_OPERATIONS
from semtrace.export.processors import WrappingProcessor, copy_span
from semtrace.safety import record_fault

__all__ = [
    "PROVIDER_METERS",
    "DuplicateModelSpanFilter",
    "install",
    "is_model_span",
    "provider_metric_views",
]

DEFAULT_MAX_SPANS: Final = 4096
#: Meters of provider instrumentations whose GenAI metrics double semtrace's:
#: ``opentelemetry-instrumentation-openai-v2`` (embeddings), its successor
#: ``opentelemetry-instrumentation-genai-openai``, and the ``opentelemetry-util-genai``
#: handler they record chat calls with.
PROVIDER_METERS: Final = (
    "opentelemetry.instrumentation.openai_v2",
    "opentelemetry.instrumentation.genai.openai",
    "opentelemetry.util.genai.handler",
)
_GENAI_MODEL_OPERATIONS: Final = frozenset({*MODEL_OPERATIONS, "generate_content"})
_OPENINFERENCE_MODEL_KINDS: Final = frozenset({"LLM", "EMBEDDING"})


def is_model_span(span: ReadableSpan) -> bool:
    """Whether ``span`` (as started) records a model call, by any common convention.

    OpenTelemetry GenAI (``gen_ai.operation.name`` chat, text_completion, embeddings,
    generate_content), OpenInference (``openinference.span.kind`` LLM or EMBEDDING) and
    OpenLLMetry (``llm.request.type``).
    """
    attrs = span.attributes or {}
    return (
        attrs.get(semconv.GEN_AI_OPERATION_NAME) in _GENAI_MODEL_OPERATIONS
        or attrs.get("openinference.span.kind") in _OPENINFERENCE_MODEL_KINDS
        or "llm.request.type" in attrs
    )


def is_semtrace_scope(name: str) -> bool:
    """Whether an instrumentation scope is semtrace's: the core's or an integration's."""
    return name == semconv.SCOPE_NAME or name.startswith(semconv.SCOPE_NAME + "_")


def _is_semtrace_model_span(span: ReadableSpan) -> bool:
    scope = span.instrumentation_scope
    if scope is None or not is_semtrace_scope(scope.name):
        return False
    return (span.attributes or {}).get(semconv.GEN_AI_OPERATION_NAME) in MODEL_OPERATIONS


@dataclass
class _Owner:
    """A semtrace model span in flight and the duplicates hidden under it."""

    context: SpanContext
    hidden: list[int] = field(default_factory=list)


class DuplicateModelSpanFilter(WrappingProcessor):
    """Forward spans to ``downstream`` processors, minus provider duplicates of semtrace's.

    See the module documentation for what is dropped and why.

    Args:
        *downstream: The processors to forward to, in order (typically the exporting
            ``BatchSpanProcessor``).
        max_spans: Bound of each of the filter's tables (open semtrace model spans, open
            and recently ended duplicates).
        is_model_span: Tells whether a span of another instrumentation, as started,
            records a model call; :func:`is_model_span` by default.

    Attributes:
        dropped: How many duplicate spans were not forwarded.
    """

    def __init__(
        self,
        *downstream: SpanProcessor,
        max_spans: int = DEFAULT_MAX_SPANS,
        is_model_span: Callable[[ReadableSpan], bool] = is_model_span,
    ) -> None:
        if max_spans < 1:
            raise ValueError(f"max_spans must be at least 1, got {max_spans}")
        super().__init__(*downstream)
        self._max_spans = max_spans
        self._is_model_span = is_model_span
        self._lock = threading.Lock()
        self._owners: OrderedDict[int, _Owner] = OrderedDict()
        self._hidden: OrderedDict[int, SpanContext] = OrderedDict()  # open duplicate -> owner
        self._retired: OrderedDict[int, SpanContext] = OrderedDict()  # ended duplicate -> owner
        self.dropped = 0

    @property
    def downstream(self) -> tuple[SpanProcessor, ...]:
        """The processors spans are forwarded to."""
        return self._downstream

    @property
    def tracked(self) -> int:
        """Entries held in the filter's tables; back to 0 once the traces have ended."""
        with self._lock:
            return len(self._owners) + len(self._hidden) + len(self._retired)

    def add_span_processor(self, processor: SpanProcessor) -> None:
        """Forward to ``processor`` too, after the others."""
        with self._lock:
            self._downstream = (*self._downstream, processor)

    # --- SpanProcessor ---

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Forward the start, unless ``span`` duplicates a semtrace model span."""
        if not self._hide_at_start(span):
            self._forward_start(span, parent_context)

    def _on_ending(self, span: Span) -> None:
        """Forward the SDK's "span is ending" hook, unless ``span`` is a hidden duplicate."""
        if not self._is_hidden(span):
            self._forward_ending(span)

    def _on_end(self, span: ReadableSpan) -> None:
        """Forward the end: not a duplicate's, and a duplicate's child re-parented."""
        forwarded = self._at_end(span)
        if forwarded is not None:
            self._forward_end(forwarded)

    # --- bookkeeping ---

    def _hide_at_start(self, span: Span) -> bool:
        try:
            context, parent = span.get_span_context(), span.parent
            if context is None:
                return False
            if _is_semtrace_model_span(span):
                with self._lock:
                    self._remember(self._owners, context.span_id, _Owner(context))
                return False
            if parent is None:
                return False
            owner = self._owner_of(parent.span_id, include_ended=False)
            if owner is None or owner.trace_id != context.trace_id:
                return False
            if not self._is_model_span(span):
                return False
            with self._lock:
                self._remember(self._hidden, context.span_id, owner)
                record = self._owners.get(owner.span_id)
                if record is not None and len(record.hidden) < self._max_spans:
                    record.hidden.append(context.span_id)
            return True
        except Exception:
            record_fault("DuplicateModelSpanFilter.on_start")
            return False

    def _is_hidden(self, span: Span) -> bool:
        try:
            context = span.get_span_context()
            with self._lock:
                return context is not None and context.span_id in self._hidden
        except Exception:
            record_fault("DuplicateModelSpanFilter._on_ending")
            return False

    def _at_end(self, span: ReadableSpan) -> ReadableSpan | None:
        """The span to forward: ``None`` for a duplicate, a re-parented copy for its child."""
        try:
            context, parent = span.context, span.parent
            if context is None:
                return span
            with self._lock:
                if self._end_owned(context.span_id):
                    self.dropped += 1
                    return None
            if parent is None:
                return span
            owner = self._owner_of(parent.span_id, include_ended=True)
            if owner is None or owner.trace_id != context.trace_id:
                return span
            return _reparented(span, owner)
        except Exception:
            record_fault("DuplicateModelSpanFilter.on_end")
            return span

    def _end_owned(self, span_id: int) -> bool:
        """Forget an ending span; True when it was a hidden duplicate. Holds the lock."""
        owner = self._owners.pop(span_id, None)
        if owner is not None:
            for hidden_id in owner.hidden:
                self._retired.pop(hidden_id, None)
            return False
        hidden_owner = self._hidden.pop(span_id, None)
        if hidden_owner is None:
            return False
        if hidden_owner.span_id in self._owners:  # late children may still come
            self._remember(self._retired, span_id, hidden_owner)
        return True

    def _owner_of(self, parent_id: int, *, include_ended: bool) -> SpanContext | None:
        """The semtrace span a child of ``parent_id`` belongs under, if it is ours."""
        with self._lock:
            owner = self._owners.get(parent_id)
            if owner is not None:
                return owner.context
            found = self._hidden.get(parent_id)
            if found is None and include_ended:
                found = self._retired.get(parent_id)
            return found

    def _remember(self, table: OrderedDict[int, Any], key: int, value: Any) -> None:
        """Insert, forgetting the oldest entries past the bound. Holds the lock."""
        table[key] = value
        while len(table) > self._max_spans:
            table.popitem(last=False)


def _reparented(span: ReadableSpan, parent: SpanContext) -> ReadableSpan:
    """A copy of ``span`` whose parent is ``parent`` (dropped-item counts read as 0)."""
    return copy_span(span, parent=parent)


def install(tracer_provider: Any, **options: Any) -> DuplicateModelSpanFilter | None:
    """Put the processors already added to an SDK ``tracer_provider`` behind one filter.

    Call it after the exporting processors have been added: one added later is not
    filtered unless given to the returned filter's ``add_span_processor``. Calling it
    again moves processors added since into the same filter.

    Args:
        tracer_provider: An ``opentelemetry.sdk.trace.TracerProvider``.
        **options: ``max_spans`` or ``is_model_span`` for a new filter.

    Returns:
        The filter, or ``None`` when ``tracer_provider`` is not an SDK provider whose
        processors can be wrapped (then nothing changed).
    """
    try:
        active = getattr(tracer_provider, "_active_span_processor", None)
        lock = getattr(active, "_lock", None)
        if active is None or lock is None:
            return None
        with lock:
            current = getattr(active, "_span_processors", None)
            if not isinstance(current, tuple):
                return None
            found = [p for p in current if isinstance(p, DuplicateModelSpanFilter)]
            others = [p for p in current if not isinstance(p, DuplicateModelSpanFilter)]
            guard = found[0] if found else DuplicateModelSpanFilter(**options)
            for processor in (*found[1:], *others):
                guard.add_span_processor(processor)
            active._span_processors = (guard,)
        return guard
    except Exception:
        record_fault("dedupe.install")
        return None


def provider_metric_views(meter_names: Iterable[str] = PROVIDER_METERS) -> list[View]:
    """SDK views that drop the ``gen_ai.client.*`` metrics of the meters ``meter_names``.

    Give them to the ``MeterProvider`` (``views=``) that the provider instrumentation
    records to, so that semtrace's ``gen_ai.client.token.usage`` and
    ``gen_ai.client.operation.duration`` are the only ones. They drop the provider's
    metrics for calls made outside any framework too.
    """
    return [
        View(meter_name=name, instrument_name="gen_ai.client.*", aggregation=DropAggregation())
        for name in meter_names
    ]
