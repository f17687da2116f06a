"""The span processor that gives other instrumentations' GenAI spans semtrace's verdicts.

Added to the tracer provider the other instrumentation records to. Its ``on_end`` only
notes the finished span under its trace (bounded); when the trace's local root ends,
the trace is handed to semtrace's worker (:mod:`semtrace._worker`), which translates
its spans (:mod:`.sources`) and runs them through the core's end of a run
(:mod:`.verdicts`). Two ways out:

* **Alone** (``VerdictProcessor()``): the foreign spans have been exported already, so
  each verdict is emitted on its own, correlated to its span (:func:`emit`).
* **In front of the exporting processors** (``VerdictProcessor(BatchSpanProcessor(...))``):
  the trace's spans are held until its root ends, then exported as copies carrying the
  verdicts as attributes and ``gen_ai.evaluation.result`` events, the diagnosis on the
  root. A :class:`~semtrace.sampling.TailSamplingProcessor` downstream then samples by
  outcome; ``strip_content=True`` exports the copies without their prompt and answer text.

Background evaluators (the :class:`~semtrace.quality.judge.GroundednessJudge`) run off
the worker, on semtrace's evaluator thread. The trace's copies (or, alone, its emitted
verdicts) wait for them, at most ``judge_wait_s`` seconds after the trace was judged, and
at most ``max_traces`` traces at once (past it the oldest leaves with what it has). A
result arriving after its trace left still reaches the ``gen_ai.evaluation.result`` log
records and the evaluation sinks, with the judged span's trace and span ids.

One verdict per run: semtrace's own integrations win. A trace that holds a span of
theirs (instrumentation scope ``semtrace*``) is left alone, and so is a trace another
LangChain or LlamaIndex instrumentation made once semtrace's own integration for that
framework has recorded in this process: both trace the same runs, in separate traces.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import NonRecordingSpan

from semtrace import _worker as worker
from semtrace import semconv
from semtrace.adopt.content import CONTENT_EVENTS, without_content
from semtrace.adopt.sources import translator
from semtrace.adopt.verdicts import Judge, Judged, Verdict
from semtrace.config import Settings
from semtrace.cost import PriceTable
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.signals import Thresholds
from semtrace.safety import record_fault
from semtrace.version import __version__

#: The scope of the spans :func:`emit` makes (never judged themselves).
SCOPE_NAME: Final = semconv.SCOPE_NAME + ".adopt"
DEFAULT_MAX_TRACES: Final = 1024
DEFAULT_MAX_SPANS_PER_TRACE: Final = 1024
#: Seconds a judged trace waits for its background evaluators before it leaves.
DEFAULT_JUDGE_WAIT_S: Final = 30.0

Emit = Callable[[trace.Tracer, Verdict], None]


def framework(scope: str) -> str | None:
    """The framework an instrumentation scope traces, of those semtrace integrates with.

    ``semtrace_langchain``, ``opentelemetry.instrumentation.genai.langchain``,
    ``openinference.instrumentation.langchain`` and OpenLLMetry's
    ``opentelemetry.instrumentation.langchain`` all say ``langchain``.
    """
    name = scope.lower().replace("-", "_")
    if "langchain" in name or "langgraph" in name:
        return "langchain"
    if "llama_index" in name or "llamaindex" in name:
        return "llamaindex"
    return None


def emit(tracer: trace.Tracer, verdict: Verdict) -> None:
    """One foreign span's verdict, once that span was exported: a child span carrying it.

    ``evaluate {span name}``, a child of the judged span, holds the ``semtrace.*``
    attributes and the ``gen_ai.evaluation.result`` events, as a background evaluator's
    result does. The one place verdicts leave the alone mode: point it elsewhere (the Logs
    API, an evaluation sink) by passing ``emit=`` to :class:`VerdictProcessor`.
    """
    parent = trace.set_span_in_context(NonRecordingSpan(verdict.context), Context())
    span = tracer.start_span(
        f"evaluate {verdict.name}", context=parent, attributes=verdict.attributes
    )
    for name, attributes in verdict.events:
        span.add_event(name, attributes)
    span.end()


class VerdictProcessor(SpanProcessor):
    """semtrace's verdicts for the GenAI spans another instrumentation makes.

    Args:
        *downstream: The processors that export (a ``BatchSpanProcessor``, a
            :class:`~semtrace.sampling.TailSamplingProcessor`). With them, spans are
            exported as copies carrying the verdicts; without, verdicts are emitted on
            their own (``emit``).
        tracer_provider: Where emitted verdicts go (alone mode); the global one by default.
        logger_provider: Where the verdicts' ``gen_ai.evaluation.result`` log records go;
            the global one by default.
        settings: What to judge (``Settings.resolve()`` by default): the quality signals,
            sensitive rules, grounding kind, ``all_evaluation_events``.
        thresholds: Pass/fail thresholds of the signals.
        evaluators: Your evaluators: inline ones run with the signals; background ones
            (a :class:`~semtrace.quality.judge.GroundednessJudge`) on semtrace's
            evaluator thread, their results landing on the judged span.
        prices: Price table for the cost; ``PriceTable.load()`` by default.
        strip_content: Export the copies without prompt, answer, document and tool text.
        emit: How a verdict leaves in alone mode (:func:`emit` by default).
        max_traces: Traces held at once; past it the oldest is let go unjudged.
        max_spans_per_trace: Spans held per trace; past it the rest pass unjudged.
        judge_wait_s: How long a judged trace waits for its background evaluators'
            results before its copies (or emitted verdicts) leave without them; 0 never
            waits. Later results reach the log records and evaluation sinks only.
    """

    def __init__(
        self,
        *downstream: SpanProcessor,
        tracer_provider: Any = None,
        logger_provider: Any = None,
        settings: Settings | None = None,
        thresholds: Thresholds | None = None,
        evaluators: Sequence[Evaluator] = (),
        prices: PriceTable | None = None,
        strip_content: bool = False,
        emit: Emit = emit,
        max_traces: int = DEFAULT_MAX_TRACES,
        max_spans_per_trace: int = DEFAULT_MAX_SPANS_PER_TRACE,
        judge_wait_s: float = DEFAULT_JUDGE_WAIT_S,
    ) -> None:
        if max_traces < 1 or max_spans_per_trace < 1:
            raise ValueError("max_traces and max_spans_per_trace must be at least 1")
        if not judge_wait_s >= 0:
            raise ValueError(f"judge_wait_s must be 0 or more, not {judge_wait_s}")
        self._downstream = tuple(downstream)
        self._judge = Judge(
            settings,
            thresholds=thresholds,
            evaluators=evaluators,
            prices=prices,
            logger_provider=logger_provider,
        )
        self._tracer = trace.get_tracer(SCOPE_NAME, __version__, tracer_provider)
        self._emit = emit
        self._strip = strip_content
        self._max_traces = max_traces
        self._max_spans = max_spans_per_trace
        self._lock = threading.Lock()
        #: trace id -> its finished spans, oldest trace first
        self._held: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        #: traces holding a span of semtrace's own integrations, newest last (bounded)
        self._own: OrderedDict[int, None] = OrderedDict()
        #: frameworks semtrace's own integrations have recorded in this process
        self._own_frameworks: set[str] = set()
        self._judge_wait_s = judge_wait_s
        #: judged traces waiting for background evaluators: trace id -> (deadline, release)
        self._waiting: OrderedDict[int, tuple[float, _Release]] = OrderedDict()
        self._waiting_changed = threading.Condition(self._lock)
        self._reaper: threading.Thread | None = None

    # --- SpanProcessor ---

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Note a trace semtrace's own integration records (at start: its spans end later)."""
        try:
            scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
            if scope.startswith(semconv.SCOPE_NAME) and scope != SCOPE_NAME:
                with self._lock:
                    self._own[span.context.trace_id] = None
                    found = framework(scope)
                    if found is not None:
                        self._own_frameworks.add(found)
                    if len(self._own) > self._max_traces:
                        self._own.popitem(last=False)
        except Exception:
            record_fault("VerdictProcessor.on_start")
        for processor in self._downstream:
            self._call("on_start", processor.on_start, span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Note the span under its trace; the root's end hands the trace to the worker."""
        try:
            self._note(span)
        except Exception:
            record_fault("VerdictProcessor.on_end")
            self._forward([span])

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Finish the verdicts under way, then flush the downstream processors."""
        self._settle(timeout_millis / 1000)
        flushed = True
        for processor in self._downstream:
            if self._call("force_flush", processor.force_flush, timeout_millis) is not True:
                flushed = False
        return flushed

    def shutdown(self) -> None:
        """Finish the verdicts under way, pass on what is held unjudged, shut down."""
        self._settle(worker.EXIT_WAIT_S)
        with self._lock:
            held = [s for spans in self._held.values() for s in spans]
            self._held.clear()
            self._own.clear()
        self._forward(held)
        for processor in self._downstream:
            self._call("shutdown", processor.shutdown)

    # --- the caller's side: note, and nothing else ---

    def _note(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
        if scope == SCOPE_NAME:
            self._forward([span])  # a verdict emitted: never judged itself
            return
        trace_id = span.context.trace_id
        parent = span.parent
        root = parent is None or parent.is_remote
        evicted: list[ReadableSpan] = []
        with self._lock:
            own = trace_id in self._own  # semtrace's own integration judges this trace
            held = self._held.pop(trace_id, None) if own else self._held.get(trace_id)
            if held is None and not own:
                held = self._held[trace_id] = []
                if len(self._held) > self._max_traces:  # let the oldest trace go, unjudged
                    evicted = self._held.popitem(last=False)[1]
            passing = own or (held is not None and len(held) >= self._max_spans and not root)
            if held is not None and not own and not passing:
                held.append(span)
            spans = self._held.pop(trace_id, []) if root and not own else []
        self._forward(evicted)
        if own:
            self._forward([*(held or []), span])
            return
        if passing:
            self._forward([span])
        if not root:
            return
        if self._own_frameworks and self._traced_by_us(spans):
            self._forward(spans)
            return
        work = functools.partial(self._finish, spans, span)
        if not worker.submit(work, trace_id):
            work()  # the worker's queue is full: the caller does it, nothing is dropped

    def _traced_by_us(self, spans: list[ReadableSpan]) -> bool:
        """Whether semtrace's own integration records the framework these spans trace."""
        scopes = {s.instrumentation_scope.name for s in spans if s.instrumentation_scope}
        return any(framework(scope) in self._own_frameworks for scope in scopes)

    # --- the worker's side ---

    def _finish(self, spans: list[ReadableSpan], root: ReadableSpan) -> None:
        """Judge one trace; export it (with its verdicts) or emit them, now or once judged."""
        judged: Judged | None = None
        try:
            judged = self._judge.judge(spans, root, translator(root, spans))
        except Exception:
            record_fault("VerdictProcessor.verdicts")
        release = _Release(functools.partial(self._out, spans, judged))
        if judged is None or self._judge_wait_s <= 0 or judged.batch.pending <= 0:
            release()  # no background evaluation under way: nothing to wait for
            return
        trace_id = root.context.trace_id
        # Held first, then told when done: an evaluation over in between still finds it.
        self._wait(trace_id, release)
        if not judged.batch.when_done(functools.partial(self._done, trace_id, release)):
            self._done(trace_id, release)

    # --- traces waiting for background evaluators ---

    def _wait(self, trace_id: int, release: _Release) -> None:
        """Hold the judged trace until its evaluations are over or its deadline passes."""
        over: list[_Release] = []
        with self._waiting_changed:
            earlier = self._waiting.pop(trace_id, None)  # a trace id judged twice
            if earlier is not None:
                over.append(earlier[1])
            self._waiting[trace_id] = (time.monotonic() + self._judge_wait_s, release)
            if len(self._waiting) > self._max_traces:
                over.append(self._waiting.popitem(last=False)[1][1])
            if self._reaper is None:
                self._reaper = threading.Thread(
                    target=self._reap, name="semtrace-adopt-judge-wait", daemon=True
                )
                self._reaper.start()
            self._waiting_changed.notify()
        for leaving in over:
            leaving()  # the bound on held traces: the oldest leaves with what it has

    def _done(self, trace_id: int, release: _Release) -> None:
        """The trace's last background evaluation is over (on the evaluator thread)."""
        with self._lock:
            held = self._waiting.get(trace_id)
            if held is not None and held[1] is release:
                del self._waiting[trace_id]
        release()

    def _reap(self) -> None:
        """Let traces whose deadline passed leave (one thread per processor, daemon)."""
        while True:
            with self._waiting_changed:
                while not self._waiting:
                    self._waiting_changed.wait()
                deadline, _ = next(iter(self._waiting.values()))
                left = deadline - time.monotonic()
                if left > 0:
                    self._waiting_changed.wait(left)
                    continue
                release = self._waiting.popitem(last=False)[1][1]
            release()

    def _settle(self, timeout_s: float) -> None:
        """Finish the worker's verdicts and, within the time left, the evaluators'; release all."""
        deadline = time.monotonic() + timeout_s
        worker.drain(timeout_s)
        background = self._judge.background
        if background is not None and self._waiting:
            background.wait(max(0.0, min(deadline - time.monotonic(), self._judge_wait_s)))
        with self._lock:
            waiting = [release for _, release in self._waiting.values()]
            self._waiting.clear()
        for release in waiting:
            release()

    def _out(self, spans: list[ReadableSpan], judged: Judged | None) -> None:
        """The trace leaves: its copies with their verdicts, or its verdicts emitted."""
        verdicts = judged.seal() if judged is not None else []
        if not self._downstream:
            for verdict in verdicts:
                try:
                    self._emit(self._tracer, verdict)
                except Exception:
                    record_fault("VerdictProcessor.emit")
            return
        by_span = {v.context.span_id: v for v in verdicts}
        self._forward([self._copy(s, by_span.get(s.context.span_id)) for s in spans])

    def _copy(self, span: ReadableSpan, verdict: Verdict | None) -> ReadableSpan:
        """The span as exported: with its verdict, and without content if asked."""
        if verdict is None and not self._strip:
            return span
        attributes = dict(span.attributes or {})
        events = list(span.events)
        if self._strip:
            attributes = without_content(attributes)
            events = [e for e in events if e.name not in CONTENT_EVENTS]
        if verdict is not None:
            attributes.update(verdict.attributes)
            end = span.end_time
            events += [Event(name, attrs, end) for name, attrs in verdict.events]
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes,
            events=events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def _forward(self, spans: list[ReadableSpan]) -> None:
        for span in spans:
            for processor in self._downstream:
                self._call("on_end", processor.on_end, span)

    def _call(self, site: str, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except Exception:
            record_fault(f"VerdictProcessor.downstream.{site}")
            return None


class _Release:
    """Lets a judged trace leave, once, whoever asks first (evaluator, deadline, flush)."""

    def __init__(self, out: Callable[[], None]) -> None:
        self._out: Callable[[], None] | None = out
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            out, self._out = self._out, None
        if out is not None:
            try:
                out()
            except Exception:
                record_fault("VerdictProcessor.release")
