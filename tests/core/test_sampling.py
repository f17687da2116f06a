"""TailSamplingProcessor on the real SDK: what it keeps, all-or-none, bounds, threads, counters."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import Status, StatusCode
from semtrace import Thresholds, fault_count, semconv
from semtrace.export.sampling import (
    Decision,
    Limits,
    Policy,
    TailSamplingProcessor,
)

Q = semconv.SEMTRACE_QUALITY_PREFIX
SECOND = 1_000_000_000


class Setup:
    """A provider whose only processor is the sampler, wrapping Simple(InMemory)."""

    def __init__(
        self,
        policy: Policy | None = None,
        limits: Limits | None = None,
        *,
        ids: IdGenerator | None = None,
        **kwargs: Any,
    ) -> None:
        self.exporter = InMemorySpanExporter()
        self.sampler = TailSamplingProcessor(
            SimpleSpanProcessor(self.exporter),
            policy or Policy(base_rate=0.0),
            limits,
            sweep_interval_s=kwargs.pop("sweep_interval_s", None),
            **kwargs,
        )
        self.provider = TracerProvider(id_generator=ids) if ids else TracerProvider()
        self.provider.add_span_processor(self.sampler)
        self.tracer = self.provider.get_tracer("test")

    def exported(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def exported_traces(self) -> Counter[int]:
        return Counter(s.context.trace_id for s in self.exported())

    def run(self, child_attrs: Mapping[str, Any] | None = None, *, error: bool = False) -> int:
        """A trace root -> retrieve, root -> llm -> tool; attributes and error on llm."""
        with self.tracer.start_as_current_span("root") as root:
            with self.tracer.start_as_current_span("retrieve"):
                pass
            with self.tracer.start_as_current_span("llm") as llm:
                with self.tracer.start_as_current_span("tool"):
                    pass
                llm.set_attributes(dict(child_attrs or {}))
                if error:
                    llm.set_status(Status(StatusCode.ERROR, "boom"))
            return root.get_span_context().trace_id

    def open_trace(self, child_attrs: Mapping[str, Any] | None = None) -> Span:
        """A trace whose root has not ended; one child has."""
        root = self.tracer.start_span("root")
        ctx = trace.set_span_in_context(root)
        child = self.tracer.start_span("child", context=ctx, attributes=dict(child_attrs or {}))
        child.end()
        assert isinstance(root, Span)
        return root


@pytest.fixture
def setup() -> Iterator[Setup]:
    s = Setup()
    yield s
    s.provider.shutdown()


SPANS_PER_TRACE = 4


# --- what is kept ---


def test_error_trace_is_kept_whole(setup: Setup) -> None:
    tid = setup.run(error=True)
    assert setup.exported_traces() == {tid: SPANS_PER_TRACE}
    assert setup.sampler.stats.kept == {"error": 1}


def test_healthy_trace_is_dropped_at_base_rate_zero(setup: Setup) -> None:
    setup.run({Q + "groundedness": 0.9, Q + "non_answer": False})
    assert setup.exported() == []
    assert setup.sampler.stats.dropped == 1


def test_healthy_trace_is_kept_at_base_rate_one() -> None:
    s = Setup(Policy(base_rate=1.0))
    tid = s.run()
    assert s.exported_traces() == {tid: SPANS_PER_TRACE}
    assert s.sampler.stats.kept == {"base_rate": 1}


def test_low_groundedness_is_kept(setup: Setup) -> None:
    setup.run({Q + "groundedness": 0.2, Q + "groundedness.label": "fail"})
    setup.run({Q + "groundedness": 0.3})  # at the floor: not a fail
    assert len(setup.exported_traces()) == 1
    assert setup.sampler.stats.kept == {"groundedness": 1}


def test_low_retrieval_relevance_is_kept(setup: Setup) -> None:
    setup.run({Q + "retrieval_relevance": 0.24})
    assert setup.sampler.stats.kept == {"retrieval_relevance": 1}


def test_an_uncertain_verdict_is_left_to_the_base_rate(setup: Setup) -> None:
    setup.run({Q + "groundedness": 0.4, Q + "retrieval_relevance": 0.4})
    setup.run({Q + "answer_relevance": 0.05})  # answer relevance never fails by default
    assert setup.exported() == []
    assert setup.sampler.stats.dropped == 2


def test_an_answer_relevance_floor_keeps_low_scores_when_set() -> None:
    s = Setup(Policy(min_answer_relevance=0.3, base_rate=0.0))
    s.run({Q + "answer_relevance": 0.29})
    assert s.sampler.stats.kept == {"answer_relevance": 1}


def test_raised_non_answer_is_kept(setup: Setup) -> None:
    tid = setup.run({Q + "non_answer": True, Q + "non_answer.label": "fail"})
    setup.run({Q + "non_answer": False})
    assert setup.exported_traces() == {tid: SPANS_PER_TRACE}
    assert setup.sampler.stats.kept == {"non_answer": 1}


def test_only_configured_flags_keep_a_trace() -> None:
    s = Setup(Policy(base_rate=0.0, keep_flags={"empty_retrieval"}))
    s.run({Q + "truncated": True})
    s.run({Q + "empty_retrieval": True})
    assert s.sampler.stats.kept == {"empty_retrieval": 1}
    assert s.sampler.stats.dropped == 1


def test_slow_trace_is_kept() -> None:
    s = Setup(Policy(base_rate=0.0, max_duration_s=1.0))
    t0 = time.time_ns()
    for seconds in (2, 0.5):
        root = s.tracer.start_span("root", start_time=t0)
        child = s.tracer.start_span("child", context=trace.set_span_in_context(root), start_time=t0)
        child.end(end_time=t0 + int(seconds * SECOND) // 2)
        root.end(end_time=t0 + int(seconds * SECOND))
    assert len(s.exported()) == 2
    assert s.sampler.stats.kept == {"slow": 1}


def test_cost_summed_over_the_trace_is_kept() -> None:
    s = Setup(Policy(base_rate=0.0, max_cost=0.5))
    s.run({semconv.SEMTRACE_USAGE_COST_AMOUNT: 0.3})  # one costed span: 0.3
    with s.tracer.start_as_current_span("root"):
        for _ in range(2):  # two spans of 0.3: 0.6 > 0.5
            with s.tracer.start_as_current_span(
                "llm", attributes={semconv.SEMTRACE_USAGE_COST_AMOUNT: 0.3}
            ):
                pass
    assert s.sampler.stats.kept == {"cost": 1}
    assert s.sampler.stats.dropped == 1


def test_tokens_summed_over_the_trace_are_kept() -> None:
    s = Setup(Policy(base_rate=0.0, max_tokens=1000))
    s.run({semconv.GEN_AI_USAGE_INPUT_TOKENS: 600, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 300})
    s.run({semconv.GEN_AI_USAGE_INPUT_TOKENS: 900, semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 200})
    assert s.sampler.stats.kept == {"tokens": 1}


def test_first_matching_rule_is_the_reason(setup: Setup) -> None:
    setup.run({Q + "groundedness": 0.1, Q + "non_answer": True}, error=True)
    assert setup.sampler.stats.kept == {"error": 1}


def test_a_flag_is_a_more_specific_reason_than_a_score(setup: Setup) -> None:
    setup.run({Q + "empty_retrieval": True, Q + "retrieval_relevance": 0.0})
    assert setup.sampler.stats.kept == {"empty_retrieval": 1}


def test_disabled_rules_keep_nothing() -> None:
    off = Policy(
        keep_errors=False,
        max_duration_s=None,
        max_tokens=None,
        min_groundedness=None,
        min_retrieval_relevance=None,
        min_answer_relevance=None,
        keep_flags=frozenset(),
        base_rate=0.0,
    )
    s = Setup(off)
    s.run({Q + "groundedness": 0.0, Q + "non_answer": True}, error=True)
    assert s.exported() == []


# --- base rate ---


def test_base_rate_agrees_with_trace_id_ratio_based() -> None:
    rng = random.Random(7)
    policy, head = Policy(base_rate=0.3), TraceIdRatioBased(0.3)
    ids = [rng.getrandbits(128) for _ in range(5000)]
    ours = [policy.in_base_rate(t) for t in ids]
    theirs = [head.should_sample(None, t, "x").decision.is_sampled() for t in ids]  # type: ignore[no-untyped-call]
    assert ours == theirs
    assert 0.27 < sum(ours) / len(ours) < 0.33


class FixedIds(IdGenerator):
    """The same trace ids in every process."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def generate_trace_id(self) -> int:
        with self._lock:
            return self._rng.getrandbits(128)

    def generate_span_id(self) -> int:
        with self._lock:
            return self._rng.getrandbits(64) or 1


