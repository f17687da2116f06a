"""The end of a run, on the worker: an ended run becomes telemetry, then its span ends.

:meth:`Ending.complete` runs the named steps of :data:`Ending.STEPS` in order, each under
its own guard: a fault loses that step's attributes or points, never the span, which ends
at the time the framework said the run ended. What each step writes for a given
operation is in :mod:`.operations`; the quality verdicts come from :mod:`semtrace.quality`.

A trace's root span ends last: frameworks do not always end children first, and a root
exported before the rest of its trace would be exported alone. The root gets the trace's
roll-ups (tokens, cost) and its diagnosis as it ends.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from semtrace import _worker as worker
from semtrace import semconv
from semtrace._telemetry import outbox
from semtrace._telemetry.attributes import (
    Attributes,
    cost_attributes,
    fits_int64,
    usage_attributes,
)
from semtrace._telemetry.content import (
    ContentPolicy,
    bounded_text,
    cut,
    cut_middle,
    safe_str,
    valid_utf8,
)
from semtrace._telemetry.events import Events
from semtrace._telemetry.metrics import Instruments
from semtrace._telemetry.operations import Operation, operation_for
from semtrace._telemetry.run import OpenTrace, Run
from semtrace._telemetry.tokens import TokenCounter
from semtrace.config import Settings
from semtrace.cost import Cost, PriceTable
from semtrace.quality import checks, diagnosis, signals
from semtrace.quality.consistency import ConsistencyTracker
from semtrace.quality.evaluators import BackgroundEvaluations, Evaluator, Record
from semtrace.quality.sensitive import SENSITIVE_OUTPUT, kinds
from semtrace.quality.types import Evaluation, ModelCall
from semtrace.records import (
    EmbeddingEnd,
    End,
    LazyEnd,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    Usage,
    WorkflowStart,
)
from semtrace.safety import attempt, record_fault
from semtrace.semconv_latest import conventions


@dataclass
class Ended:
    """One run being ended: what the steps read, and the attributes they gather."""

    run: Run
    operation: Operation[Any]
    record: End | None
    error: BaseException | None
    duration_s: float
    attrs: Attributes = field(default_factory=dict)
    #: the GenAI client metrics' attributes (model calls only)
    metric_attrs: Attributes = field(default_factory=dict)
    #: a model call's content for its inference-details event (content on events only)
    details: Attributes | None = None


class Ending:
    """Ends runs: their attributes, metric points, verdicts, and their spans.

    Built by the :class:`~semtrace.Recorder` with what it was configured with; called on
    the worker (or on the caller's thread when the worker's queue is full).
    """

    def __init__(
        self,
        settings: Settings,
        tracer: trace.Tracer,
        instruments: Instruments,
        prices: PriceTable,
        thresholds: signals.Thresholds,
        evaluators: tuple[Evaluator, ...],
        trace_lock: threading.Lock,
        events: Events | None = None,
        record_later: Callable[[Record], BackgroundEvaluations] | None = None,
    ) -> None:
        self.settings = settings
        #: the GenAI events: log records, and their span-event form (events.py)
        self.events = events if events is not None else Events(settings)
        #: the conventions' names and shapes: the released ones, or the newest
        self.names = conventions(settings.latest_conventions)
        self._tracer = tracer
        self._instruments = instruments
        self._prices = prices
        self._thresholds = thresholds
        self._trace_lock = trace_lock
        #: tiktoken, for the calls whose provider reported no usage (None: not counted)
        self.counter: TokenCounter | None = None
        if settings.count_tokens:
            # No warm-up: the first call the provider did not count starts the load, and
            # only its end waits (worker). An app whose provider reports usage never pays
            # for tiktoken, and a cold start's first invocation does not share the GIL with it.
            self.counter = TokenCounter(settings.default_encoding)
        #: what content may be written, and how (None: content capture is off)
        self.policy: ContentPolicy | None = None
        if settings.capture.enabled:
            self.policy = ContentPolicy(settings.max_content_length, settings.redact)
        self._inline_evaluators = tuple(e for e in evaluators if not e.background)
        self._background_evaluators = tuple(e for e in evaluators if e.background)
        # ``record_later`` builds the queue of background evaluations around how their
        # late results are recorded (semtrace.adopt: on the judged foreign span instead).
        build = record_later or BackgroundEvaluations
        self.background = build(self._record_later) if self._background_evaluators else None
        self._consistency = ConsistencyTracker() if settings.consistency else None
        # A model call's steps, and any other run's: the latter measure a run's duration
        # only in the conventions that define one (the newest: tools).
        run_duration = Ending._run_duration
        self._model_steps = tuple(s for s in self.STEPS if s[1] is not run_duration)
        self._run_steps = tuple(
            s for s in self.RUN_STEPS if s[1] is not run_duration or self.names.tool_duration
        )

    # --- the steps, in order ---

    def _request(self, ended: Ended) -> None:
        """The request parameters (set here: reading them costs the caller as much as a span)."""
        if ended.run.recording:
            ended.attrs.update(ended.operation.request(ended.run.start))

    def _end_attributes(self, ended: Ended) -> None:
        """What the run returned, its opt-in content, and whether it streamed."""
        run, record = ended.run, ended.record
        if not run.recording or record is None:
            return
        ended.attrs.update(ended.operation.at_end(run.start, record))
        if self.policy is not None:
            self._content(ended, record, self.policy)
        if run.first_chunk_ns is not None:
            ended.attrs[semconv.GEN_AI_REQUEST_STREAM] = True
            ended.attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (
                run.first_chunk_ns - run.started_ns
            ) / 1e9

    def _metric_attributes(self, ended: Ended) -> None:
        """The attributes every GenAI client metric point of a model call carries."""
        if not ended.operation.calls_model:
            return
        record = ended.record
        response_model = record.response_model if isinstance(record, ModelEnd) else None
        ended.metric_attrs = ended.operation.metric_attributes(ended.run.start, response_model)

    def _usage(self, ended: Ended) -> None:
        """Token usage and cost: on the span, in the trace's roll-ups and in the metrics."""
        if not ended.operation.calls_model:
            return
        found = None if ended.error is not None or ended.record is None else self._tokens(ended)
        if found is None:  # failed, or no count: the newest conventions still count a 0
            self._instruments.record_no_usage(ended.metric_attrs)
            return
        usage, source, encoding = found
        cost = self._cost(ended, usage, source)
        if ended.run.recording:
            ended.attrs.update(usage_attributes(usage, source, encoding, self.names))
            if cost is not None:
                ended.attrs.update(cost_attributes(cost))
        self._roll_up(ended.run.trace, usage, cost)
        metric_attrs = ended.metric_attrs
        if cost is not None:
            self._instruments.cost.add(
                cost.amount,
                {**metric_attrs, semconv.SEMTRACE_USAGE_COST_CURRENCY: cost.currency},
            )
        token_attrs = {**metric_attrs, semconv.SEMTRACE_USAGE_SOURCE: source}
        self._instruments.record_usage(usage, token_attrs)

    def _duration(self, ended: Ended) -> None:
        """``gen_ai.client.operation.duration``: dashboards count calls with it."""
        if not ended.operation.calls_model:
            return
        metric_attrs = ended.metric_attrs
        if ended.error is not None:
            metric_attrs = {**metric_attrs, semconv.ERROR_TYPE: _error_type(ended.error)}
        self._instruments.record_duration(ended.duration_s, metric_attrs)

    def _run_duration(self, ended: Ended) -> None:
        """The duration metric of a run that is not a model call, where one is defined."""
        attrs = ended.operation.run_metric_attributes(ended.run.start)
        if attrs is None:
            return
        if ended.error is not None:
            attrs = {**attrs, semconv.ERROR_TYPE: _error_type(ended.error)}
        self._instruments.record_run_duration(ended.duration_s, attrs)

    def _streaming(self, ended: Ended) -> None:
        """Time to the first chunk, and the time per chunk after it, of a streamed call."""
        run = ended.run
        if not ended.operation.calls_model or run.first_chunk_ns is None:
            return
        metric_attrs = ended.metric_attrs
        if ended.error is not None:
            metric_attrs = {**metric_attrs, semconv.ERROR_TYPE: _error_type(ended.error)}
        first = (run.first_chunk_ns - run.started_ns) / 1e9
        self._instruments.time_to_first_chunk.record(first, metric_attrs)
        per_chunk = self._instruments.time_per_output_chunk
        for gap in run.chunk_gaps or ():
            per_chunk.record(gap / 1e9, metric_attrs)

    def _signals(self, ended: Ended) -> None:
        """The built-in signals of a retrieval or a model call, and the user's evaluators."""
        run, record = ended.run, ended.record
        if not run.recording or ended.error is not None or record is None:
            return
        start = run.start
        builtins = self.settings.quality_signals
        model_signals: signals.ModelSignals | None = None
        if isinstance(start, RetrievalStart) and isinstance(record, RetrievalEnd):
            operation, response_id = semconv.OP_RETRIEVAL, None
            # The trace's state is the recorder's: the signals only read it.
            with self._trace_lock:
                run.trace.note_retrieval(start.query, record.documents)
            evaluations = (
                signals.after_retrieval(start.query, record, run.trace, self._thresholds)
                if builtins
                else []
            )
        elif isinstance(start, ModelStart) and isinstance(record, ModelEnd):
            operation, response_id = start.operation, record.response_id
            if builtins:
                model_signals = signals.after_model(
                    start, record, run.trace, self._thresholds, self.settings.grounding
                )
            evaluations = model_signals.evaluations if model_signals is not None else []
            if model_signals is not None and model_signals.grounding is not None:
                ended.attrs[semconv.SEMTRACE_QUALITY_GROUNDEDNESS_KIND] = (
                    model_signals.grounding.kind
                )
        else:
            return
        every_event = self.settings.all_evaluation_events
        for evaluation in evaluations:
            # A built-in signal's event says something went wrong; one that passed is on
            # the span's attributes and in the histogram (an event costs as much as a span).
            event = every_event or evaluation.label == "fail"
            self._record_evaluation(run, evaluation, ended.attrs, operation, response_id, event)
        if self._inline_evaluators or self._background_evaluators:
            found = self._run_evaluators(run, record, operation, model_signals)
            for evaluation in found:
                self._record_evaluation(run, evaluation, ended.attrs, operation, response_id)

    def _checks(self, ended: Ended) -> None:
        """The checks (:mod:`semtrace.quality.checks`) of one run, and its part in the diagnosis."""
        run, record, error = ended.run, ended.record, ended.error
        if not run.recording or not self.settings.quality_signals:
            return
        start, state = run.start, _trace_checks(run)
        operation: str
        response_id = None
        if isinstance(start, ModelStart):
            if not isinstance(record, ModelEnd) or error is not None:
                return
            operation, response_id = start.operation, record.response_id
            found = checks.after_model(
                start, record, run.trace.question, run.trace.contexts, self.settings.sensitive_rules
            )
            if self._consistency is not None:
                found += checks.consistency(self._consistency, start, record, run.span)
        else:
            operation = ended.operation.operation_name(start) or "step"
            found = checks.after_run(state, start, record, error, run.is_root)
            tool = ended.operation.name == semconv.OP_EXECUTE_TOOL
            if error is not None and (run.is_root or tool) and not found:
                # A failed tool is a tool_error unless the run fails too (error outranks it).
                signal = diagnosis.root_error_signal(error) if run.is_root else diagnosis.TOOL_ERROR
                diagnosis.note(state.findings, signal, run.span.get_span_context().span_id)
        for evaluation in found:
            if evaluation.name == SENSITIVE_OUTPUT:
                ended.attrs[semconv.SEMTRACE_QUALITY_SENSITIVE_KINDS] = kinds(evaluation)
            event = evaluation.label == "fail" or self.settings.all_evaluation_events
            self._record_evaluation(run, evaluation, ended.attrs, operation, response_id, event)

    def _error_type(self, ended: Ended) -> None:
        """``error.type`` of a failed run, and a failed model call's finish reason ``error``.

        Its status and exception event are set on the caller's thread.
        """
        if ended.error is None:
            return
        ended.attrs[semconv.ERROR_TYPE] = _error_type(ended.error)
        if isinstance(ended.run.start, ModelStart):  # the call did not finish: "error" says so
            ended.attrs.setdefault(semconv.GEN_AI_RESPONSE_FINISH_REASONS, ["error"])

    def _details(self, ended: Ended) -> None:
        """A model call's inference-details event, with the attributes of its span."""
        if ended.details is not None:
            attrs = {**ended.metric_attrs, **ended.attrs}
            self.events.inference_details(ended.run.span, attrs, ended.details)

    def _set_attributes(self, ended: Ended) -> None:
        """Everything the steps gathered, in one call on the span."""
        if ended.attrs:
            ended.run.span.set_attributes(ended.attrs)

    #: The end of a model call: (name, step) in order. A fault in one is counted under
    #: ``Recorder.end {name}`` and loses only what that step writes.
    STEPS: Final = (
        ("request", _request),
        ("attributes", _end_attributes),
        ("metric attributes", _metric_attributes),
        ("usage", _usage),
        ("duration", _duration),
        ("run duration", _run_duration),
        ("streaming", _streaming),
        ("signals", _signals),
        ("checks", _checks),
        ("error type", _error_type),
        ("details event", _details),
        ("set_attributes", _set_attributes),
    )
    #: The end of any other run: the same, without what only a model call has (request
    #: parameters, usage, cost and the client metrics).
    RUN_STEPS: Final = tuple(
        (name, step)
        for name, step in STEPS
        if name not in ("request", "metric attributes", "usage", "duration", "streaming")
    )

    # --- ending a run ---

    def complete(
        self,
        run: Run,
        given: End | LazyEnd | None,
        error: BaseException | None,
        ended_at: tuple[int, float],
    ) -> None:
        """Turn an ended run into telemetry, and end its span at its true end time."""
        end_ns, duration_s = ended_at
        record = given.resolve() if isinstance(given, LazyEnd) else given
        operation = operation_for(run.start, self.names)
        awaited = self._awaited(run, operation, record, error)
        if awaited is not None and worker.defer(
            awaited,
            lambda: self.complete_in_context(run, record, error, ended_at),
            run.span.get_span_context().trace_id,
        ):
            return  # ended, with its counts, once the encoding is ready
        ended = Ended(run, operation, record, error, duration_s)
        try:
            for name, step in self._model_steps if operation.calls_model else self._run_steps:
                try:  # inline, not attempt(): one frame less per step, on every run
                    step(self, ended)
                except Exception:
                    record_fault(f"Recorder.end {name}")
        finally:
            self.end_span(run, end_ns)

    def complete_in_context(
        self,
        run: Run,
        record: End | LazyEnd | None,
        error: BaseException | None,
        ended_at: tuple[int, float],
    ) -> None:
        """:meth:`complete` off the caller's thread, with the run's span current.

        As on the caller's side: metric points keep the span as their exemplar.
        """
        token = otel_context.attach(run.otel_context)
        try:
            self.complete(run, record, error, ended_at)
        finally:
            otel_context.detach(token)

    def abandon(self, run: Run, end_ns: int) -> None:
        """End the span of a run that will never end (evicted, or the recorder closed)."""
        attempt("Recorder.abandon", run.span.set_attribute, semconv.SEMTRACE_RUN_ABANDONED, True)
        operation = operation_for(run.start, self.names)
        attempt("Recorder.abandon", _set_request, run.span, operation, run)
        attempt("Recorder.abandon", self.end_span, run, end_ns)

    def end_span(self, run: Run, end_ns: int) -> None:
        """End the run's span; a root waits for the rest of its trace."""
        open_trace = run.trace
        with self._trace_lock:
            open_trace.open_runs -= 1
            if run.is_root and open_trace.open_runs > 0:
                open_trace.pending_root = (run.span, end_ns)
                return
            pending = open_trace.pending_root if open_trace.open_runs <= 0 else None
            if pending is not None:
                open_trace.pending_root = None
        if run.is_root:
            self._end_root(run.span, open_trace)
        try:
            run.span.end(end_time=end_ns)
        finally:
            if pending is not None:
                self._end_root(pending[0], open_trace)
                pending[0].end(end_time=pending[1])

    def _end_root(self, span: trace.Span, open_trace: OpenTrace) -> None:
        attempt("Recorder roll-ups", _set_roll_ups, span, open_trace)
        attempt("Recorder diagnosis", self._diagnose, span, open_trace)

    # --- usage and cost ---

    def _awaited(
        self, run: Run, operation: Operation[Any], record: End | None, error: BaseException | None
    ) -> worker.Register | None:
        """What counting this run's tokens would wait for now, if anything.

        Only a successful model or embedding call the provider reported no usage for is
        counted; it waits for its encoding's load.
        """
        counter = self.counter
        if counter is None or error is not None or not operation.calls_model:
            return None
        if not isinstance(record, (ModelEnd, EmbeddingEnd)):
            return None
        if record.usage is not None and record.usage.reported:
            return None
        return counter.pending_load(operation.tokenized_model(run.start))

    def _tokens(self, ended: Ended) -> tuple[Usage, str, str | None] | None:
        """The usage the provider reported, else the one tiktoken counts."""
        record = ended.record
        reported = record.usage if isinstance(record, (ModelEnd, EmbeddingEnd)) else None
        if reported is not None and reported.reported:
            return reported, semconv.USAGE_SOURCE_PROVIDER, None
        if self.counter is None:
            return None
        counted = ended.operation.count(ended.run.start, record, self.counter)
        if counted is None:
            return None
        usage, encoding = counted
        return usage, semconv.USAGE_SOURCE_TIKTOKEN, encoding

    def _cost(self, ended: Ended, usage: Usage, source: str) -> Cost | None:
        start, record = ended.run.start, ended.record
        response_model = record.response_model if isinstance(record, ModelEnd) else None
        return self._prices.cost(
            getattr(start, "model", None),
            getattr(start, "provider", None),
            usage,
            estimated=source == semconv.USAGE_SOURCE_TIKTOKEN,
            response_model=response_model,
        )

    def _roll_up(self, open_trace: OpenTrace, usage: Usage, cost: Cost | None) -> None:
        with self._trace_lock:
            open_trace.input_tokens += usage.input_tokens or 0
            open_trace.output_tokens += usage.output_tokens or 0
            if cost is not None and open_trace.currency in (None, cost.currency):
                open_trace.cost += cost.amount
                open_trace.currency = cost.currency

    # --- verdicts ---

    def _content(self, ended: Ended, record: End, policy: ContentPolicy) -> None:
        run, operation = ended.run, ended.operation
        content = operation.content_at_end(run.start, record, policy)
        if self.settings.capture.on_span:
            ended.attrs.update(content)
        if self.settings.capture.on_event and isinstance(run.start, ModelStart):
            ended.details = {**operation.content_at_start(run.start, policy), **content}

    def _diagnose(self, span: trace.Span, open_trace: OpenTrace) -> None:
        """The trace's diagnosis on its root span, and one count of it."""
        found = diagnosis.diagnose(open_trace.checks.findings) if open_trace.checks else None
        outbox.diagnosis(span, *(found or (diagnosis.NONE, None, None)))  # to the sinks, if any
        if found is None:
            self._instruments.traces.add(1, {semconv.SEMTRACE_DIAGNOSIS: diagnosis.NONE})
            return
        name, signal, span_id = found
        span.set_attributes(
            {
                semconv.SEMTRACE_DIAGNOSIS: name,
                semconv.SEMTRACE_DIAGNOSIS_SIGNAL: signal,
                semconv.SEMTRACE_DIAGNOSIS_SPAN_ID: format(span_id, "016x"),
            }
        )
        self._instruments.traces.add(1, {semconv.SEMTRACE_DIAGNOSIS: name})

    def _run_evaluators(
        self,
        run: Run,
        record: End,
        operation: str,
        model_signals: signals.ModelSignals | None = None,
    ) -> list[Evaluation]:
        """Run inline evaluators now and queue background ones; return the inline results."""
        sample = signals.sample(run.start, record, run.trace, operation, model_signals)
        results = []
        for evaluator in self._inline_evaluators:
            if operation in evaluator.operations:
                try:
                    result = evaluator.evaluate(sample)
                except Exception:
                    record_fault(f"evaluator {evaluator.name}")
                    continue
                if result is not None:
                    results.append(result)
        if self.background is not None:
            for evaluator in self._background_evaluators:
                if operation in evaluator.operations:
                    self.background.submit(evaluator, sample, run.otel_context)
        return results

    def _record_later(self, ev: Evaluation, parent: otel_context.Context, operation: str) -> None:
        """A background result: the evaluated span has ended, so record it on a child span.

        The results ``ev.related`` holds go on the same span. The model call an evaluator
        made (``ev.call``, a judge's) is recorded there as evaluation usage and cost: the
        span's own ``OpenTrace`` is not the app's, so nothing reaches the trace's roll-ups,
        and no token or cost metric point is recorded for it.
        """
        span = self._tracer.start_span(
            f"evaluate {ev.name}",
            context=parent,
            attributes={semconv.GEN_AI_EVALUATION_NAME: ev.name},
        )
        attrs: Attributes = {}
        run = Run(span, parent, WorkflowStart(name=ev.name), 0, OpenTrace(), span.is_recording())
        if ev.call is not None:
            attempt("Recorder evaluation usage", self._evaluation_usage, ev.call, attrs)
        attrs.update(self.record_evaluations(run, ev, operation))
        span.set_attributes(attrs)
        span.end()

    def record_evaluations(self, run: Run, ev: Evaluation, operation: str) -> Attributes:
        """A late result and its related ones on ``run``'s span: events, sinks, log records.

        Returns:
            The ``semtrace.quality.*`` attributes for the span (not set on it).
        """
        attrs: Attributes = {}
        for each in (ev, *ev.related):
            self._record_evaluation(run, each, attrs, operation, None)
        return attrs

    def _evaluation_usage(self, call: ModelCall, attrs: Attributes) -> None:
        """An evaluator's model call: model, usage and cost, marked as evaluation."""
        attrs[semconv.SEMTRACE_USAGE_PURPOSE] = semconv.USAGE_PURPOSE_EVALUATION
        for key, value in (
            (semconv.GEN_AI_REQUEST_MODEL, call.model),
            (semconv.GEN_AI_PROVIDER_NAME, call.provider),
            (semconv.GEN_AI_RESPONSE_MODEL, call.response_model),
        ):
            text = bounded_text(value, 256) if isinstance(value, str) else None
            if text:
                attrs[key] = text
        usage = call.usage
        if usage is None or not usage.reported:
            return
        attrs.update(usage_attributes(usage, semconv.USAGE_SOURCE_PROVIDER, None, self.names))
        cost = self._prices.cost(
            call.model, call.provider, usage, response_model=call.response_model
        )
        if cost is not None:
            attrs.update(cost_attributes(cost))

    def _record_evaluation(
        self,
        run: Run,
        ev: Evaluation,
        attrs: Attributes,
        operation: str,
        response_id: str | None,
        event: bool = True,
    ) -> None:
        key = semconv.SEMTRACE_QUALITY_PREFIX + ev.name
        is_flag = ev.name in signals.FLAGS or ev.name in checks.FLAGS
        if is_flag and ev.value < 0.5:
            # A flag not raised: its false value says it all. No label, no event and no
            # metric point: a flag's rate is its count over the operation's
            # (gen_ai.client.operation.duration for model calls, retrieval_relevance for
            # retrievals), and each of those costs about as much as a bare span.
            attrs[key] = False
            return
        attrs[key] = True if is_flag else round(ev.value, 4)
        attrs[key + ".label"] = ev.label
        if ev.label == "fail":
            findings = _trace_checks(run).findings
            diagnosis.note(findings, ev.name, run.span.get_span_context().span_id)
        self._instruments.quality_score.record(
            ev.value,
            {
                semconv.GEN_AI_EVALUATION_NAME: ev.name,
                semconv.GEN_AI_EVALUATION_SCORE_LABEL: ev.label,
                semconv.GEN_AI_OPERATION_NAME: operation,
            },
        )
        outbox.evaluation(run.otel_context, ev, operation)  # to the evaluation sinks, if any
        if not event:
            return
        details: Attributes = {
            semconv.GEN_AI_EVALUATION_NAME: ev.name,
            semconv.GEN_AI_EVALUATION_SCORE_VALUE: ev.value,
            semconv.GEN_AI_EVALUATION_SCORE_LABEL: ev.label,
        }
        if ev.explanation:
            details[semconv.GEN_AI_EVALUATION_EXPLANATION] = valid_utf8(
                cut(safe_str(ev.explanation), MAX_EXPLANATION_CHARS)
            )
        if response_id:
            details[semconv.GEN_AI_RESPONSE_ID] = response_id
        self.events.evaluation(run.span, details, _evaluated(run.start, operation))


