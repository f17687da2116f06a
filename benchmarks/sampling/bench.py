"""Tail sampling benchmark: what TailSamplingProcessor keeps, holds and costs.

    cd /work/main && uv run python benchmarks/sampling/bench.py            # 100k traces
    cd /work/main && uv run python benchmarks/sampling/bench.py --smoke    # seconds

Synthetic traces (root -> retrieve, root -> chat -> tool, semtrace attributes on
retrieve and chat) in a fixed, seeded mix: healthy, failed, low quality, slow,
token-hungry, and some whose root never ends. They arrive on a simulated clock
(``--rate`` traces per second), so ``decision_wait_s`` plays out as in a service.

Sections:

* outcome: kept/dropped by reason, early decisions, held high-water, and a check that
  every exported trace is complete (all its ended spans, or none).
* memory: tracemalloc peak over the whole run, sampler vs SimpleSpanProcessor alone.
* overhead: per-span CPU time (process time, steadier than wall time on a shared box),
  no processor / Simple alone / sampler + Simple, with a discarding exporter;
  interleaved repetitions, medians.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Status, StatusCode
from semtrace import semconv
from semtrace.export.sampling import Limits, Policy, SamplingStats, TailSamplingProcessor

Q = semconv.SEMTRACE_QUALITY_PREFIX
SECOND = 1_000_000_000

# kind -> share of traces
MIX: dict[str, float] = {
    "healthy": 0.70,
    "error": 0.05,
    "low_groundedness": 0.06,
    "non_answer": 0.04,
    "empty_retrieval": 0.02,
    "slow": 0.02,
    "tokens": 0.01,
    "root_never_ends": 0.10,
}
SPANS = 4  # root, retrieve, chat, tool


# ----------------------------------------------------------------------------- plumbing


class Discard(SpanExporter):
    """Counts spans (and, when asked, spans per trace), keeps nothing else."""

    def __init__(self, per_trace: bool = False) -> None:
        self.spans = 0
        self.per_trace: Counter[int] | None = Counter() if per_trace else None
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.spans += len(spans)
            if self.per_trace is not None:
                self.per_trace.update(s.context.trace_id for s in spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class SeededIds(IdGenerator):
    """Reproducible ids, so the base rate keeps the same traces on every run."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1


