"""The one object integrations talk to: framework runs in, GenAI spans and metrics out.

An integration translates each framework event into a record (``semtrace.records``)
and calls :meth:`Recorder.start`, :meth:`Recorder.end` or :meth:`Recorder.fail` with
the framework's run id. The recorder keeps the caller's side of a run's life: parenting
by run id, the span's start (named and described by its operation,
:mod:`semtrace._telemetry.operations`), the caller's context, and the time the run ended.
The rest (attributes, token counts, cost, metrics, quality verdicts, the span's end)
happens on the worker, in :mod:`semtrace._telemetry.ending`.

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
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

from semtrace import _worker as worker
from semtrace import semconv
from semtrace._recording import context as callcontext
from semtrace._recording import feedback as userfeedback
from semtrace._recording.runs import RunTable, Skipped
from semtrace._telemetry.content import bounded_text
from semtrace._telemetry.ending import Ending, mark_failed
from semtrace._telemetry.events import Events
from semtrace._telemetry.metrics import Instruments
from semtrace._telemetry.operations import Operation, operation_for
from semtrace._telemetry.run import OpenTrace, Run
from semtrace.config import Settings
from semtrace.cost import PriceTable
from semtrace.private_apis import instrumentation_suppressed
from semtrace.quality.evaluators import Evaluator, validate
from semtrace.quality.signals import Thresholds
from semtrace.records import (
    AgentStart,
    End,
    LazyEnd,
    ModelStart,
    Start,
    StepStart,
    ValueEnd,
    WorkflowStart,
)
from semtrace.safety import attempt, never_raise, record_fault
from semtrace.semconv_latest import conventions
from semtrace.version import __version__


class Recorder:
    """Turns framework runs into OpenTelemetry GenAI spans, metrics and signals.

    Args:
        settings: What to record; ``Settings.resolve()`` (the environment) by default.
        tracer_provider: Provider for spans; the global one by default.
        meter_provider: Provider for metrics; the global one by default.
        logger_provider: Provider for the GenAI events (the Logs API); the global one by
            default.
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
        logger_provider: Any = None,
        thresholds: Thresholds | None = None,
        framework: str | None = None,
        evaluators: Sequence[Evaluator] = (),
        prices: PriceTable | None = None,
        scope_name: str = semconv.SCOPE_NAME,
        scope_version: str = __version__,
    ) -> None:
        self.settings = settings if settings is not None else Settings.resolve()
        #: The conventions written: the released 1.41 ones, or the newest on opt-in.
        self._names = conventions(self.settings.latest_conventions)
        self._tracer = trace.get_tracer(
            scope_name, scope_version, tracer_provider, schema_url=self._names.schema_url
        )
        self._instruments = Instruments(meter_provider, scope_name, scope_version, self._names)
        self._runs = RunTable(self.settings.max_open_runs, self.settings.run_timeout_s)
        self._framework = framework
        self._closed = False
        self._trace_lock = threading.Lock()
        self._drop = self.settings.drop_operations
        self._prices = prices if prices is not None else PriceTable.load()
        # What happens once a run has ended, on the worker: attributes, usage and cost,
        # metric points, verdicts, and the span's end.
        self._ending = Ending(
            self.settings,
            self._tracer,
            self._instruments,
            self._prices,
            thresholds or Thresholds(),
            validate(evaluators),
            self._trace_lock,
            Events(self.settings, logger_provider, scope_name, scope_version),
        )
        self._policy = self._ending.policy
        #: The background evaluators' pool (None without background evaluators).
        self.background = self._ending.background

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
        opened = self._new_run(record, parent_run, open_trace, start_time_ns, attributes)
        if opened is None:  # not recorded: its children attach to the nearest recorded ancestor
            self._add(run_id, Skipped(parent_run, open_trace))
        else:
            self._track(run_id, *opened)

    def _new_run(
        self,
        record: Start,
        parent_run: Run | None,
        open_trace: OpenTrace | None,
        start_time_ns: int | None,
        attributes: Mapping[str, AttributeValue] | None,
        elapsed_ns: int = 0,
    ) -> tuple[Run, Operation[Any]] | None:
        """A run with its span started, or None for a run not recorded.

        ``elapsed_ns``: how long ago the run started (one recognised late), else 0.
        """
        try:
            operation = operation_for(record, self._names)
            dropped = self._drop and operation.operation_name(record) in self._drop
        except Exception:
            operation, dropped = None, True  # not a start record: counted, then skipped
            record_fault("Recorder.start")
        if dropped or operation is None or instrumentation_suppressed():
            return None
        try:
            span, parent_context, open_trace = self._open_span(
                record, operation, parent_run, open_trace, start_time_ns, attributes
            )
        except Exception:
            record_fault("Recorder.start")
            return None
        run = Run(
            span,
            trace.set_span_in_context(span, parent_context),
            record,
            time.perf_counter_ns() - elapsed_ns,
            open_trace,
            span.is_recording(),
            is_root=parent_run is None,
        )
        return run, operation

    def _track(
        self,
        run_id: Hashable,
        run: Run,
        operation: Operation[Any],
        instead_of: Skipped | None = None,
    ) -> None:
        """Put a started run in the table (in ``instead_of``'s place), then note its start."""
        with self._trace_lock:
            run.trace.open_runs += 1
        # From here the span is in the table, so it ends whatever fails below.
        if instead_of is None:
            self._add(run_id, run)
        elif not self._runs.replace(run_id, instead_of, run):
            self._abandon(run)  # the skipped run ended meanwhile: nothing else would end it
            return
        if run.is_root:
            attempt(
                "Recorder.start feedback",
                userfeedback.note_root,
                run_id,
                run.span,
                self._tracer,
                self._instruments.feedback_score,
                self._ending.events,
            )
        try:  # inline, not attempt(): one frame less on every run
            self._after_start(run, operation)
        except Exception:
            record_fault("Recorder.start content")

    def _open_span(
        self,
        record: Start,
        operation: Operation[Any],
        parent_run: Run | None,
        open_trace: OpenTrace | None,
        start_time_ns: int | None,
        attributes: Mapping[str, AttributeValue] | None,
    ) -> tuple[trace.Span, otel_context.Context, OpenTrace]:
        parent_context = (
            parent_run.otel_context if parent_run is not None else otel_context.get_current()
        )
        name, kind, attrs = operation.describe(record)
        if open_trace is None:
            # A new trace: the caller's semtrace.context() applies to all of it.
            open_trace = OpenTrace(attributes=dict(callcontext.current()))
            if self._framework:
                attrs[semconv.SEMTRACE_FRAMEWORK] = self._framework
        if attributes:
            open_trace.attributes.update(self._names.given(attributes))
        attrs.update(open_trace.attributes)
        if isinstance(record, ModelStart):  # it takes its trace's prompt, gives its provider
            if parent_run is not None and self._names.agent_provider_and_id:
                _note_agent_provider(parent_run, record)
            if open_trace.prompt is not None:
                prompt_name, prompt_version = open_trace.prompt
                open_trace.prompt = None
                attrs[semconv.GEN_AI_PROMPT_NAME] = prompt_name
                if prompt_version:
                    attrs[self._names.prompt_version] = prompt_version
        span = self._tracer.start_span(
            name, context=parent_context, kind=kind, attributes=attrs, start_time=start_time_ns
        )
        return span, parent_context, open_trace

    def _after_start(self, run: Run, operation: Operation[Any]) -> None:
        record = run.start
        if run.recording and self._policy is not None and self.settings.capture.on_span:
            run.span.set_attributes(operation.content_at_start(record, self._policy))
        if run.trace.question is None:
            run.trace.question = operation.question(record)

    @never_raise
    def skip(
        self, run_id: Hashable, parent_id: Hashable | None, name: str = "", input: Any = None
    ) -> None:
        """Note a run that is not recorded; its children attach to its nearest recorded ancestor.

        ``name`` and ``input`` are what the run is recorded with should :meth:`promote`
        reveal it is an agent after all.
        """
        parent_run, open_trace = self._parent(parent_id)
        self._add(run_id, Skipped(parent_run, open_trace, name=name, input=input))

    @never_raise
    def use_prompt(self, run_id: Hashable, name: str, version: str | None = None) -> None:
        """Note that run ``run_id`` rendered prompt template ``name`` (``version``).

        The next model call of the same trace records ``gen_ai.prompt.name`` and
        ``semtrace.prompt.version`` (``gen_ai.prompt.version`` in the newest conventions):
        frameworks render a prompt in a run of its own, just
        before the model call that uses it.
        """
        entry = self._runs.get(run_id)
        if entry is not None and entry.trace is not None:
            prompt_name = bounded_text(name, 256)
            if prompt_name:
                entry.trace.prompt = (prompt_name, bounded_text(version, 64) if version else None)

    @never_raise
    def chunk(self, run_id: Hashable) -> None:
        """Note a streamed chunk: the time to the first, and the time between the others."""
        worker.note_activity()
        run = self._runs.get(run_id)
        if isinstance(run, Run):
            run.note_chunk(time.perf_counter_ns())

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
            attempt("Recorder.cancel", run.span.set_attribute, semconv.SEMTRACE_RUN_CANCELLED, True)
            if isinstance(run.start, ModelStart):  # the call did not finish: "error" says so
                attempt("Recorder.cancel", run.span.set_attribute, *_ERROR_FINISH)
            self._finish(run, None, None)

    @never_raise
    def promote(self, run_id: Hashable, record: AgentStart) -> None:
        """Turn a run into an agent run once the framework reveals it is one.

        A workflow or step keeps its span, renamed. A run skipped as plumbing (a graph
        nested in another, known for an agent only when its first step starts) gets its
        span now, started when the run did, and the runs that start from here on nest
        under it. Either way an agent named by nothing but its run keeps the run's name.
        """
        entry = self._runs.get(run_id)
        if isinstance(entry, Skipped):
            self._start_skipped(run_id, entry, record)
        elif isinstance(entry, Run) and isinstance(entry.start, (WorkflowStart, StepStart)):
            if not record.name:
                record.name = entry.start.name
            if record.input is None:
                record.input = entry.start.input
            name, _, attrs = operation_for(record, self._names).describe(record)
            entry.span.update_name(name)
            entry.span.set_attributes(attrs)
            entry.start = record

    def _start_skipped(self, run_id: Hashable, skipped: Skipped, record: AgentStart) -> None:
        if skipped.name is None or self._closed:
            return  # skipped for good (dropped, suppressed), not as plumbing
        if not record.name:
            record.name = skipped.name
        if skipped.input is not None:
            record.input = skipped.input
        elapsed_ns = max(0, int((time.monotonic() - skipped.created) * 1e9))
        opened = self._new_run(
            record,
            skipped.target,
            skipped.trace,
            time.time_ns() - elapsed_ns,
            None,
            elapsed_ns=elapsed_ns,
        )
        if opened is not None:
            opened[0].created = skipped.created  # the table stays in start order
            self._track(run_id, *opened, instead_of=skipped)

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
        self._ending.abandon(run, time.time_ns())

    def _finish(self, run: Run, record: End | LazyEnd | None, error: BaseException | None) -> None:
        """Note when the run ended; the rest is the worker's (:mod:`semtrace._telemetry.ending`)."""
        # The span ends when the framework said it did, not after our own bookkeeping.
        ended = (time.time_ns(), (time.perf_counter_ns() - run.started_ns) / 1e9)
        if error is not None:
            # Here, not on the worker: on Python 3.11 formatting a traceback parses source
            # (ast.parse), which is not safe while another thread parses too (the app's
            # own traceback, pytest's report): "AST constructor recursion depth mismatch".
            # Failures are rare; the caller pays for its own.
            attempt("Recorder.end status", mark_failed, run.span, error)
        if self.settings.background:
            if isinstance(record, ValueEnd):
                # The app may change what it got back before the worker reads it.
                record = ValueEnd(_snapshot(record.output))
            work = functools.partial(self._ending.complete_in_context, run, record, error, ended)
            if worker.submit(work, run.span.get_span_context().trace_id):
                return
        self._ending.complete(run, record, error, ended)


@dataclass(frozen=True, slots=True)
class Attachment:
    """What :meth:`Recorder.attach` attached, for :meth:`Recorder.detach`."""

    context: otel_context.Context
    token: contextvars.Token[otel_context.Context]


_ERROR_FINISH: Final = (semconv.GEN_AI_RESPONSE_FINISH_REASONS, ("error",))


def _note_agent_provider(agent: Run, record: ModelStart) -> None:
    """An agent's provider is its model's: known here, at its first model call, if not before."""
    start = agent.start
    if isinstance(start, AgentStart) and start.provider is None:
        provider = bounded_text(record.provider, 256)
        if provider:
            start.provider = provider
            agent.span.set_attribute(semconv.GEN_AI_PROVIDER_NAME, provider)


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