#: Longest status description of a failed span, marker included.
MAX_STATUS_CHARS: Final = 1024
#: Longest ``exception.message``, marker included.
MAX_EXCEPTION_MESSAGE_CHARS: Final = 4096
#: Longest ``exception.stacktrace``: its head and its tail, marker line included.
MAX_STACKTRACE_CHARS: Final = 16384
#: Longest ``gen_ai.evaluation.explanation`` an evaluator's result gets, marker included.
MAX_EXPLANATION_CHARS: Final = 2000


def mark_failed(span: trace.Span, error: BaseException) -> None:
    """ERROR status and the exception event of a failed run, each within its limit.

    An error can quote its whole input (a provider refusing a 5 MB prompt): recorded as
    it is, it would be 5 MB in one event, enough to lose an export batch. The event is
    the one ``Span.record_exception`` writes, built here: the SDK's would format the
    whole error (and raise when its ``__str__`` does) before ours replaced it.
    """
    span.set_status(Status(StatusCode.ERROR, _message(error)))
    span.add_event(
        "exception",
        {
            "exception.type": bounded_text(_error_type(error), 256) or "",
            "exception.message": valid_utf8(cut(safe_str(error), MAX_EXCEPTION_MESSAGE_CHARS)),
            "exception.stacktrace": _stacktrace(error),
        },
    )


