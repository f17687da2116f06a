"""User feedback joined to the trace it is about, even after that trace was exported.

Three ways to name the trace:

Example:
    >>> import uuid, semtrace
    >>> run_id = uuid.uuid4()
    >>> chain.invoke(q, config={"callbacks": [handler], "run_id": run_id})  # doctest: +SKIP
    >>> semtrace.feedback(run_id, 0.0, label="wrong")  # doctest: +SKIP
    >>> with semtrace.trace_capture() as captured:  # any framework
    ...     engine.query(q)  # doctest: +SKIP
    >>> semtrace.feedback(captured.ref, 1.0, label="helpful")  # doctest: +SKIP
    >>> semtrace.feedback(TraceRef.from_hex(trace_id, span_id), 0.2)  # from your logs

The feedback becomes a child span ``feedback user_feedback`` of the trace's root (a
remote parent, so it joins the trace however long ago that was exported) carrying a
``gen_ai.evaluation.result`` event (name ``user_feedback``, score value, label, the
comment as explanation), and a point of the ``semtrace.feedback.score`` histogram.

Run ids are remembered in a bounded table (the last ``MAX_RUN_IDS`` roots); trace
references and log ids need no lookup at all.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, NamedTuple

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace._telemetry import outbox
from semtrace._telemetry.content import bounded_text, cut, safe_str, valid_utf8
from semtrace._telemetry.events import Events
from semtrace.config import Settings
from semtrace.safety import never_raise, record_fault

MAX_RUN_IDS: Final = 10_000
_HEX_ID: Final = re.compile(r"[0-9a-fA-F]{1,32}")
_MAX_LABEL_CHARS: Final = 64
_MAX_COMMENT_CHARS: Final = 2_000


class TraceRef(NamedTuple):
    """A trace and the span feedback attaches under (its root, or any span of it)."""

    trace_id: int
    span_id: int

    @classmethod
    def from_hex(cls, trace_id: str, span_id: str) -> TraceRef:
        """From the hex ids an app logged (``format(trace_id, "032x")``)."""
        return cls(int(trace_id, 16), int(span_id, 16))

    @property
    def trace_id_hex(self) -> str:
        """The trace id as 32 hex digits, as backends show it."""
        return format(self.trace_id, "032x")

    @property
    def span_id_hex(self) -> str:
        """The span id as 16 hex digits."""
        return format(self.span_id, "016x")


@dataclass
class Captured:
    """The roots of the traces started inside a :func:`trace_capture` block."""

    refs: list[TraceRef] = field(default_factory=list)

    @property
    def ref(self) -> TraceRef | None:
        """The first trace started in the block, if any."""
        return self.refs[0] if self.refs else None


class _Sink(NamedTuple):
    tracer: trace.Tracer
    histogram: Any
    #: the recorder's GenAI events (None: the global logger provider's)
    events: Events | None = None


_capturing: contextvars.ContextVar[Captured | None] = contextvars.ContextVar(
    "semtrace_trace_capture", default=None
)
# Run id -> the root's span context (its ids, already allocated by the span) and sink.
# A UUID run id is its own key: formatting it as a string on every root would cost more
# than the rest of the registration; lookups try both forms.
_roots: OrderedDict[Hashable, tuple[SpanContext, _Sink]] = OrderedDict()
_lock = threading.Lock()
_default: _Sink | None = None


@contextmanager
def trace_capture() -> Iterator[Captured]:
    """Note the traces that start inside the block, for :func:`feedback` later.

    Follows the call like :func:`semtrace.context` (threads LangChain copies the
    context into, asyncio tasks), and works the same for every framework.
    """
    captured = Captured()
    token = _capturing.set(captured)
    try:
        yield captured
    finally:
        _capturing.reset(token)


def current_trace() -> TraceRef | None:
    """The trace of the current OpenTelemetry span (e.g. inside a tool), if any."""
    ctx = trace.get_current_span().get_span_context()
    return TraceRef(ctx.trace_id, ctx.span_id) if ctx.is_valid else None


def note_root(
    run_id: Hashable,
    span: trace.Span,
    tracer: trace.Tracer,
    histogram: Any,
    events: Events | None = None,
) -> None:
    """Called by the recorder when a trace's root span starts."""
    global _default
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return
    sink = _default
    if (
        sink is None
        or sink.tracer is not tracer
        or sink.histogram is not histogram
        or sink.events is not events
    ):
        sink = _default = _Sink(tracer, histogram, events)
    captured = _capturing.get()
    if captured is not None and len(captured.refs) < MAX_RUN_IDS:
        captured.refs.append(TraceRef(ctx.trace_id, ctx.span_id))
    key = run_id if type(run_id) is uuid.UUID else str(run_id)
    with _lock:
        _roots[key] = (ctx, sink)
        while len(_roots) > MAX_RUN_IDS:
            _roots.popitem(last=False)


