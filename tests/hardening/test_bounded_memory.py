"""Promise 3 (quick version): every map semtrace keeps stays under its bound.

A few thousand invocations of the soak's mixed workload (``benchmarks/soak/soak.py`` runs
100,000+ and samples RSS too), both frameworks, with small limits so each bound is hit
many times: 32 open runs, a 20,000-character token cache, a 64-span export queue in
front of an OTLP exporter whose every export fails (a closed local port).
"""

from __future__ import annotations

import collections
import socket

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from semtrace import Settings, safety
from semtrace import _worker as worker
from semtrace._telemetry import tokens
from semtrace.testing import Telemetry

from tests.hardening.workload import Workload, live_objects

STEPS = 1_500
MAX_OPEN = 32
TOKEN_CACHE_CHARS = 20_000
TOKEN_SHORT_CACHE_ENTRIES = 50
MAX_QUEUE = 64
WORKER_QUEUE = 16  # ended runs waiting for semtrace's worker
#: Heavy on the kinds that leave state behind (abandoned streams, runs never ended).
MIX = ("normal", "error", "abandoned", "abandoned", "never-ended", "never-ended")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_map_stays_under_its_bound(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "_CACHE_MAX_CHARS", TOKEN_CACHE_CHARS)
    monkeypatch.setattr(tokens, "_SHORT_CACHE_MAX_ENTRIES", TOKEN_SHORT_CACHE_ENTRIES)
    monkeypatch.setattr(worker, "MAX_QUEUED", WORKER_QUEUE)
    monkeypatch.setattr(worker, "MAX_PENDING", WORKER_QUEUE)
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{closed_port()}/v1/traces", timeout=1)
    processor = BatchSpanProcessor(
        exporter, max_queue_size=MAX_QUEUE, max_export_batch_size=16, schedule_delay_millis=50
    )
    telemetry.tracer_provider.add_span_processor(processor)
    queue = processor._batch_processor._queue
    faults_before = safety.faults()
    live_before = live_objects()

    workload = Workload(
        telemetry.tracer_provider,
        telemetry.meter_provider,
        Settings(max_open_runs=MAX_OPEN),
        mix=MIX,
        keep_abandoned=16,
    )
    peaks: collections.Counter[str] = collections.Counter()
    first: dict[str, int] = {}
    for i in range(STEPS):
        workload.step(i)
        sizes = {**workload.maps(), "bsp_queue": len(queue), "worker": worker.pending()}
        for key, value in sizes.items():
            peaks[key] = max(peaks[key], value)
        if i == 200:
            first = sizes
    live_during = live_objects()
    last = workload.maps()
    workload.close()

    for key in ("lc.open_runs", "li.open_runs", "li.open_spans", "li.first_chunk_index"):
        assert peaks[key] <= MAX_OPEN, (key, peaks[key])
    for key in ("lc.token_cache_chars", "li.token_cache_chars"):
        assert 0 < peaks[key] <= TOKEN_CACHE_CHARS, (key, peaks[key])
    for key in ("lc.token_short_cache", "li.token_short_cache"):
        assert 0 < peaks[key] <= TOKEN_SHORT_CACHE_ENTRIES, (key, peaks[key])
    assert peaks["encoding_by_model"] <= 4097
    assert peaks["bsp_queue"] <= MAX_QUEUE
    assert peaks["worker"] <= 2 * WORKER_QUEUE + 1  # queued and waiting, and one running
    # Tables of classes and event types: filled at warm-up, then constant.
    for key in ("li.event_routes", "li.kind_cache", "encoding_loads", "li.dispatcher_open_spans"):
        assert last[key] == first[key], (key, first[key], last[key])
    # Nothing semtrace keeps per run outlives its bound...
    in_flight = sum(live_during[k] - live_before[k] for k in ("Run", "Skipped"))
    assert in_flight <= 2 * MAX_OPEN + 2 * WORKER_QUEUE + 1, live_during
    assert live_during["OpenSpan"] - live_before["OpenSpan"] <= MAX_OPEN, live_during
    # ...or the shutdown.
    live_after = live_objects()
    for kind in ("Run", "Skipped", "OpenSpan", "OpenTrace"):
        assert live_after[kind] <= live_before[kind], (kind, live_before, live_after)
    # The workload itself never made semtrace fault.
    assert safety.faults() == faults_before
    assert workload.counts["langchain:never-ended"] * 2 > MAX_OPEN  # the bound was hit