def test_base_rate_is_deterministic_by_trace_id() -> None:
    # Two processes (two providers and samplers) see the same trace ids: they agree.
    kept = []
    for _ in range(2):
        s = Setup(Policy(base_rate=0.5), ids=FixedIds(seed=3))
        for _ in range(200):
            s.run()
        kept.append(set(s.exported_traces()))
    assert kept[0] == kept[1]
    assert 60 < len(kept[0]) < 140


# --- all or none ---


def test_a_trace_is_all_or_none(setup: Setup) -> None:
    rng = random.Random(1)
    sizes = {}
    for _ in range(300):
        attrs = {Q + "groundedness": rng.random()}
        sizes[setup.run(attrs, error=rng.random() < 0.1)] = SPANS_PER_TRACE
    exported = setup.exported_traces()
    assert exported, "some traces are kept"
    assert all(exported[t] == sizes[t] for t in exported)


def test_late_span_follows_a_keep_decision(setup: Setup) -> None:
    root = setup.tracer.start_span("root")
    late = setup.tracer.start_span("late", context=trace.set_span_in_context(root))
    root.set_status(Status(StatusCode.ERROR))
    root.end()
    late.end()  # ends after its root: forwarded to complete the kept trace
    assert [s.name for s in setup.exported()] == ["root", "late"]
    assert setup.sampler.stats.late_spans_kept == 1


