"""The OTel SDK's own cost of what a tracer emits: a lower bound on that tracer's cost.

``capture(invoke, telemetry)`` runs one instrumented invocation and keeps what reached the
SDK: every span (name, kind, parent, attributes, events, status) and every metric
measurement. ``replay()`` then makes the same SDK calls with no tracer logic at all: the
spans started in the order they started, with all their attributes passed at creation
(the cheapest way the SDK takes them), their events added, ended in the order they ended;
each measurement recorded on the same instrument. Run after an uninstrumented invocation,
it costs what any tracer emitting exactly this telemetry through this SDK would pay at the
least, before the framework's callback dispatch and the tracer's own work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.metrics._internal import instrument as sdk_instruments
from opentelemetry.trace import Status
from variants import settle


@dataclass
class _Span:
    key: int
    parent: int | None
    name: str
    kind: trace.SpanKind
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status: Status | None
    start: int
    end: int


@dataclass
class Replay:
    """One invocation's SDK calls, ready to be made again."""

    tracer: trace.Tracer
    spans: list[_Span] = field(default_factory=list)
    measurements: list[tuple[Callable[..., None], float, dict[str, Any]]] = field(
        default_factory=list
    )

    def __call__(self) -> None:
        started: dict[int, trace.Span] = {}
        for s in self.spans:  # in start order
            parent = started.get(s.parent) if s.parent is not None else None
            ctx = trace.set_span_in_context(parent) if parent is not None else None
            started[s.key] = self.tracer.start_span(s.name, ctx, s.kind, s.attributes)
        for record, value, attributes in self.measurements:
            record(value, attributes)
        for s in sorted(self.spans, key=lambda s: s.end):
            span = started[s.key]
            for name, attributes in s.events:
                span.add_event(name, attributes)
            if s.status is not None:
                span.set_status(s.status)
            span.end()


def capture(invoke: Callable[[], Any], telemetry: Any) -> Replay:
    """Run ``invoke()`` once (instrumented) and keep what it sent to the SDK."""
    measurements: list[tuple[Callable[..., None], float, dict[str, Any]]] = []
    patched = {
        cls: cls.__dict__[method]
        for cls, method in (
            (sdk_instruments.Histogram, "record"),
            (sdk_instruments.Counter, "add"),
        )
    }

    def spy(original: Callable[..., None]) -> Callable[..., None]:
        def wrapper(self: Any, amount: float, attributes: Any = None, *a: Any, **k: Any) -> None:
            measurements.append((original.__get__(self), amount, dict(attributes or {})))
            original(self, amount, attributes, *a, **k)

        return wrapper

    telemetry.clear()
    for cls, original in patched.items():
        setattr(cls, original.__name__, spy(original))
    try:
        invoke()
        settle()  # the spans and points semtrace's worker finishes, while the spies are on
    finally:
        for cls, original in patched.items():
            setattr(cls, original.__name__, original)
    replay = Replay(telemetry.tracer_provider.get_tracer("replay"), measurements=measurements)
    for span in sorted(telemetry.spans(), key=lambda s: s.start_time):
        parent = span.parent.span_id if span.parent is not None else None
        status = span.status if not span.status.is_unset else None
        replay.spans.append(
            _Span(
                span.context.span_id,
                parent,
                span.name,
                span.kind,
                dict(span.attributes or {}),
                [(e.name, dict(e.attributes or {})) for e in span.events],
                status,
                span.start_time or 0,
                span.end_time or 0,
            )
        )
    telemetry.clear()
    return replay
