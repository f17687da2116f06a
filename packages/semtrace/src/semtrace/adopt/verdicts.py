"""A finished trace of foreign spans through the core's end of a run: its verdicts.

Each translated span is ended by the same :class:`~semtrace._telemetry.ending.Ending`
semtrace's own runs are, in the order the spans ended, so the signals, checks, diagnosis
and cost are the core's, computed the same way. What the steps write goes to a
:class:`Ghost` standing in for the (already ended) foreign span; only semtrace's own keys
(``semtrace.*``) and its ``gen_ai.evaluation.result`` events are kept from it, so a
foreign span's own attributes are never overwritten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import NonRecordingSpan, SpanContext
from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace._telemetry.ending import Ending
from semtrace._telemetry.metrics import Instruments
from semtrace._telemetry.run import OpenTrace, Run
from semtrace.adopt.spans import Translated
from semtrace.config import CaptureMode, Settings
from semtrace.cost import PriceTable
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.signals import Thresholds
from semtrace.records import RetrievalEnd, RetrievalStart, WorkflowStart

Translate = Callable[[ReadableSpan], Translated | None]


@dataclass
class Verdict:
    """What semtrace adds to one foreign span: attributes and evaluation events."""

    context: SpanContext
    name: str
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    events: list[tuple[str, Mapping[str, AttributeValue]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.attributes or self.events)


class Ghost(NonRecordingSpan):
    """Stands in for an ended foreign span: keeps what the end of a run writes on it."""

    def __init__(self, context: SpanContext, name: str) -> None:
        super().__init__(context)
        self.verdict = Verdict(context, name)

    def is_recording(self) -> bool:
        """Recording: the steps write only to a span that records."""
        return True

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Keep semtrace's own attributes."""
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Keep it when it is semtrace's own (``semtrace.*``): never the source's keys."""
        if key.startswith(semconv.SCOPE_NAME + "."):
            self.verdict.attributes[key] = value

    def add_event(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Keep an evaluation result."""
        if name == semconv.EVENT_EVALUATION_RESULT:
            self.verdict.events.append((name, dict(attributes or {})))


class Judge:
    """The core's end of a run, set up for spans semtrace did not make.

    No content is written (the foreign span has its own, or chose to have none), no
    tokens are counted with tiktoken (usage is what the span reports), and no GenAI
    client metric is recorded (the other instrumentation records its own).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        thresholds: Thresholds | None = None,
        evaluators: Sequence[Evaluator] = (),
        prices: PriceTable | None = None,
        meter_provider: Any = None,
    ) -> None:
        base = settings if settings is not None else Settings.resolve()
        self.settings = _for_foreign_spans(base)
        self._lock = threading.Lock()
        self._ending = Ending(
            self.settings,
            trace.NoOpTracer(),
            Instruments(meter_provider or metrics.NoOpMeterProvider()),
            prices if prices is not None else PriceTable.load(),
            thresholds or Thresholds(),
            tuple(e for e in evaluators if not e.background),
            self._lock,
        )

    def verdicts(
        self, spans: Sequence[ReadableSpan], root: ReadableSpan | None, translate: Translate
    ) -> list[Verdict]:
        """The verdicts of one trace's spans; ``root`` is its local root, ended last."""
        runs = [(span, found) for span in _in_end_order(spans, root) if (found := translate(span))]
        if not runs:
            return []  # no GenAI span: nothing to say about this trace
        if root is not None and not any(span is root for span, _ in runs):
            # The root is the app's (a web request): it still gets the trace's diagnosis.
            runs.append((root, Translated(WorkflowStart(root.name), None, None)))
        open_trace = OpenTrace()
        for _, found in runs:
            if _without_text(found):
                # Documents by id only (the official instrumentations by default): no
                # relevance to score, but the query is still the trace's question.
                open_trace.note_retrieval(getattr(found.start, "query", None), ())
        runs = [(span, found) for span, found in runs if not _without_text(found)]
        open_trace.open_runs = len(runs)
        ghosts = []
        for span, found in runs:
            ghost = Ghost(span.context, span.name)
            ghosts.append(ghost)
            start_ns, end_ns = span.start_time or 0, span.end_time or 0
            # The ghost is the run's current span: the evaluation sinks and the log events
            # read the evaluated span's ids from it.
            context = trace.set_span_in_context(ghost, Context())
            run = Run(ghost, context, found.start, start_ns, open_trace, True, span is root)
            duration_s = max(0, end_ns - start_ns) / 1e9
            self._ending.complete(run, found.end, found.error, (end_ns, duration_s))
        return [g.verdict for g in ghosts if g.verdict]


def _without_text(found: Translated) -> bool:
    """A retrieval that found documents but carries none of their text."""
    end = found.end
    return (
        isinstance(found.start, RetrievalStart)
        and isinstance(end, RetrievalEnd)
        and bool(end.documents)
        and not any(d.content for d in end.documents)
    )


def _in_end_order(spans: Iterable[ReadableSpan], root: ReadableSpan | None) -> list[ReadableSpan]:
    """The spans as their runs ended (a retrieval before the answer resting on it), root last."""
    rest = [s for s in spans if s is not root]
    rest.sort(key=lambda s: s.end_time or 0)
    return [*rest, root] if root is not None else rest


def _for_foreign_spans(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, capture=CaptureMode.NO_CONTENT, count_tokens=False)