def test_late_span_follows_a_drop_decision(setup: Setup) -> None:
    root = setup.tracer.start_span("root")
    late = setup.tracer.start_span("late", context=trace.set_span_in_context(root))
    root.end()
    late.set_status(Status(StatusCode.ERROR))  # too late: the trace was dropped whole
    late.end()
    assert setup.exported() == []
    assert setup.sampler.stats.late_spans_dropped == 1


def test_a_remote_parent_makes_a_local_root(setup: Setup) -> None:
    remote = trace.SpanContext(
        trace_id=0xABC, span_id=0xDEF, is_remote=True, trace_flags=trace.TraceFlags(1)
    )
    ctx = trace.set_span_in_context(trace.NonRecordingSpan(remote))
    with setup.tracer.start_as_current_span("server", context=ctx) as server:
        with setup.tracer.start_as_current_span("llm", attributes={Q + "empty_output": True}):
            pass
        assert setup.sampler.stats.held_traces == 1
    assert server.get_span_context().trace_id == 0xABC
    assert setup.sampler.stats.kept == {"empty_output": 1}
    assert len(setup.exported()) == 2


# --- bounds ---


def test_memory_bound_on_traces() -> None:
    s = Setup(Policy(base_rate=0.0), Limits(max_traces=100))
    for i in range(10_000):
        s.open_trace({Q + "non_answer": i % 2 == 0})
        assert s.sampler.stats.held_traces <= 100
    stats = s.sampler.stats
    assert stats.held_traces == 100
    assert stats.max_held_traces == 100
    assert stats.evicted == 9_900
    # Evicted traces are decided on what they have: half carried a raised flag.
    assert stats.kept == {"non_answer": 4_950}
    assert len(s.exported()) == 4_950


def test_memory_bound_on_spans_per_trace() -> None:
    s = Setup(Policy(base_rate=1.0), Limits(max_spans_per_trace=10, max_total_spans=100))
    with s.tracer.start_as_current_span("root"):
        for _ in range(25):
            with s.tracer.start_as_current_span("step"):
                pass
        assert s.sampler.stats.evicted == 1
        assert s.sampler.stats.held_spans == 0
    # Decided (kept) at 10 spans; the other 15 and the root follow the decision.
    assert len(s.exported()) == 26
    assert s.sampler.stats.late_spans_kept == 16