class SimClock:
    """Seconds on a simulated clock, advanced by the workload as traces arrive."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plan(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX.items(), strict=True)
    return rng.choices(kinds, weights=weights, k=n)


def chat_attributes(kind: str) -> dict[str, Any]:
    big = kind == "tokens"
    return {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 120_000 if big else 800,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 200,
        Q + "groundedness": 0.2 if kind == "low_groundedness" else 0.85,
        Q + "groundedness.label": "fail" if kind == "low_groundedness" else "pass",
        Q + "answer_relevance": 0.7,
        Q + "answer_relevance.label": "pass",
        Q + "non_answer": kind == "non_answer",
        Q + "truncated": False,
        Q + "empty_output": False,
    }


def retrieve_attributes(kind: str) -> dict[str, Any]:
    empty = kind == "empty_retrieval"
    return {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_RETRIEVAL,
        semconv.GEN_AI_DATA_SOURCE_ID: "docs",
        Q + "retrieval_relevance": 0.0 if empty else 0.8,
        Q + "retrieval_relevance.label": "fail" if empty else "pass",
        Q + "empty_retrieval": empty,
    }


def run_trace(tracer: trace.Tracer, kind: str) -> tuple[int, int]:
    """One trace; returns (trace id, spans that ended)."""
    start = time.time_ns() - 40 * SECOND if kind == "slow" else None
    root = tracer.start_span("chain", start_time=start)
    ctx = trace.set_span_in_context(root)
    with tracer.start_as_current_span(
        "retrieve", context=ctx, attributes=retrieve_attributes(kind)
    ):
        pass
    with tracer.start_as_current_span(
        "chat", context=ctx, attributes=chat_attributes(kind)
    ) as chat:
        with tracer.start_as_current_span("tool"):
            pass
        if kind == "error":
            chat.set_status(Status(StatusCode.ERROR, "rate limited"))
    trace_id = root.get_span_context().trace_id
    if kind == "root_never_ends":
        return trace_id, SPANS - 1
    root.end()
    return trace_id, SPANS


def feed(
    tracer: trace.Tracer, kinds: Sequence[str], clock: SimClock, rate: float
) -> Iterator[tuple[int, int]]:
    for i, kind in enumerate(kinds):
        clock.now = i / rate
        yield run_trace(tracer, kind)


@dataclass
class Setup:
    provider: TracerProvider
    exporter: Discard
    sampler: TailSamplingProcessor | None
    clock: SimClock


def make(variant: str, *, per_trace: bool = False, seed: int = 11) -> Setup:
    exporter, clock = Discard(per_trace), SimClock()
    provider = TracerProvider(id_generator=SeededIds(seed))
    sampler = None
    if variant != "none":
        processor: SpanProcessor = SimpleSpanProcessor(exporter)
        if variant == "sampler":
            sampler = TailSamplingProcessor(
                processor, Policy(), Limits(), clock=clock, sweep_interval_s=None
            )
            processor = sampler
        provider.add_span_processor(processor)
    return Setup(provider, exporter, sampler, clock)


# ----------------------------------------------------------------------------- sections


@dataclass
class Outcome:
    stats: SamplingStats
    exported_spans: int
    exported_traces: int
    partial_traces: int
    spans_fed: int


def outcome(kinds: Sequence[str], rate: float) -> Outcome:
    s = make("sampler", per_trace=True)
    ended = dict(feed(s.provider.get_tracer("bench"), kinds, s.clock, rate))
    s.provider.shutdown()
    assert s.sampler is not None and s.exporter.per_trace is not None
    got = s.exporter.per_trace
    partial = sum(1 for t, n in got.items() if n != ended[t])
    return Outcome(s.sampler.stats, s.exporter.spans, len(got), partial, sum(ended.values()))


def peak_memory(variant: str, kinds: Sequence[str], rate: float) -> int:
    gc.collect()
    s = make(variant)
    tracemalloc.start()
    tracemalloc.reset_peak()
    for _ in feed(s.provider.get_tracer("bench"), kinds, s.clock, rate):
        pass
    s.provider.force_flush()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    s.provider.shutdown()
    return peak


def time_per_span(variant: str, kinds: Sequence[str], rate: float) -> float:
    s = make(variant)
    tracer = s.provider.get_tracer("bench")
    gc.collect()
    t0 = time.process_time()
    spans = sum(n for _, n in feed(tracer, kinds, s.clock, rate))
    s.provider.force_flush()
    elapsed = time.process_time() - t0
    s.provider.shutdown()
    return elapsed / spans * 1e6


def overhead(kinds: Sequence[str], rate: float, reps: int) -> dict[str, float]:
    variants = ("none", "simple", "sampler")
    samples: dict[str, list[float]] = {v: [] for v in variants}
    time_per_span("sampler", kinds[: len(kinds) // 10 or 1], rate)  # warm-up
    for rep in range(reps):
        order = variants if rep % 2 == 0 else tuple(reversed(variants))
        for v in order:
            samples[v].append(time_per_span(v, kinds, rate))
    return {v: statistics.median(xs) for v, xs in samples.items()}


# ----------------------------------------------------------------------------- report


def mib(n: int) -> str:
    return f"{n / 2**20:.2f} MiB"


def report(
    args: argparse.Namespace, out: Outcome, mem: dict[str, int], cost: dict[str, float]
) -> str:
    st, limits = out.stats, Limits()
    lines = [
        "## semtrace tail sampling",
        "",
        f"Python {platform.python_version()}, opentelemetry-sdk "
        f"{metadata.version('opentelemetry-sdk')}, {platform.machine()}; "
        f"{args.traces:,} traces at a simulated {args.rate:g} traces/s; "
        f"Policy() and Limits() defaults (max_traces={limits.max_traces}, "
        f"decision_wait_s={limits.decision_wait_s:g}).",
        "",
        "| outcome | value |",
        "| --- | ---: |",
        f"| traces fed | {args.traces:,} |",
        f"| spans fed (ended) | {out.spans_fed:,} |",
    ]
    lines += [f"| kept: {r} | {n:,} |" for r, n in sorted(st.kept.items(), key=lambda x: -x[1])]
    lines += [
        f"| kept, total | {st.kept_total:,} ({st.kept_total / args.traces:.1%}) |",
        f"| dropped | {st.dropped:,} |",
        f"| decided early: timed out | {st.timed_out:,} |",
        f"| decided early: evicted over a limit | {st.evicted:,} |",
        f"| decided at shutdown | {st.flushed:,} |",
        f"| late spans forwarded / dropped | {st.late_spans_kept:,} / {st.late_spans_dropped:,} |",
        f"| spans exported | {out.exported_spans:,} ({out.exported_spans / out.spans_fed:.1%}) |",
        f"| partial traces exported | {out.partial_traces} of {out.exported_traces:,} |",
        f"| held high-water: traces | {st.max_held_traces:,} (bound {limits.max_traces:,}) |",
        f"| held high-water: spans | {st.max_held_spans:,} (bound {limits.max_total_spans:,}) |",
        f"| faults | {st.faults} |",
        "",
        "| memory (tracemalloc peak, whole run) | peak |",
        "| --- | ---: |",
        f"| SimpleSpanProcessor alone | {mib(mem['simple'])} |",
        f"| TailSamplingProcessor + Simple | {mib(mem['sampler'])} |",
        f"| difference | {mib(mem['sampler'] - mem['simple'])} |",
        "",
        f"| overhead ({args.timing_traces:,} traces, median of {args.reps}) | CPU µs/span "
        "| vs Simple alone |",
        "| --- | ---: | ---: |",
    ]
    names = {"none": "no processor", "simple": "SimpleSpanProcessor alone",
             "sampler": "TailSamplingProcessor + Simple"}  # fmt: skip
    for v, us in cost.items():
        lines.append(f"| {names[v]} | {us:.2f} | {us / cost['simple']:.2f}x |")
    lines.append(f"| sampler's own cost | {cost['sampler'] - cost['simple']:+.2f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--timing-traces", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rate", type=float, default=200.0, help="simulated traces/s")
    parser.add_argument("--smoke", action="store_true", help="tiny run, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.traces, args.timing_traces, args.reps = 3_000, 1_000, 1
    kinds = plan(args.traces, seed=5)
    out = outcome(kinds, args.rate)
    mem = {v: peak_memory(v, kinds, args.rate) for v in ("simple", "sampler")}
    cost = overhead(plan(args.timing_traces, seed=6), args.rate, args.reps)
    print(report(args, out, mem, cost))
    ok = out.partial_traces == 0 and out.stats.faults == 0
    ok = ok and out.stats.max_held_traces <= Limits().max_traces
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