def _stacktrace(error: BaseException) -> str:
    """The formatted traceback, within :data:`MAX_STACKTRACE_CHARS`.

    Each piece (a frame, an exception's line) is cut to the message limit first, then
    the whole keeps its head and its tail.
    """
    try:
        pieces = traceback.format_exception(type(error), error, error.__traceback__)
    except Exception:
        return ""
    limit = MAX_EXCEPTION_MESSAGE_CHARS
    text = "".join(p if len(p) <= limit else cut(p, limit - 1) + "\n" for p in pieces)
    return valid_utf8(cut_middle(text, MAX_STACKTRACE_CHARS))


def _evaluated(start: Any, operation: str) -> Attributes:
    """What an evaluation event names of the run it judges: operation, provider, model."""
    about: Attributes = {semconv.GEN_AI_OPERATION_NAME: operation}
    for key, value in (
        (semconv.GEN_AI_PROVIDER_NAME, getattr(start, "provider", None)),
        (semconv.GEN_AI_REQUEST_MODEL, getattr(start, "model", None)),
    ):
        text = bounded_text(value, 256) if isinstance(value, str) else None
        if text:
            about[key] = text
    return about


def _trace_checks(run: Run) -> checks.TraceChecks:
    """The run's trace's check state, created on first use."""
    state = run.trace.checks
    if state is None:
        state = run.trace.checks = checks.TraceChecks()
    return state