@never_raise
def feedback(
    target: Any,
    score: float,
    *,
    label: str | None = None,
    comment: str | None = None,
) -> bool:
    """Attach a user's score, label and comment to an earlier trace.

    Args:
        target: The LangChain ``run_id`` the app passed in ``config`` (a UUID or its
            string), a :class:`TraceRef` (from :func:`trace_capture`,
            :func:`current_trace` or :meth:`TraceRef.from_hex`), or a
            ``(trace_id, span_id)`` pair of ints or hex strings.
        score: The user's score, a finite number (conventionally in [0, 1]).
        label: A short label (``helpful``, ``wrong``...); keep the set small, it is a
            metric attribute.
        comment: Free text; recorded as the event's explanation (you chose to pass it).

    Returns:
        Whether the feedback was recorded: False for an unknown run id, a bad score, or
        ids that name no span (zero, as apps log them while no span is active; not hex;
        out of range).
    """
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        return False
    ref, sink = _resolve(target)
    if ref is None or not _names_a_span(ref):
        return False
    sink = sink or _default or _Sink(trace.get_tracer("semtrace"), None)
    _record(ref, sink, float(score), label, comment)
    return True


def _names_a_span(ref: TraceRef) -> bool:
    """Ids a span can have: a non-zero 128-bit trace id and a non-zero 64-bit span id.

    A feedback span under anything else would start a new, unrelated trace.
    """
    trace_id, span_id = ref
    return (
        type(trace_id) is int
        and type(span_id) is int
        and 0 < trace_id < 2**128
        and 0 < span_id < 2**64
    )


def _resolve(target: Any) -> tuple[TraceRef | None, _Sink | None]:
    if isinstance(target, TraceRef):
        return target, None
    if isinstance(target, tuple) and len(target) == 2:
        trace_id, span_id = target
        if isinstance(trace_id, str) and isinstance(span_id, str):
            if not (_HEX_ID.fullmatch(trace_id) and _HEX_ID.fullmatch(span_id)):
                return None, None
            return TraceRef.from_hex(trace_id, span_id), None
        if isinstance(trace_id, int) and isinstance(span_id, int):
            return TraceRef(trace_id, span_id), None
        return None, None
    keys: list[Hashable] = [target if isinstance(target, uuid.UUID) else str(target)]
    if isinstance(target, uuid.UUID):
        keys.append(str(target))  # a run id the framework gave as a string
    else:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            keys.append(uuid.UUID(str(target)))
    with _lock:
        found = next((f for f in map(_roots.get, keys) if f is not None), None)
    if found is None:
        return None, None
    ctx, sink = found
    return TraceRef(ctx.trace_id, ctx.span_id), sink


def _record(
    ref: TraceRef, sink: _Sink, score: float, label: str | None, comment: str | None
) -> None:
    parent = SpanContext(ref.trace_id, ref.span_id, is_remote=True, trace_flags=TraceFlags(1))
    ctx = trace.set_span_in_context(NonRecordingSpan(parent))
    details: dict[str, AttributeValue] = {
        semconv.GEN_AI_EVALUATION_NAME: semconv.EVALUATION_USER_FEEDBACK,
        semconv.GEN_AI_EVALUATION_SCORE_VALUE: score,
    }
    label = bounded_text(label, _MAX_LABEL_CHARS) if label else None
    if label:
        details[semconv.GEN_AI_EVALUATION_SCORE_LABEL] = label
    span = sink.tracer.start_span(
        f"feedback {semconv.EVALUATION_USER_FEEDBACK}",
        context=ctx,
        attributes={**details, semconv.SEMTRACE_FEEDBACK_SPAN_ID: ref.span_id_hex},
    )
    if comment:
        details[semconv.GEN_AI_EVALUATION_EXPLANATION] = valid_utf8(
            cut(safe_str(comment), _MAX_COMMENT_CHARS)
        )
    span.add_event(semconv.EVENT_EVALUATION_RESULT, details)
    (sink.events or _global_events()).evaluation_record(span, details)
    span.end()
    outbox.feedback(ref.trace_id, ref.span_id, score, label, comment)  # queued, never sent here
    if sink.histogram is not None:
        try:
            metric_attrs = {semconv.GEN_AI_EVALUATION_NAME: semconv.EVALUATION_USER_FEEDBACK}
            if label:
                metric_attrs[semconv.GEN_AI_EVALUATION_SCORE_LABEL] = label
            sink.histogram.record(score, metric_attrs)
        except Exception:
            record_fault("feedback metric")


@cache
def _global_events() -> Events:
    """Feedback recorded before any recorder started: its event goes to the global provider."""
    return Events(Settings())