def test_memory_bound_on_total_spans() -> None:
    limits = Limits(max_traces=1000, max_spans_per_trace=50, max_total_spans=100)
    s = Setup(Policy(base_rate=0.0), limits)
    for _ in range(500):
        s.open_trace()
        assert s.sampler.stats.held_spans <= 100
    assert s.sampler.stats.evicted == 400
    assert s.sampler.stats.max_held_spans == 100


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_time_bound_decides_a_trace_whose_root_never_ends() -> None:
    clock = FakeClock()
    s = Setup(Policy(base_rate=0.0), Limits(decision_wait_s=5.0), clock=clock)
    s.open_trace({Q + "truncated": True})
    clock.now += 4.9
    assert s.sampler.sweep() == 0
    clock.now += 0.2
    assert s.sampler.sweep() == 1
    stats = s.sampler.stats
    assert (stats.timed_out, stats.held_traces, stats.kept) == (1, 0, {"truncated": 1})
    assert [x.name for x in s.exported()] == ["child"]


def test_time_bound_is_checked_on_every_span() -> None:
    clock = FakeClock()
    s = Setup(Policy(base_rate=0.0), Limits(decision_wait_s=5.0), clock=clock)
    s.open_trace()
    clock.now += 6
    s.run()  # any span ending decides what expired
    assert s.sampler.stats.timed_out == 1


def test_time_bound_by_the_background_sweeper() -> None:
    s = Setup(Policy(base_rate=1.0), Limits(decision_wait_s=0.05), sweep_interval_s=0.01)
    s.open_trace()
    deadline = time.monotonic() + 5
    while s.sampler.stats.timed_out == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.sampler.stats.timed_out == 1
    assert len(s.exported()) == 1
    s.provider.shutdown()


# --- threads ---


