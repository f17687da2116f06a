"""The one object integrations talk to: framework runs in, GenAI spans and metrics out.

An integration translates each framework event into a record (``semtrace.records``)
and calls :meth:`Recorder.start`, :meth:`Recorder.end` or :meth:`Recorder.fail` with
the framework's run id. Everything else lives here: parenting by run id, span names
and attributes, content capture, token counts, metrics and quality signals.

Every public method is safe to call from any thread and never raises.

Example:
    >>> from semtrace import Recorder, Settings
    >>> from semtrace.records import ToolStart, ValueEnd
    >>> recorder = Recorder(Settings())
    >>> recorder.start("run-1", None, ToolStart(name="search"))
    >>> recorder.end("run-1", ValueEnd(output="3 results"))
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
import traceback
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import AttributeValue

from semtrace import _worker as worker
from semtrace import semconv
from semtrace._recording import context as callcontext
from semtrace._recording import feedback as userfeedback
from semtrace._recording.runs import OpenTrace, Run, RunTable, Skipped
from semtrace._telemetry import spans
from semtrace._telemetry.content import ContentPolicy, bounded_text, safe_str, valid_utf8
from semtrace._telemetry.metrics import Instruments
from semtrace._telemetry.spans import fits_int64
from semtrace._telemetry.tokens import TokenCounter
from semtrace.config import Settings
from semtrace.cost import Cost, PriceTable
from semtrace.private_apis import instrumentation_suppressed
from semtrace.quality import checks, diagnosis, signals
from semtrace.quality.consistency import ConsistencyTracker
from semtrace.quality.evaluators import BackgroundEvaluations, Evaluator, validate
from semtrace.quality.sensitive import SENSITIVE_OUTPUT, kinds
from semtrace.quality.signals import Thresholds
from semtrace.quality.types import Evaluation, ModelCall
from semtrace.records import (
    AgentStart,
    EmbeddingEnd,
    EmbeddingStart,
    End,
    LazyEnd,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    Start,
    ToolStart,
    Usage,
    ValueEnd,
    WorkflowStart,
)
from semtrace.safety import never_raise, record_fault
from semtrace.version import __version__


class Recorder:
    """Turns framework runs into OpenTelemetry GenAI spans, metrics and signals.

    Args:
        settings: What to record; ``Settings.resolve()`` (the environment) by default.
        tracer_provider: Provider for spans; the global one by default.
        meter_provider: Provider for metrics; the global one by default.
        thresholds: Pass/fail thresholds of the quality signals.
        framework: Name recorded as ``semtrace.framework`` on root spans.
        evaluators: Your own evaluators (see :mod:`semtrace.quality.evaluators`).
        prices: Price table for ``semtrace.usage.cost.*``; ``PriceTable.load()`` by default
            (``SEMTRACE_PRICES``, else the shipped prices).
        scope_name: Instrumentation scope of the spans and metrics: the integration's
            package (``semtrace_langchain``), so backends can tell who made them.
        scope_version: That package's version.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        thresholds: Thresholds | None = None,
        framework: str | None = None,
        evaluators: Sequence[Evaluator] = (),
        prices: PriceTable | None = None,
        scope_name: str = semconv.SCOPE_NAME,
        scope_version: str = __version__,
    ) -> None:
        self.settings = settings if settings is not None else Settings.resolve()
        self._tracer = trace.get_tracer(
            scope_name, scope_version, tracer_provider, schema_url=semconv.SCHEMA_URL
        )
        self._instruments = Instruments(meter_provider, scope_name, scope_version)
        self._runs = RunTable(self.settings.max_open_runs, self.settings.run_timeout_s)
        self._counter: TokenCounter | None = None
        if self.settings.count_tokens:
            # No warm-up: the first call the provider did not count starts the load, and
            # only its end waits (worker). An app whose provider reports usage never pays
            # for tiktoken, and a cold start's first invocation does not share the GIL with it.
            self._counter = TokenCounter(self.settings.default_encoding)
        self._policy: ContentPolicy | None = None
        if self.settings.capture.enabled:
            self._policy = ContentPolicy(self.settings.max_content_length, self.settings.redact)
        self._thresholds = thresholds or Thresholds()
        self._framework = framework
        self._closed = False
        self._trace_lock = threading.Lock()
        self._drop = self.settings.drop_operations
        self._prices = prices if prices is not None else PriceTable.load()
        checked = validate(evaluators)
        self._inline = tuple(e for e in checked if not e.background)
        self._deferred = tuple(e for e in checked if e.background)
        self.background = BackgroundEvaluations(self._record_later) if self._deferred else None
        self._consistency = ConsistencyTracker() if self.settings.consistency else None

    @property
    def open_runs(self) -> int:
        """Runs in flight (recorded or linked); bounded by ``settings.max_open_runs``."""
        return len(self._runs)

    # --- lifecycle ---

    @never_raise
    def start(
        self,
        run_id: Hashable,
        parent_id: Hashable | None,
        record: Start,
        start_time_ns: int | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        """Open a span for ``record``, child of the run ``parent_id``.

        ``attributes`` holds per-call attributes the framework knows (user, session,
        conversation id, tags): they go on this span and every span below it, together
        with those of the enclosing :func:`semtrace.context` block.
        """
        if self._closed:
            return
        worker.note_activity()
        parent_run, open_trace = self._parent(parent_id)
        dropped = self._drop and spans.operation_of(record) in self._drop
        if dropped or instrumentation_suppressed():
            self._add(run_id, Skipped(parent_run, open_trace))
            return
        try:
            span, parent_context, open_trace = self._open_span(
                record, parent_run, open_trace, start_time_ns, attributes
            )
        except Exception:
            # No span: its children still attach to the nearest recorded ancestor.
            record_fault("Recorder.start")
            self._add(run_id, Skipped(parent_run, open_trace))
            return
        run = Run(
            span,
            trace.set_span_in_context(span, parent_context),
            record,
            time.perf_counter_ns(),
            open_trace,
            span.is_recording(),
            is_root=parent_run is None,
        )
        # From here the span is in the table, so it ends whatever fails below.
        with self._trace_lock:
            run.trace.open_runs += 1
        self._add(run_id, run)
        if run.is_root:
            _try(
                "Recorder.start feedback",
                userfeedback.note_root,
                run_id,
                span,
                self._tracer,
                self._instruments.feedback_score,
            )
        _try("Recorder.start content", self._after_start, run)

    def _open_span(
        self,
        record: Start,
        parent_run: Run | None,
        open_trace: OpenTrace | None,
        start_time_ns: int | None,
        attributes: Mapping[str, AttributeValue] | None,
    ) -> tuple[trace.Span, otel_context.Context, OpenTrace]:
        parent_context = (
            parent_run.otel_context if parent_run is not None else otel_context.get_current()
        )
        name, kind, attrs = spans.describe(record)
        if open_trace is None:
            # A new trace: the caller's semtrace.context() applies to all of it.
            open_trace = OpenTrace(attributes=dict(callcontext.current()))
            if self._framework:
                attrs[semconv.SEMTRACE_FRAMEWORK] = self._framework
        if attributes:
            open_trace.attributes.update(attributes)
        attrs.update(open_trace.attributes)
        if isinstance(record, ModelStart) and open_trace.prompt is not None:
            prompt_name, prompt_version = open_trace.prompt
            open_trace.prompt = None
            attrs[semconv.GEN_AI_PROMPT_NAME] = prompt_name
            if prompt_version:
                attrs[semconv.SEMTRACE_PROMPT_VERSION] = prompt_version
        span = self._tracer.start_span(
            name, context=parent_context, kind=kind, attributes=attrs, start_time=start_time_ns
        )
        return span, parent_context, open_trace

    def _after_start(self, run: Run) -> None:
        record = run.start
        if run.recording and self._policy is not None and self.settings.capture.on_span:
            run.span.set_attributes(spans.content_at_start(record, self._policy))
        if isinstance(record, (WorkflowStart, AgentStart)) and run.trace.question is None:
            run.trace.question = spans.first_text(record.input)

    @never_raise
    def skip(self, run_id: Hashable, parent_id: Hashable | None) -> None:
        """Note a run that is not recorded; its children attach to its nearest recorded ancestor."""
        parent_run, open_trace = self._parent(parent_id)
        self._add(run_id, Skipped(parent_run, open_trace))

    @never_raise
    def use_prompt(self, run_id: Hashable, name: str, version: str | None = None) -> None:
        """Note that run ``run_id`` rendered prompt template ``name`` (``version``).

        The next model call of the same trace records ``gen_ai.prompt.name`` and
        ``semtrace.prompt.version``: frameworks render a prompt in a run of its own, just
        before the model call that uses it.
        """
        entry = self._runs.get(run_id)
        if entry is not None and entry.trace is not None:
            prompt_name = bounded_text(name, 256)
            if prompt_name:
                entry.trace.prompt = (prompt_name, bounded_text(version, 64) if version else None)

    @never_raise
    def chunk(self, run_id: Hashable) -> None:
        """Note a streamed chunk; the first one sets ``gen_ai.response.time_to_first_chunk``."""
        worker.note_activity()
        run = self._runs.get(run_id)
        if isinstance(run, Run) and run.first_chunk_ns is None:
            run.first_chunk_ns = time.perf_counter_ns()

    @never_raise
    def end(self, run_id: Hashable, record: End | LazyEnd | None = None) -> None:
        """Close the run's span successfully with what it returned."""
        run = self._runs.pop(run_id)
        if isinstance(run, Run):
            self._finish(run, record, None)

    @never_raise
    def fail(
        self, run_id: Hashable, error: BaseException, record: End | LazyEnd | None = None
    ) -> None:
        """Close the run's span with ERROR status, ``error.type`` and the exception."""
        run = self._runs.pop(run_id)
        if isinstance(run, Run):
            self._finish(run, record, error)

    @never_raise
    def cancel(self, run_id: Hashable) -> None:
        """Close the span of a run its caller abandoned (a stream closed early, a task cancelled).

        Not an error: the span ends with ``semtrace.run.cancelled = true``.
        """
        run = self._runs.pop(run_id)
        if isinstance(run, Run):
            _try("Recorder.cancel", run.span.set_attribute, semconv.SEMTRACE_RUN_CANCELLED, True)
            self._finish(run, None, None)

    @never_raise
    def promote(self, run_id: Hashable, record: AgentStart) -> None:
        """Turn a workflow run into an agent run once the framework reveals it is one."""
        run = self._runs.get(run_id)
        if isinstance(run, Run) and isinstance(run.start, WorkflowStart):
            name, _, attrs = spans.describe(record)
            run.span.update_name(name)
            run.span.set_attributes(attrs)
            run.start = record

    @contextlib.contextmanager
    def activate(self, run_id: Hashable) -> Iterator[None]:
        """Make the run's span current while the framework executes it.

        Used around the call that does the I/O (e.g. the HTTP request of a model call) so
        that client instrumentations nest their spans under ours. Attach and detach happen
        in this one frame, so concurrent runs cannot unbalance the context.
        """
        token = None
        try:
            run = self._runs.get(run_id)
            if isinstance(run, Run):
                token = otel_context.attach(run.otel_context)
        except Exception:
            token = None
        try:
            yield
        finally:
            if token is not None:
                otel_context.detach(token)

    def attach(self, run_id: Hashable) -> Attachment | None:
        """Make the run's span current until :meth:`detach`.

        For frameworks whose run enters and exits in separate callbacks that one frame
        brackets (LlamaIndex's dispatcher); others use :meth:`activate`.

        Returns:
            A handle for :meth:`detach`, or None if the run is not recorded.
        """
        try:
            run = self._runs.get(run_id)
            if isinstance(run, Run):
                return Attachment(run.otel_context, otel_context.attach(run.otel_context))
        except Exception:
            record_fault("Recorder.attach")
        return None

    @staticmethod
    def detach(attachment: Attachment | None) -> None:
        """Undo :meth:`attach`, only if its context is still the current one.

        A run ended from elsewhere (a future's callback, another task) leaves the caller's
        context alone rather than corrupt it.
        """
        if attachment is None:
            return
        try:
            if otel_context.get_current() is attachment.context:
                otel_context.detach(attachment.token)
        except Exception:
            record_fault("Recorder.detach")

    @never_raise
    def close(self) -> None:
        """Stop recording: end every open run's span (marked abandoned), start no more.

        Runs that ended already are finished first (their work may still be queued).
        """
        self._closed = True
        worker.drain(worker.EXIT_WAIT_S)
        for entry in self._runs.drain():
            if isinstance(entry, Run):
                self._abandon(entry)

    # --- internals ---

    def _parent(self, parent_id: Hashable | None) -> tuple[Run | None, OpenTrace | None]:
        entry = self._runs.get(parent_id)
        if isinstance(entry, Run):
            return entry, entry.trace
        if isinstance(entry, Skipped):
            return entry.target, entry.trace
        return None, None

    def _add(self, run_id: Hashable, entry: Run | Skipped) -> None:
        for evicted in self._runs.add(run_id, entry):
            if isinstance(evicted, Run):
                self._abandon(evicted)

    def _abandon(self, run: Run) -> None:
        _try("Recorder.abandon", run.span.set_attribute, semconv.SEMTRACE_RUN_ABANDONED, True)
        if isinstance(run.start, ModelStart):
            _try("Recorder.abandon", _set_request_attributes, run.span, run.start)
        _try("Recorder.abandon", self._end_span, run, time.time_ns())

    def _end_span(self, run: Run, end_ns: int) -> None:
        """End the run's span; a root waits for the rest of its trace.

        Frameworks do not always end children first (LangChain ends the root of an
        abandoned stream before its model run). A root ended early would be exported before
        the rest of its trace, so it keeps its end time and ends when its last run does.
        """
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
            _try("Recorder roll-ups", self._set_roll_ups, run.span, open_trace)
            _try("Recorder diagnosis", self._diagnose, run.span, open_trace)
        try:
            run.span.end(end_time=end_ns)
        finally:
            if pending is not None:
                _try("Recorder roll-ups", self._set_roll_ups, pending[0], open_trace)
                _try("Recorder diagnosis", self._diagnose, pending[0], open_trace)
                pending[0].end(end_time=pending[1])

    @staticmethod
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

    def _finish(self, run: Run, record: End | LazyEnd | None, error: BaseException | None) -> None:
        """Note when the run ended; the rest is the worker's (:mod:`semtrace._worker`)."""
        # The span ends when the framework said it did, not after our own bookkeeping.
        ended = (time.time_ns(), (time.perf_counter_ns() - run.started_ns) / 1e9)
        if error is not None:
            # Here, not on the worker: on Python 3.11 formatting a traceback parses source
            # (ast.parse), which is not safe while another thread parses too (the app's
            # own traceback, pytest's report): "AST constructor recursion depth mismatch".
            # Failures are rare; the caller pays for its own.
            _try("Recorder.end status", _mark_failed, run.span, error)
        if self.settings.background:
            if isinstance(record, ValueEnd):
                # The app may change what it got back before the worker reads it.
                record = ValueEnd(_snapshot(record.output))
            work = functools.partial(self._complete_in_context, run, record, error, ended)
            if worker.submit(work, run.span.get_span_context().trace_id):
                return
        self._complete(run, record, error, ended)

    def _complete_in_context(
        self,
        run: Run,
        record: End | LazyEnd | None,
        error: BaseException | None,
        ended: tuple[int, float],
    ) -> None:
        """:meth:`_complete` off the caller's thread, with the run's span current.

        As on the caller's side: metric points keep the span as their exemplar.
        """
        token = otel_context.attach(run.otel_context)
        try:
            self._complete(run, record, error, ended)
        finally:
            otel_context.detach(token)

    def _complete(
        self,
        run: Run,
        given: End | LazyEnd | None,
        error: BaseException | None,
        ended: tuple[int, float],
    ) -> None:
        """Turn an ended run into telemetry, and end its span at its true end time."""
        end_ns, duration_s = ended
        record = given.resolve() if isinstance(given, LazyEnd) else given
        awaited = self._awaited(run, record, error)
        if awaited is not None and worker.defer(
            awaited,
            lambda: self._complete_in_context(run, record, error, ended),
            run.span.get_span_context().trace_id,
        ):
            return  # ended, with its counts, once the encoding is ready
        attrs: spans.Attributes = {}
        try:
            # Each piece is isolated: a fault loses that piece, never the span.
            if run.recording and isinstance(run.start, ModelStart):
                _try("Recorder.end request", _add_request_attributes, run.start, attrs)
            if run.recording and record is not None:
                _try("Recorder.end attributes", self._end_attributes, run, record, attrs)
            if isinstance(run.start, (ModelStart, EmbeddingStart)):
                self._record_model_metrics(run, record, error, attrs, duration_s)
            if run.recording and error is None and record is not None:
                _try("Recorder.end signals", self._record_signals, run, record, attrs)
            if run.recording and self.settings.quality_signals:
                _try("Recorder.end checks", self._record_checks, run, record, error, attrs)
            if error is not None:
                attrs[semconv.ERROR_TYPE] = _error_type(error)
            if attrs:
                _try("Recorder.end set_attributes", run.span.set_attributes, attrs)
        finally:
            self._end_span(run, end_ns)

    def _awaited(
        self, run: Run, record: End | None, error: BaseException | None
    ) -> worker.Register | None:
        """What counting this run's tokens would wait for now, if anything.

        Only a successful model or embedding call the provider reported no usage for is
        counted; it waits for its encoding's load.
        """
        counter = self._counter
        if counter is None or error is not None:
            return None
        if not isinstance(record, (ModelEnd, EmbeddingEnd)):
            return None
        if record.usage is not None and record.usage.reported:
            return None
        start = run.start
        if not isinstance(start, (ModelStart, EmbeddingStart)):
            return None
        return counter.pending_load(start.model)

    def _end_attributes(self, run: Run, record: End, attrs: spans.Attributes) -> None:
        attrs.update(spans.at_end(run.start, record))
        if self._policy is not None:
            self._record_content(run, record, attrs)
        if run.first_chunk_ns is not None:
            attrs[semconv.GEN_AI_REQUEST_STREAM] = True
            attrs[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (
                run.first_chunk_ns - run.started_ns
            ) / 1e9

    def _record_content(self, run: Run, record: End, attrs: spans.Attributes) -> None:
        policy = self._policy
        assert policy is not None
        content = spans.content_at_end(run.start, record, policy)
        if self.settings.capture.on_span:
            attrs.update(content)
        if self.settings.capture.on_event and isinstance(run.start, ModelStart):
            details = {**spans.content_at_start(run.start, policy), **content}
            run.span.add_event(semconv.EVENT_INFERENCE_DETAILS, details)

    def _record_model_metrics(
        self,
        run: Run,
        record: End | None,
        error: BaseException | None,
        attrs: spans.Attributes,
        duration_s: float,
    ) -> None:
        """Usage, cost and duration, each under its own guard.

        A fault while counting tokens or pricing them loses those, never the duration
        point: dashboards count calls with it.
        """
        response_model = record.response_model if isinstance(record, ModelEnd) else None
        try:
            metric_attrs = spans.metric_attributes(run.start, response_model)
        except Exception:
            record_fault("Recorder.end metric attributes")
            metric_attrs = {}
        if error is None and record is not None:
            _try("Recorder.end usage", self._record_usage, run, record, attrs, metric_attrs)
        if error is not None:
            metric_attrs = {**metric_attrs, semconv.ERROR_TYPE: _error_type(error)}
        _try(
            "Recorder.end duration",
            self._instruments.operation_duration.record,
            duration_s,
            metric_attrs,
        )

    def _record_usage(
        self, run: Run, record: End, attrs: spans.Attributes, metric_attrs: spans.Attributes
    ) -> None:
        """Token usage and cost: on the span, in the trace's roll-ups and in the metrics."""
        response_model = record.response_model if isinstance(record, ModelEnd) else None
        usage, source, encoding = self._usage(run, record)
        if usage is None:
            return
        cost = self._cost(run, usage, source, response_model)
        if run.recording:
            attrs.update(spans.usage_attributes(usage, source, encoding))
            if cost is not None:
                attrs.update(spans.cost_attributes(cost))
        self._roll_up(run.trace, usage, cost)
        if cost is not None:
            self._instruments.cost.add(
                cost.amount,
                {**metric_attrs, semconv.SEMTRACE_USAGE_COST_CURRENCY: cost.currency},
            )
        token_attrs = {**metric_attrs, semconv.SEMTRACE_USAGE_SOURCE: source}
        for token_type, tokens in (
            (semconv.TOKEN_TYPE_INPUT, usage.input_tokens),
            (semconv.TOKEN_TYPE_OUTPUT, usage.output_tokens),
        ):
            if tokens is not None:
                self._instruments.token_usage.record(
                    tokens, {**token_attrs, semconv.GEN_AI_TOKEN_TYPE: token_type}
                )

    def _cost(self, run: Run, usage: Usage, source: str, response_model: str | None) -> Cost | None:
        start = run.start
        if not isinstance(start, (ModelStart, EmbeddingStart)):
            return None
        estimated = source == semconv.USAGE_SOURCE_TIKTOKEN
        return self._prices.cost(
            start.model, start.provider, usage, estimated=estimated, response_model=response_model
        )

    def _roll_up(self, open_trace: OpenTrace, usage: Usage, cost: Cost | None) -> None:
        with self._trace_lock:
            open_trace.input_tokens += usage.input_tokens or 0
            open_trace.output_tokens += usage.output_tokens or 0
            if cost is not None and open_trace.currency in (None, cost.currency):
                open_trace.cost += cost.amount
                open_trace.currency = cost.currency

    def _usage(self, run: Run, record: End) -> tuple[Usage | None, str, str | None]:
        reported = record.usage if isinstance(record, (ModelEnd, EmbeddingEnd)) else None
        if reported is not None and reported.reported:
            return reported, semconv.USAGE_SOURCE_PROVIDER, None
        counter = self._counter
        if counter is None:
            return None, "", None
        start = run.start
        if isinstance(start, ModelStart) and isinstance(record, ModelEnd):
            counted = counter.count_input(start.model, start.messages, start.tools)
            output = counter.count_output(start.model, record.output)
            if counted is None or output is None:
                return None, "", None
            usage = Usage(input_tokens=counted.tokens, output_tokens=output.tokens)
            return usage, semconv.USAGE_SOURCE_TIKTOKEN, counted.encoding
        if isinstance(start, EmbeddingStart):
            counted = counter.count_texts(start.model, start.inputs)
            if counted is None:
                return None, "", None
            return (
                Usage(input_tokens=counted.tokens),
                semconv.USAGE_SOURCE_TIKTOKEN,
                counted.encoding,
            )
        return None, "", None

    def _record_signals(self, run: Run, record: End, attrs: spans.Attributes) -> None:
        start = run.start
        builtins = self.settings.quality_signals
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
            model_signals = (
                signals.after_model(
                    start, record, run.trace, self._thresholds, self.settings.grounding
                )
                if builtins
                else None
            )
            evaluations = model_signals.evaluations if model_signals is not None else []
            if model_signals is not None and model_signals.grounding is not None:
                attrs[semconv.SEMTRACE_QUALITY_GROUNDEDNESS_KIND] = model_signals.grounding.kind
        else:
            return
        every_event = self.settings.all_evaluation_events
        for evaluation in evaluations:
            # A built-in signal's event says something went wrong; one that passed is on
            # the span's attributes and in the histogram (an event costs as much as a span).
            event = every_event or evaluation.label == "fail"
            self._record_evaluation(run, evaluation, attrs, operation, response_id, event)
        if self._inline or self._deferred:
            found = self._run_evaluators(run, record, operation, model_signals)
            for evaluation in found:
                self._record_evaluation(run, evaluation, attrs, operation, response_id)

    def _record_checks(
        self, run: Run, record: End | None, error: BaseException | None, attrs: spans.Attributes
    ) -> None:
        """The second-generation checks (:mod:`semtrace.quality.checks`) of one run."""
        start, state = run.start, _checks(run)
        operation: str
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
            operation, response_id = spans.operation_of(start) or "step", None
            found = checks.after_run(state, start, record, error, run.is_root)
            if error is not None and (run.is_root or isinstance(start, ToolStart)) and not found:
                # A failed tool is a tool_error unless the run fails too (error outranks it).
                signal = diagnosis.root_error_signal(error) if run.is_root else diagnosis.TOOL_ERROR
                diagnosis.note(state.findings, signal, run.span.get_span_context().span_id)
        for evaluation in found:
            if evaluation.name == SENSITIVE_OUTPUT:
                attrs[semconv.SEMTRACE_QUALITY_SENSITIVE_KINDS] = kinds(evaluation)
            event = evaluation.label == "fail" or self.settings.all_evaluation_events
            self._record_evaluation(run, evaluation, attrs, operation, response_id, event)

    def _diagnose(self, span: trace.Span, open_trace: OpenTrace) -> None:
        """The trace's diagnosis on its root span, and one count of it."""
        found = diagnosis.diagnose(open_trace.checks.findings) if open_trace.checks else None
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
        for evaluator in self._inline:
            if operation in evaluator.operations:
                try:
                    result = evaluator.evaluate(sample)
                except Exception:
                    record_fault(f"evaluator {evaluator.name}")
                    continue
                if result is not None:
                    results.append(result)
        if self.background is not None:
            for evaluator in self._deferred:
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
        attrs: spans.Attributes = {}
        run = Run(span, parent, WorkflowStart(name=ev.name), 0, OpenTrace(), span.is_recording())
        if ev.call is not None:
            _try("Recorder evaluation usage", self._evaluation_usage, ev.call, attrs)
        for each in (ev, *ev.related):
            self._record_evaluation(run, each, attrs, operation, None)
        span.set_attributes(attrs)
        span.end()

    def _evaluation_usage(self, call: ModelCall, attrs: spans.Attributes) -> None:
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
        attrs.update(spans.usage_attributes(usage, semconv.USAGE_SOURCE_PROVIDER, None))
        cost = self._prices.cost(
            call.model, call.provider, usage, response_model=call.response_model
        )
        if cost is not None:
            attrs.update(spans.cost_attributes(cost))

    def _record_evaluation(
        self,
        run: Run,
        ev: Evaluation,
        attrs: spans.Attributes,
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
            diagnosis.note(_checks(run).findings, ev.name, run.span.get_span_context().span_id)
        self._instruments.quality_score.record(
            ev.value,
            {
                semconv.GEN_AI_EVALUATION_NAME: ev.name,
                semconv.GEN_AI_EVALUATION_SCORE_LABEL: ev.label,
                semconv.GEN_AI_OPERATION_NAME: operation,
            },
        )
        if not event:
            return
        details: spans.Attributes = {
            semconv.GEN_AI_EVALUATION_NAME: ev.name,
            semconv.GEN_AI_EVALUATION_SCORE_VALUE: ev.value,
            semconv.GEN_AI_EVALUATION_SCORE_LABEL: ev.label,
        }
        if ev.explanation:
            details[semconv.GEN_AI_EVALUATION_EXPLANATION] = ev.explanation
        if response_id:
            details[semconv.GEN_AI_RESPONSE_ID] = response_id
        run.span.add_event(semconv.EVENT_EVALUATION_RESULT, details)


@dataclass(frozen=True, slots=True)
class Attachment:
    """What :meth:`Recorder.attach` attached, for :meth:`Recorder.detach`."""

    context: otel_context.Context
    token: contextvars.Token[otel_context.Context]


def _checks(run: Run) -> checks.TraceChecks:
    """The run's trace's check state, created on first use."""
    state = run.trace.checks
    if state is None:
        state = run.trace.checks = checks.TraceChecks()
    return state


def _try(site: str, fn: Any, *args: Any) -> None:
    """Run one optional piece of work; a fault is counted and loses only that piece."""
    try:
        fn(*args)
    except Exception:
        record_fault(site)


def _mark_failed(span: trace.Span, error: BaseException) -> None:
    span.set_status(Status(StatusCode.ERROR, _message(error)))
    # The SDK would record str(error) as it is; a lone surrogate in it loses the batch.
    stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    span.record_exception(
        error,
        attributes={
            "exception.message": valid_utf8(safe_str(error)),
            "exception.stacktrace": valid_utf8(stack),
        },
    )


def _add_request_attributes(start: ModelStart, attrs: spans.Attributes) -> None:
    attrs.update(spans.request_attributes(start))


def _set_request_attributes(span: trace.Span, start: ModelStart) -> None:
    span.set_attributes(spans.request_attributes(start))


def _snapshot(output: Any) -> Any:
    """A copy of a run's output that the app changing its own value does not reach.

    Shallow where it matters: a LangGraph state the app appends a message to, a dict it
    sets keys on. Objects inside are shared; the app rarely changes those in place.
    """
    if isinstance(output, dict):
        return {k: list(v) if isinstance(v, list) else v for k, v in output.items()}
    if isinstance(output, list):
        return list(output)
    return output


def _error_type(error: BaseException) -> str:
    cls = type(error)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def _message(error: BaseException) -> str:
    try:
        return valid_utf8(f"{type(error).__name__}: {error}"[:1024])
    except Exception:
        return type(error).__name__
