"""Tail sampling in process: keep every trace that matters and a sample of the rest.

:class:`TailSamplingProcessor` sits between the tracer provider and the processor that
exports (a ``BatchSpanProcessor``, say). It holds a trace's finished spans until the
trace's *local root* ends (the span whose parent is absent or remote), judges the whole
trace with a :class:`Policy`, then hands **all** of its spans to the downstream
processor or **none** of them. ``on_start`` is passed through at once; only ``on_end``
is worker.

A trace is kept when any span failed (status ``ERROR``), when it was slow, costly or
token-hungry, when a quality flag was raised or a quality score fell below its floor
(``semtrace.quality.{signal}``), or when its trace id falls in the base rate.
The base rate picks trace ids exactly as ``TraceIdRatioBased`` does, so every process
of a deployment keeps the same healthy traces.

Bounds, all in :class:`Limits`; going over one is never an error, it decides a trace
early, on the spans it has so far:

* ``max_traces`` held: a new trace first decides the *oldest* held trace.
* ``max_spans_per_trace``: the trace that reaches it is decided at once.
* ``max_total_spans`` held across traces: the oldest traces are decided until under.
* ``decision_wait_s``: a trace whose local root has not ended this long after its
  first span ended is decided (checked on every ``on_end`` and by a background
  sweeper every ``sweep_interval_s``).

A decided trace's id is remembered (the last ``Limits.max_decided`` of them), so spans
that end after the decision (children outliving their root, the rest of a trace decided
early) follow it: a trace is exported whole or not at all. A decision is final: what
ends later cannot overturn it. ``force_flush`` and ``shutdown`` decide everything held,
then delegate.

Example:
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    ...     InMemorySpanExporter,
    ... )
    >>> from semtrace.sampling import Policy, TailSamplingProcessor
    >>> exporter = InMemorySpanExporter()
    >>> sampler = TailSamplingProcessor(SimpleSpanProcessor(exporter), Policy(base_rate=0.0))
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(sampler)
    >>> with provider.get_tracer("demo").start_as_current_span("healthy"):
    ...     pass
    >>> len(exporter.get_finished_spans()), sampler.stats.dropped
    (0, 1)
    >>> provider.shutdown()
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

from opentelemetry import metrics
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import StatusCode

from semtrace import _worker as worker
from semtrace import semconv
from semtrace.export.processors import WrappingProcessor, is_local_root
from semtrace.quality import diagnosis
from semtrace.quality.signals import FLAGS, SCORES
from semtrace.safety import record_fault
from semtrace.version import __version__

# --- Values of those attributes ---
DECISION_KEPT: Final = "kept"
DECISION_DROPPED: Final = "dropped"
REASON_ERROR: Final = "error"
REASON_SLOW: Final = "slow"
REASON_COST: Final = "cost"
REASON_TOKENS: Final = "tokens"
REASON_BASE_RATE: Final = "base_rate"
#: ``diagnosis:{semtrace.diagnosis}`` for traces kept by ``Policy.keep_diagnoses``.
REASON_DIAGNOSIS_PREFIX: Final = "diagnosis:"
#: Kept because judging the trace raised: a trace is never lost to a sampler bug.
REASON_FAULT: Final = "fault"
# Quality reasons are the signal names themselves (``groundedness``, ``non_answer``, …).
TRIGGER_ROOT_END: Final = "root_end"
TRIGGER_TIMEOUT: Final = "timeout"
TRIGGER_LIMIT: Final = "limit"
TRIGGER_FLUSH: Final = "flush"


_NS: Final = 1e9


class Decision(NamedTuple):
    """A verdict on one trace: keep it or not, and the rule that decided."""

    keep: bool
    reason: str


@dataclass(frozen=True)
class Policy:
    """Which traces to keep; ``None`` switches a rule off.

    A trace is kept when any rule matches. Its reason is the first rule that matches, in
    the order of the attributes below; a trace no rule matches is kept or dropped by
    ``base_rate`` (reason ``base_rate`` either way).

    Attributes:
        keep_errors: Keep a trace when any span's status is ``ERROR``. Default ``True``.
        max_duration_s: Keep a trace that lasted longer than this many seconds, from the
            earliest start to the latest end among its spans (the local root's duration
            once it ended). Default 30.
        max_cost: Keep a trace whose summed ``semtrace.usage.cost.amount`` exceeds this.
            Amounts are summed whatever their currency. Default ``None``: a cost
            threshold only means something in your currency.
        max_tokens: Keep a trace whose summed ``gen_ai.usage.input_tokens`` and
            ``gen_ai.usage.output_tokens`` exceed this. Default 100 000.
        keep_flags: Keep a trace where any of these flags is raised on any span. Default
            all four: ``empty_retrieval``, ``non_answer``, ``truncated``,
            ``empty_output``. Stored as a frozenset.
        min_groundedness: Keep a trace where any span's groundedness is below this.
            Default 0.3, the :class:`~semtrace.quality.signals.Thresholds` default, so a
            ``fail`` verdict means kept (``uncertain`` ones go to ``base_rate``; set 0.5
            to keep them too).
        min_retrieval_relevance: The same for retrieval relevance. Default 0.25.
        min_answer_relevance: The same for answer relevance. Default ``None``: answer
            relevance never fails by default (its verdict is ``pass`` or ``uncertain``).
        keep_diagnoses: Keep a trace whose root carries one of these ``semtrace.diagnosis``
            values (reason ``diagnosis:{value}``). Default: every diagnosis, so the
            failures the newer checks find (loops, leaks, invalid output) are kept too.
            Checked after every other rule. Stored as a frozenset.
        base_rate: The fraction of the other traces kept, in [0, 1]: those whose trace
            id's low 64 bits are below ``base_rate * 2**64``, as ``TraceIdRatioBased``
            decides, so every process agrees. Default 0.1.

    Raises:
        ValueError: A threshold is out of range or of the wrong type, or a flag is unknown.
    """

    keep_errors: bool = True
    max_duration_s: float | None = 30.0
    max_cost: float | None = None
    max_tokens: int | None = 100_000
    keep_flags: AbstractSet[str] = frozenset(FLAGS)
    min_groundedness: float | None = 0.3
    min_retrieval_relevance: float | None = 0.25
    min_answer_relevance: float | None = None
    keep_diagnoses: AbstractSet[str] = frozenset(diagnosis.PRECEDENCE)
    base_rate: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.keep_errors, bool):
            raise ValueError(f"keep_errors must be a bool, not {self.keep_errors!r}")
        _check_above("max_duration_s", self.max_duration_s, strict=True)
        _check_above("max_cost", self.max_cost, strict=False)
        _check_above("max_tokens", self.max_tokens, strict=False)
        for name in ("min_groundedness", "min_retrieval_relevance", "min_answer_relevance"):
            _check_unit(name, getattr(self, name), optional=True)
        _check_unit("base_rate", self.base_rate, optional=False)
        object.__setattr__(self, "keep_flags", _flag_set(self.keep_flags))
        object.__setattr__(self, "keep_diagnoses", _diagnosis_set(self.keep_diagnoses))

    def floors(self) -> tuple[tuple[str, float], ...]:
        """The enabled score floors as ``(signal, threshold)``, in checking order."""
        return self._floors

    def in_base_rate(self, trace_id: int) -> bool:
        """Whether ``trace_id`` is in the base rate (the ``TraceIdRatioBased`` rule)."""
        return (trace_id & TraceIdRatioBased.TRACE_ID_LIMIT) < self._bound

    def decide(self, spans: Sequence[ReadableSpan]) -> Decision:
        """Keep or drop the trace these spans (at least one, of one trace) belong to."""
        if not spans:
            raise ValueError("a decision needs at least one span")
        reason = self._matching_rule(_Facts.of(spans))
        if reason is not None:
            return Decision(True, reason)
        if self.in_base_rate(spans[0].context.trace_id):
            return _KEPT_BY_BASE_RATE
        return _DROPPED_BY_BASE_RATE

    def _matching_rule(self, facts: _Facts) -> str | None:
        """The first rule that keeps a trace with these facts, if any."""
        if self.keep_errors and facts.error:
            return REASON_ERROR
        if self.max_duration_s is not None and facts.duration_s > self.max_duration_s:
            return REASON_SLOW
        if self.max_cost is not None and facts.cost > self.max_cost:
            return REASON_COST
        if self.max_tokens is not None and facts.tokens > self.max_tokens:
            return REASON_TOKENS
        if facts.raised:
            for name in self._flags:
                if name in facts.raised:
                    return name
        if facts.lowest:
            for name, floor in self._floors:
                lowest = facts.lowest.get(name)
                if lowest is not None and lowest < floor:
                    return name
        if facts.diagnosis is not None and facts.diagnosis in self.keep_diagnoses:
            return REASON_DIAGNOSIS_PREFIX + facts.diagnosis
        return None

    # Derived once (a frozen dataclass's cached_property writes to the instance dict).
    @functools.cached_property
    def _floors(self) -> tuple[tuple[str, float], ...]:
        values = (self.min_groundedness, self.min_retrieval_relevance, self.min_answer_relevance)
        return tuple((name, v) for name, v in zip(SCORES, values, strict=True) if v is not None)

    @functools.cached_property
    def _flags(self) -> tuple[str, ...]:
        return tuple(f for f in FLAGS if f in self.keep_flags)

    @functools.cached_property
    def _bound(self) -> int:
        return TraceIdRatioBased.get_bound_for_rate(self.base_rate)


_KEPT_BY_BASE_RATE: Final = Decision(True, REASON_BASE_RATE)
_DROPPED_BY_BASE_RATE: Final = Decision(False, REASON_BASE_RATE)


@dataclass(frozen=True)
class Limits:
    """How much a :class:`TailSamplingProcessor` may hold, and for how long.

    Attributes:
        max_traces: Traces held at once; a new one first decides the oldest. Default 1000.
        max_spans_per_trace: Spans held for one trace; reaching it decides the trace.
            Default 1000.
        max_total_spans: Spans held across all traces; going over decides the oldest
            traces. At least ``max_spans_per_trace``. Default 50 000.
        decision_wait_s: Seconds after a trace's first span ended before it is decided
            even though its local root has not ended. Default 30.
        max_decided: Trace ids whose decision is remembered so that late spans follow
            it. Default 10 000. Size it above the traces decided during your longest
            trace's lifetime: a span whose trace id was forgotten starts a new group.

    Raises:
        ValueError: A limit is not a positive number, or the span limits disagree.
    """

    max_traces: int = 1_000
    max_spans_per_trace: int = 1_000
    max_total_spans: int = 50_000
    decision_wait_s: float = 30.0
    max_decided: int = 10_000

    def __post_init__(self) -> None:
        for name in ("max_traces", "max_spans_per_trace", "max_total_spans", "max_decided"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        _check_above("decision_wait_s", self.decision_wait_s, strict=True, finite=True)
        if self.max_spans_per_trace > self.max_total_spans:
            raise ValueError(
                f"max_spans_per_trace ({self.max_spans_per_trace}) must not exceed "
                f"max_total_spans ({self.max_total_spans})"
            )


@dataclass(frozen=True)
class SamplingStats:
    """A snapshot of a :class:`TailSamplingProcessor`'s counters.

    Attributes:
        kept: Traces kept, by reason (``error``, ``slow``, ``groundedness``, …).
        dropped: Traces dropped (always by the base rate).
        timed_out: Traces decided because ``decision_wait_s`` passed.
        evicted: Traces decided early because a :class:`Limits` memory bound was hit.
        flushed: Traces decided early by ``force_flush`` or ``shutdown``.
        late_spans_kept: Spans that ended after their trace was kept; forwarded.
        late_spans_dropped: Spans that ended after their trace was dropped.
        faults: Exceptions caught in the processor or the downstream processor.
        held_traces: Traces held now.
        held_spans: Spans held now.
        max_held_traces: The most traces held at once so far.
        max_held_spans: The most spans held at once so far.
    """

    kept: Mapping[str, int]
    dropped: int
    timed_out: int
    evicted: int
    flushed: int
    late_spans_kept: int
    late_spans_dropped: int
    faults: int
    held_traces: int
    held_spans: int
    max_held_traces: int
    max_held_spans: int

    @property
    def kept_total(self) -> int:
        """Traces kept, all reasons."""
        return sum(self.kept.values())

    @property
    def decided(self) -> int:
        """Traces decided, kept or dropped."""
        return self.kept_total + self.dropped


class TailSamplingProcessor(WrappingProcessor):
    """A span processor that forwards whole traces worth keeping to another processor.

    See the module documentation for what is kept and how memory and time are bounded.
    It is thread-safe, and ``on_start``/``on_end`` never raise: a fault is counted in
    :attr:`stats` (and in :func:`semtrace.fault_count`), and a trace that could not be
    judged is kept.

    Args:
        downstream: The processor that receives kept spans (``on_start`` of every span at
            once, ``on_end`` of kept traces' spans), and ``force_flush``/``shutdown``.
        policy: What to keep; :class:`Policy` defaults when ``None``.
        limits: Memory and time bounds; :class:`Limits` defaults when ``None``.
        meter_provider: When given, decisions are counted on the counter
            ``semtrace.sampling.traces`` with the attributes
            ``semtrace.sampling.decision`` (``kept``/``dropped``),
            ``semtrace.sampling.reason`` and ``semtrace.sampling.trigger``
            (``root_end``, ``timeout``, ``limit``, ``flush``).
        clock: Monotonic seconds, for ``decision_wait_s``; tests pass a fake one.
        sweep_interval_s: How often a background thread decides timed-out traces; ``None``
            for no thread (they are then decided on the next ``on_end``, ``sweep`` or
            flush).

    Raises:
        TypeError: ``downstream`` is not a span processor.
        ValueError: ``sweep_interval_s`` is not a positive number.
    """

    def __init__(
        self,
        downstream: SpanProcessor,
        policy: Policy | None = None,
        limits: Limits | None = None,
        *,
        meter_provider: MeterProvider | None = None,
        clock: Callable[[], float] = time.monotonic,
        sweep_interval_s: float | None = 1.0,
    ) -> None:
        if not callable(getattr(downstream, "on_end", None)):
            raise TypeError(f"downstream must be a SpanProcessor, not {downstream!r}")
        _check_above("sweep_interval_s", sweep_interval_s, strict=True, finite=True)
        super().__init__(downstream)
        self.downstream = downstream
        self.policy = policy if policy is not None else Policy()
        self.limits = limits if limits is not None else Limits()
        self._clock = clock
        self._lock = threading.Lock()
        self._held: OrderedDict[int, _Held] = OrderedDict()
        self._held_spans = 0
        self._decided: OrderedDict[int, bool] = OrderedDict()
        self._tally = _Tally()
        self._closed = False
        self._counter = _traces_counter(meter_provider)
        self._sweep_interval_s = sweep_interval_s
        self._stop = threading.Event()
        self._start_sweeper()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_weak_call(self._after_fork))

    # --- SpanProcessor ---

    def _on_end(self, span: ReadableSpan) -> None:
        """Hold the span, or decide its trace and forward the spans of a kept one."""
        try:
            with self._lock:
                batch = self._admit(span)
        except Exception:
            self._fault("on_end")
            return
        self._deliver(batch)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Decide every held trace now, forward the kept ones, and flush downstream."""
        worker.drain(timeout_millis / 1000)  # spans semtrace's worker has still to end
        self._decide_all()
        return super().force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Decide every held trace, stop the sweeper and shut the downstream down.

        Spans that end afterwards are dropped, as the SDK's processors drop them.
        """
        worker.drain(worker.EXIT_WAIT_S)  # spans semtrace's worker has still to end
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._decide_all()
        self._stop.set()
        super().shutdown()

    # --- public extras ---

    @property
    def stats(self) -> SamplingStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            t = self._tally
            return SamplingStats(
                kept=MappingProxyType(dict(t.kept)),
                dropped=t.dropped,
                timed_out=t.timed_out,
                evicted=t.evicted,
                flushed=t.flushed,
                late_spans_kept=t.late_spans_kept,
                late_spans_dropped=t.late_spans_dropped,
                faults=t.faults,
                held_traces=len(self._held),
                held_spans=self._held_spans,
                max_held_traces=t.max_held_traces,
                max_held_spans=t.max_held_spans,
            )

    def sweep(self) -> int:
        """Decide every trace held longer than ``decision_wait_s``; return how many."""
        try:
            with self._lock:
                batch = _Batch()
                self._expire(self._clock(), batch)
        except Exception:
            self._fault("sweep")
            return 0
        self._deliver(batch)
        return len(batch.decisions)

    # --- under the lock ---

    def _admit(self, span: ReadableSpan) -> _Batch:
        batch = _Batch()
        if self._closed:
            return batch
        now = self._clock()
        self._expire(now, batch)
        trace_id = span.context.trace_id
        kept = self._decided.get(trace_id)
        if kept is not None:
            self._late(span, kept, batch)
            return batch
        root = is_local_root(span)
        held = self._held.get(trace_id)
        if held is None and root:  # a trace of one span, or the last of its spans
            self._decide(trace_id, [span], TRIGGER_ROOT_END, batch)
            return batch
        if held is None:
            held = self._hold(trace_id, now, batch)
        held.spans.append(span)
        self._held_spans += 1
        if root:
            self._release(trace_id, TRIGGER_ROOT_END, batch)
        elif len(held.spans) >= self.limits.max_spans_per_trace:
            self._release(trace_id, TRIGGER_LIMIT, batch)
        self._enforce_span_budget(batch)
        self._tally.high_water(len(self._held), self._held_spans)
        return batch

    def _hold(self, trace_id: int, now: float, batch: _Batch) -> _Held:
        while len(self._held) >= self.limits.max_traces:
            self._release(next(iter(self._held)), TRIGGER_LIMIT, batch)
        held = self._held[trace_id] = _Held(now)
        return held

    def _enforce_span_budget(self, batch: _Batch) -> None:
        while self._held_spans > self.limits.max_total_spans:
            self._release(next(iter(self._held)), TRIGGER_LIMIT, batch)

    def _expire(self, now: float, batch: _Batch) -> None:
        deadline = now - self.limits.decision_wait_s
        while self._held:
            trace_id, held = next(iter(self._held.items()))
            if held.since > deadline:
                return
            self._release(trace_id, TRIGGER_TIMEOUT, batch)

    def _release(self, trace_id: int, trigger: str, batch: _Batch) -> None:
        held = self._held.pop(trace_id)
        self._held_spans -= len(held.spans)
        self._decide(trace_id, held.spans, trigger, batch)

    def _decide(
        self, trace_id: int, spans: list[ReadableSpan], trigger: str, batch: _Batch
    ) -> None:
        try:
            decision = self.policy.decide(spans)
        except Exception:
            record_fault("TailSamplingProcessor.decide")
            self._tally.faults += 1
            decision = Decision(True, REASON_FAULT)
        self._decided[trace_id] = decision.keep
        if len(self._decided) > self.limits.max_decided:
            self._decided.popitem(last=False)
        self._tally.count(decision, trigger)
        if decision.keep:
            batch.spans.extend(spans)
        batch.decisions.append((decision, trigger))

    def _late(self, span: ReadableSpan, kept: bool, batch: _Batch) -> None:
        if kept:
            self._tally.late_spans_kept += 1
            batch.spans.append(span)
        else:
            self._tally.late_spans_dropped += 1

    # --- outside the lock ---

    def _decide_all(self) -> None:
        try:
            with self._lock:
                batch = _Batch()
                while self._held:
                    self._release(next(iter(self._held)), TRIGGER_FLUSH, batch)
        except Exception:
            self._fault("flush")
            return
        self._deliver(batch)

    def _deliver(self, batch: _Batch) -> None:
        for span in batch.spans:
            self._forward_end(span)
        if self._counter is None:
            return
        for decision, trigger in batch.decisions:
            try:
                self._counter.add(1, _metric_attributes(decision.keep, decision.reason, trigger))
            except Exception:
                self._fault("metrics")

    def _fault(self, site: str) -> None:
        super()._fault(site)
        with self._lock:
            self._tally.faults += 1

    def _start_sweeper(self) -> None:
        if self._sweep_interval_s is None:
            return
        thread = threading.Thread(
            target=_sweep_forever,
            args=(weakref.ref(self), self._stop, self._sweep_interval_s),
            name="semtrace-tail-sampling",
            daemon=True,
        )
        thread.start()

    def _after_fork(self) -> None:
        """In a forked child: the parent decides what it held; start afresh."""
        self._lock = threading.Lock()
        self._held.clear()
        self._held_spans = 0
        self._decided.clear()
        self._stop = threading.Event()
        if not self._closed:
            self._start_sweeper()


# --- helpers ---


class _Facts:
    """What the policy looks at, gathered in one pass over a trace's spans."""

    __slots__ = ("cost", "diagnosis", "end_ns", "error", "lowest", "raised", "start_ns", "tokens")

    def __init__(self) -> None:
        self.error = False
        self.start_ns: int | None = None
        self.end_ns: int | None = None
        self.cost = 0.0
        self.tokens = 0.0
        self.lowest: dict[str, float] = {}
        self.raised: set[str] = set()
        self.diagnosis: str | None = None

    @classmethod
    def of(cls, spans: Iterable[ReadableSpan]) -> _Facts:
        facts = cls()
        for span in spans:
            facts.add(span)
        return facts

    @property
    def duration_s(self) -> float:
        if self.start_ns is None or self.end_ns is None:
            return 0.0
        return (self.end_ns - self.start_ns) / _NS

    def add(self, span: ReadableSpan) -> None:
        if span.status.status_code is StatusCode.ERROR:
            self.error = True
        start, end = span.start_time, span.end_time
        if start is not None and (self.start_ns is None or start < self.start_ns):
            self.start_ns = start
        if end is not None and (self.end_ns is None or end > self.end_ns):
            self.end_ns = end
        attrs = span.attributes  # a new read-only view on every access
        if attrs:
            self._add_attributes(attrs)

    def _add_attributes(self, attrs: Mapping[str, object]) -> None:
        # Walk the span's keys once: ``Mapping.get`` of an absent key raises inside.
        for key in attrs:
            watched = _WATCHED.get(key)
            if watched is not None:
                self._note(watched[0], watched[1], attrs[key])

    def _note(self, kind: str, name: str, value: object) -> None:
        if kind == _DIAGNOSIS:
            self.diagnosis = str(value)
            return
        if kind == _FLAG:
            if value is True or (value is not False and _raised(value)):
                self.raised.add(name)
            return
        number = _number(value)
        if number is None:
            return
        if kind == _SCORE:
            self.lowest[name] = min(number, self.lowest.get(name, math.inf))
        elif kind == _COST:
            self.cost += number
        else:
            self.tokens += number


_SCORE, _FLAG, _COST, _TOKENS, _DIAGNOSIS = "score", "flag", "cost", "tokens", "diagnosis"
#: Attribute key -> (kind, signal name) for the attributes a policy reads.
_WATCHED: Final[dict[str, tuple[str, str]]] = {
    **{semconv.SEMTRACE_QUALITY_PREFIX + n: (_SCORE, n) for n in SCORES},
    **{semconv.SEMTRACE_QUALITY_PREFIX + n: (_FLAG, n) for n in FLAGS},
    semconv.SEMTRACE_USAGE_COST_AMOUNT: (_COST, ""),
    semconv.GEN_AI_USAGE_INPUT_TOKENS: (_TOKENS, ""),
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: (_TOKENS, ""),
    semconv.SEMTRACE_DIAGNOSIS: (_DIAGNOSIS, ""),
}


class _Held:
    """One trace's spans, and when its first span arrived."""

    __slots__ = ("since", "spans")

    def __init__(self, since: float) -> None:
        self.since = since
        self.spans: list[ReadableSpan] = []


class _Batch:
    """What one call decided: spans to forward and decisions to count."""

    __slots__ = ("decisions", "spans")

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []
        self.decisions: list[tuple[Decision, str]] = []


@dataclass
class _Tally:
    kept: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    timed_out: int = 0
    evicted: int = 0
    flushed: int = 0
    late_spans_kept: int = 0
    late_spans_dropped: int = 0
    faults: int = 0
    max_held_traces: int = 0
    max_held_spans: int = 0

    def count(self, decision: Decision, trigger: str) -> None:
        if decision.keep:
            self.kept[decision.reason] += 1
        else:
            self.dropped += 1
        if trigger == TRIGGER_TIMEOUT:
            self.timed_out += 1
        elif trigger == TRIGGER_LIMIT:
            self.evicted += 1
        elif trigger == TRIGGER_FLUSH:
            self.flushed += 1

    def high_water(self, traces: int, spans: int) -> None:
        self.max_held_traces = max(self.max_held_traces, traces)
        self.max_held_spans = max(self.max_held_spans, spans)


def _number(value: object) -> float | None:
    """A finite int or float attribute value (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _raised(value: object) -> bool:
    """A flag is raised when its attribute is ``True`` (or, from others, a number >= 0.5)."""
    if value is True:
        return True
    number = _number(value)
    return number is not None and number >= 0.5


def _check_unit(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    number = _number(value)
    if number is None or not 0.0 <= number <= 1.0:
        allowed = "a number in [0, 1]" + (" or None" if optional else "")
        raise ValueError(f"{name} must be {allowed}, not {value!r}")


def _check_above(name: str, value: object, *, strict: bool, finite: bool = False) -> None:
    """``None``, or a number > 0 (``strict``) or >= 0; finite when ``finite``."""
    if value is None:
        return
    number = _number(value) if finite else _number_or_inf(value)
    if number is None or number < 0 or (strict and number == 0):
        bound = "> 0" if strict else ">= 0"
        kind = "a finite number" if finite else "a number"
        raise ValueError(f"{name} must be {kind} {bound} or None, not {value!r}")


def _number_or_inf(value: object) -> float | None:
    if isinstance(value, float) and value == math.inf:
        return value
    return _number(value)


def _flag_set(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"keep_flags must be a set of flag names, not {value!r}")
    flags = frozenset(value)
    unknown = sorted(str(f) for f in flags - set(FLAGS))
    if unknown:
        raise ValueError(f"unknown flags in keep_flags: {unknown}; known: {sorted(FLAGS)}")
    return flags


def _diagnosis_set(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, AbstractSet | list | tuple):
        raise ValueError(f"keep_diagnoses must be a set of diagnoses, not {value!r}")
    unknown = set(value) - set(diagnosis.PRECEDENCE)
    if unknown:
        raise ValueError(f"unknown diagnoses {sorted(unknown)}; known: {diagnosis.PRECEDENCE}")
    return frozenset(value)


def _traces_counter(meter_provider: MeterProvider | None) -> metrics.Counter | None:
    if meter_provider is None:
        return None
    meter = metrics.get_meter("semtrace", __version__, meter_provider)
    return meter.create_counter(
        semconv.METRIC_SAMPLING_TRACES,
        unit="{trace}",
        description="Traces decided by semtrace's tail sampler, by decision, reason, trigger.",
    )


@functools.lru_cache(maxsize=256)
def _metric_attributes(keep: bool, reason: str, trigger: str) -> Mapping[str, str]:
    return MappingProxyType(
        {
            semconv.SEMTRACE_SAMPLING_DECISION: DECISION_KEPT if keep else DECISION_DROPPED,
            semconv.SEMTRACE_SAMPLING_REASON: reason,
            semconv.SEMTRACE_SAMPLING_TRIGGER: trigger,
        }
    )


def _sweep_forever(
    ref: weakref.ref[TailSamplingProcessor], stop: threading.Event, interval_s: float
) -> None:
    """Sweep until stopped or until the processor is garbage."""
    while not stop.wait(interval_s):
        processor = ref()
        if processor is None:
            return
        processor.sweep()
        del processor


def _weak_call(method: Callable[[], None]) -> Callable[[], None]:
    ref = weakref.WeakMethod(method)

    def call() -> None:
        bound = ref()
        if bound is not None:
            bound()

    return call
