"""A finished trace of foreign spans through the core's end of a run: its verdicts.

Each translated span is ended by the same :class:`~semtrace._telemetry.ending.Ending`
semtrace's own runs are, in the order the spans ended, so the signals, checks, diagnosis
and cost are the core's, computed the same way. What the steps write goes to a
:class:`Ghost` standing in for the (already ended) foreign span; only semtrace's own keys
(``semtrace.*``) and its ``gen_ai.evaluation.result`` events are kept from it, so a
foreign span's own attributes are never overwritten.

Background evaluators (the :class:`~semtrace.quality.judge.GroundednessJudge`) run on
the evaluator thread as for semtrace's own runs; their late results land on the same
:class:`Ghost`, and the trace's :class:`Batch` says when the last of them is over, so the
processor can hold the trace's copies until then (within its ``judge_wait_s``). A result
arriving after the copies left (:meth:`Ghost.seal`) still reaches the log events and the
evaluation sinks with the judged span's ids: the run's context holds its ghost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context, create_key, get_value, set_value
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import NonRecordingSpan, SpanContext
from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace._telemetry.ending import Ending
from semtrace._telemetry.events import Events
from semtrace._telemetry.metrics import Instruments
from semtrace._telemetry.run import OpenTrace, Run
from semtrace.adopt.prompts import carried
from semtrace.adopt.spans import Translated
from semtrace.config import CaptureMode, Settings
from semtrace.cost import PriceTable
from semtrace.quality.evaluators import BackgroundEvaluations, Evaluator, Record
from semtrace.quality.signals import Thresholds
from semtrace.quality.types import Evaluation
from semtrace.records import ModelStart, RetrievalEnd, RetrievalStart, Start, WorkflowStart

Translate = Callable[[ReadableSpan], Translated | None]
#: The context key of a trace's :class:`Batch` (in each of its runs' contexts).
_BATCH: str = create_key("adopt-batch")


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

    def __init__(self, context: SpanContext, name: str, start: Start) -> None:
        super().__init__(context)
        self.verdict = Verdict(context, name)
        #: the run's start record: a late (background) result is about it
        self.start = start
        self._lock = threading.Lock()
        self._sealed = False

    def is_recording(self) -> bool:
        """Recording until sealed: the steps write only to a span that records."""
        return not self._sealed

    def seal(self) -> Verdict:
        """What the verdict holds now; later results no longer go on it (it was exported)."""
        with self._lock:
            self._sealed = True
            verdict = self.verdict
            return Verdict(
                verdict.context, verdict.name, dict(verdict.attributes), list(verdict.events)
            )

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Keep semtrace's own attributes."""
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Keep it when it is semtrace's own (``semtrace.*``): never the source's keys."""
        if key.startswith(semconv.SCOPE_NAME + "."):
            with self._lock:
                if not self._sealed:
                    self.verdict.attributes[key] = value

    def add_event(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Keep an evaluation result."""
        if name == semconv.EVENT_EVALUATION_RESULT:
            with self._lock:
                if not self._sealed:
                    self.verdict.events.append((name, dict(attributes or {})))