def test_concurrent_traces_are_kept_complete() -> None:
    s = Setup(Policy(base_rate=0.3), Limits(max_traces=10_000))
    expected: dict[int, int] = {}
    lock = threading.Lock()

    def produce(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(200):
            width = rng.randint(1, 6)
            with s.tracer.start_as_current_span("root") as root:
                for _ in range(width):
                    with s.tracer.start_as_current_span("step") as step:
                        if rng.random() < 0.1:
                            step.set_status(Status(StatusCode.ERROR))
            with lock:
                expected[root.get_span_context().trace_id] = width + 1

    threads = [threading.Thread(target=produce, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    exported = s.exported_traces()
    stats = s.sampler.stats
    assert all(exported[t] == expected[t] for t in exported)
    assert stats.kept_total == len(exported)
    assert stats.decided == len(expected) == 1600
    assert stats.held_traces == stats.held_spans == stats.faults == 0


# --- counters, flushing, robustness ---


def test_counters_and_metrics() -> None:
    reader = InMemoryMetricReader()
    meters = MeterProvider(metric_readers=[reader])
    s = Setup(Policy(base_rate=0.0), meter_provider=meters)
    s.run(error=True)
    s.run(error=True)
    s.run({Q + "groundedness": 0.1})
    s.run()
    s.open_trace()
    s.provider.force_flush()
    stats = s.sampler.stats
    assert stats.kept == {"error": 2, "groundedness": 1}
    assert (stats.dropped, stats.flushed, stats.decided, stats.kept_total) == (2, 1, 5, 3)
    points = {}
    data = reader.get_metrics_data()
    assert data is not None
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == semconv.METRIC_SAMPLING_TRACES:
                    for p in metric.data.data_points:
                        a = p.attributes or {}
                        key = (
                            a["semtrace.sampling.decision"],
                            a["semtrace.sampling.reason"],
                            a["semtrace.sampling.trigger"],
                        )
                        points[key] = p.value  # type: ignore[union-attr]
    assert points == {
        ("kept", "error", "root_end"): 2,
        ("kept", "groundedness", "root_end"): 1,
        ("dropped", "base_rate", "root_end"): 1,
        ("dropped", "base_rate", "flush"): 1,
    }
    meters.shutdown()


def test_shutdown_flushes_held_traces() -> None:
    s = Setup(Policy(base_rate=0.0))
    root = s.open_trace({Q + "groundedness": 0.0})
    s.open_trace()
    s.provider.shutdown()
    assert [x.name for x in s.exported()] == ["child"]
    stats = s.sampler.stats
    assert (stats.flushed, stats.held_traces, stats.kept_total, stats.dropped) == (2, 0, 1, 1)
    root.end()  # after shutdown: dropped quietly
    assert len(s.exported()) == 1


def test_force_flush_decides_and_delegates(setup: Setup) -> None:
    setup.open_trace({Q + "empty_output": True})
    assert setup.exported() == []
    assert setup.provider.force_flush()
    assert len(setup.exported()) == 1


class Recording(SpanProcessor):
    def __init__(self, *, fail: bool = False) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        self.fail = fail

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started.append(span.name)

    def on_end(self, span: ReadableSpan) -> None:
        if self.fail:
            raise RuntimeError("downstream broke")
        self.ended.append(span.name)


def test_on_start_is_passed_through_at_once() -> None:
    downstream = Recording()
    provider = TracerProvider()
    provider.add_span_processor(
        TailSamplingProcessor(downstream, Policy(base_rate=1.0), sweep_interval_s=None)
    )
    with provider.get_tracer("t").start_as_current_span("root"):
        with provider.get_tracer("t").start_as_current_span("child"):
            assert downstream.started == ["root", "child"]
        assert downstream.ended == []
    assert downstream.ended == ["child", "root"]


def test_never_raises_and_counts_faults() -> None:
    before = fault_count()
    sampler = TailSamplingProcessor(Recording(fail=True), Policy(base_rate=1.0))
    provider = TracerProvider()
    provider.add_span_processor(sampler)
    with provider.get_tracer("t").start_as_current_span("root"):
        pass
    assert sampler.stats.faults == 1
    assert fault_count() == before + 1
    provider.shutdown()


def test_a_trace_that_cannot_be_judged_is_kept() -> None:
    class Broken(Policy):
        def decide(self, spans: Any) -> Decision:
            raise RuntimeError("bug")

    s = Setup(Broken())
    s.run()
    assert s.sampler.stats.kept == {"fault": 1}
    assert len(s.exported()) == SPANS_PER_TRACE


# --- configuration ---


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_rate": 1.5},
        {"base_rate": -0.1},
        {"base_rate": float("nan")},
        {"base_rate": None},
        {"min_groundedness": 2},
        {"min_answer_relevance": True},
        {"min_retrieval_relevance": "0.5"},
        {"max_duration_s": 0},
        {"max_duration_s": -1},
        {"max_cost": -0.01},
        {"max_tokens": -1},
        {"keep_errors": "yes"},
        {"keep_flags": "non_answer"},
        {"keep_flags": {"non_answer", "hallucination"}},
    ],
)
def test_bad_policy_is_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs)).split("_")[0]):
        Policy(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_traces": 0},
        {"max_traces": 1.5},
        {"max_spans_per_trace": True},
        {"max_total_spans": -5},
        {"max_decided": 0},
        {"decision_wait_s": 0},
        {"decision_wait_s": float("inf")},
        {"max_spans_per_trace": 200, "max_total_spans": 100},
    ],
)
def test_bad_limits_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"max_|decision_wait_s"):
        Limits(**kwargs)


def test_bad_processor_arguments_are_rejected() -> None:
    with pytest.raises(TypeError):
        TailSamplingProcessor(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sweep_interval_s"):
        TailSamplingProcessor(SimpleSpanProcessor(InMemorySpanExporter()), sweep_interval_s=0)


def test_policy_defaults_are_documented_values() -> None:
    p = Policy()
    assert (p.min_groundedness, p.min_retrieval_relevance, p.min_answer_relevance) == (
        Thresholds().groundedness,
        Thresholds().retrieval_relevance,
        None,
    )
    assert p.keep_flags == {"empty_retrieval", "non_answer", "truncated", "empty_output"}
    assert Policy(keep_flags=["non_answer"]).keep_flags == frozenset({"non_answer"})  # type: ignore[arg-type]
    assert p.max_cost is None