def _set_roll_ups(span: trace.Span, open_trace: OpenTrace) -> None:
    """Totals of the whole trace, on its root, once every run has ended."""
    if not (open_trace.input_tokens or open_trace.output_tokens):
        return
    if not (fits_int64(open_trace.input_tokens) and fits_int64(open_trace.output_tokens)):
        return  # a provider reported absurd counts: no total rather than a lost batch
    span.set_attribute(semconv.SEMTRACE_TRACE_INPUT_TOKENS, open_trace.input_tokens)
    span.set_attribute(semconv.SEMTRACE_TRACE_OUTPUT_TOKENS, open_trace.output_tokens)
    if open_trace.currency is not None:
        span.set_attribute(semconv.SEMTRACE_TRACE_COST_AMOUNT, round(open_trace.cost, 10))
        span.set_attribute(semconv.SEMTRACE_TRACE_COST_CURRENCY, open_trace.currency)


def _set_request(span: trace.Span, operation: Operation[Any], run: Run) -> None:
    attrs = operation.request(run.start)
    if attrs:
        span.set_attributes(attrs)


def _error_type(error: BaseException) -> str:
    cls = type(error)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _message(error: BaseException) -> str:
    try:
        return valid_utf8(cut(f"{type(error).__name__}: {error}", MAX_STATUS_CHARS))
    except Exception:
        return type(error).__name__