class Batch:
    """One trace's background evaluations under way, counted down as each one ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = 0
        self._then: Callable[[], None] | None = None

    @property
    def pending(self) -> int:
        """Evaluations queued or running."""
        return self._pending

    def add(self) -> None:
        """One more evaluation queued."""
        with self._lock:
            self._pending += 1

    def finish(self) -> None:
        """One evaluation over (judged, without result, failed or dropped)."""
        with self._lock:
            self._pending -= 1
            then = self._then if self._pending <= 0 else None
            if then is not None:
                self._then = None
        if then is not None:
            then()

    def when_done(self, then: Callable[[], None]) -> bool:
        """Call ``then`` once the last evaluation is over; False (not called) if none is left."""
        with self._lock:
            if self._pending <= 0:
                return False
            self._then = then
            return True

    def forget(self) -> None:
        """Nothing waits any more (the copies left on time-out)."""
        with self._lock:
            self._then = None


class _Evaluations(BackgroundEvaluations):
    """semtrace's evaluator queue, counting each trace's evaluations in its :class:`Batch`."""

    def submit(self, evaluator: Evaluator, sample: Any, parent: Context) -> None:
        batch = get_value(_BATCH, parent)
        if isinstance(batch, Batch):
            batch.add()
        super().submit(evaluator, sample, parent)

    def _finished(self, parent: Context) -> None:
        batch = get_value(_BATCH, parent)
        if isinstance(batch, Batch):
            batch.finish()


@dataclass
class Judged:
    """One trace judged: a ghost per judged span, and its background evaluations."""

    ghosts: list[Ghost]
    batch: Batch

    def seal(self) -> list[Verdict]:
        """The verdicts as they are now; later results go to logs and sinks only."""
        return [v for g in self.ghosts if (v := g.seal())]


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
        logger_provider: Any = None,
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
            tuple(evaluators),
            self._lock,
            # The gen_ai.evaluation.result log records: the global logger provider's unless given.
            Events(self.settings, logger_provider),
            record_later=self._evaluations,
        )

    @property
    def background(self) -> BackgroundEvaluations | None:
        """The queue the background evaluators run from (None: none configured)."""
        return self._ending.background

    def _evaluations(self, record: Record) -> BackgroundEvaluations:
        # Late results land on the judged span's ghost, not on an ``evaluate`` child span.
        del record
        return _Evaluations(self._record_on_ghost)

    def _record_on_ghost(self, ev: Evaluation, parent: Context, operation: str) -> None:
        """A background result: on the ghost, while its copy is held; else logs and sinks.

        The evaluator's own model call (a judge's usage and cost) is not recorded: its
        attributes would read as the foreign span's own.
        """
        ghost = trace.get_current_span(parent)
        if not isinstance(ghost, Ghost):
            return
        run = Run(ghost, parent, ghost.start, 0, OpenTrace(), True)
        ghost.set_attributes(self._ending.record_evaluations(run, ev, operation))

    def verdicts(
        self, spans: Sequence[ReadableSpan], root: ReadableSpan | None, translate: Translate
    ) -> list[Verdict]:
        """The verdicts of one trace's spans, without waiting for background evaluators."""
        return self.judge(spans, root, translate).seal()

    def judge(
        self, spans: Sequence[ReadableSpan], root: ReadableSpan | None, translate: Translate
    ) -> Judged:
        """Judge one trace's spans; ``root`` is its local root, ended last."""
        batch = Batch()
        runs = [(span, found) for span in _in_end_order(spans, root) if (found := translate(span))]
        if not runs:
            return Judged([], batch)  # no GenAI span: nothing to say about this trace
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
        if not any(_retrieved_text(found) for _, found in runs):
            _note_carried(open_trace, runs)
        open_trace.open_runs = len(runs)
        ghosts = []
        for span, found in runs:
            ghost = Ghost(span.context, span.name, found.start)
            ghosts.append(ghost)
            start_ns, end_ns = span.start_time or 0, span.end_time or 0
            # The ghost is the run's current span: the evaluation sinks and the log events
            # read the evaluated span's ids from it; late results find it (and the batch
            # that counts them) there too.
            context = trace.set_span_in_context(ghost, set_value(_BATCH, batch, Context()))
            run = Run(ghost, context, found.start, start_ns, open_trace, True, span is root)
            duration_s = max(0, end_ns - start_ns) / 1e9
            self._ending.complete(run, found.end, found.error, (end_ns, duration_s))
        return Judged(ghosts, batch)


def _without_text(found: Translated) -> bool:
    """A retrieval that found documents but carries none of their text."""
    end = found.end
    return (
        isinstance(found.start, RetrievalStart)
        and isinstance(end, RetrievalEnd)
        and bool(end.documents)
        and not any(d.content for d in end.documents)
    )


def _retrieved_text(found: Translated) -> bool:
    """A retrieval whose documents carry their text."""
    end = found.end
    return isinstance(end, RetrievalEnd) and any(d.content for d in end.documents)


def _note_carried(open_trace: OpenTrace, runs: Sequence[tuple[ReadableSpan, Translated]]) -> None:
    """Passages a prompt carries from a retrieval out of sight: the trace's retrieved texts."""
    for _, found in runs:
        if isinstance(found.start, ModelStart) and (passed := carried(found.start.messages)):
            open_trace.note_retrieval(passed.query, passed.documents)


def _in_end_order(spans: Iterable[ReadableSpan], root: ReadableSpan | None) -> list[ReadableSpan]:
    """The spans as their runs ended (a retrieval before the answer resting on it), root last."""
    rest = [s for s in spans if s is not root]
    rest.sort(key=lambda s: s.end_time or 0)
    return [*rest, root] if root is not None else rest


def _for_foreign_spans(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, capture=CaptureMode.NO_CONTENT, count_tokens=False)
