"""Soak: does memory level off over 100,000+ pipeline invocations? (Issue 7, promise 3)

One child process per framework runs the mixed workload of
``tests/hardening/workload.py`` (normal, erroring, abandoned-stream and never-ended
runs; unique questions; a churn of 5,000 model names), instrumented with the default
settings, exporting over OTLP/HTTP to a closed local port: every export fails, the
``BatchSpanProcessor`` queue fills up, and spans are dropped at
``OTEL_BSP_MAX_QUEUE_SIZE``. Every ``--sample-every`` invocations the child samples its
RSS (``/proc/self/statm``) and the size of every map semtrace keeps; the parent prints
one markdown table per framework and a verdict per series (level: the last half of the
run adds less than a tolerance).

Usage (from the repository root)::

    uv run python benchmarks/soak/soak.py                      # 100,000 invocations
    uv run python benchmarks/soak/soak.py --invocations 4000 --sample-every 500  # smoke

Results are also written to ``benchmarks/soak/results/soak-<date>.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from semtrace._telemetry import tokens  # noqa: E402

#: SEMTRACE_MAX_OPEN_RUNS for the soak: small enough that the never-ended runs (10% of
#: the calls, two runs each) reach it early and the run is spent at the bound.
MAX_OPEN_RUNS = 1_000
RUN_TIMEOUT_S = 600  # SEMTRACE_RUN_TIMEOUT: the age eviction is exercised too

#: Bounds semtrace documents for each map.
BOUNDS: dict[str, int] = {
    "lc.open_runs": MAX_OPEN_RUNS,
    "li.open_runs": MAX_OPEN_RUNS,
    "li.open_spans": MAX_OPEN_RUNS,
    "li.first_chunk_index": MAX_OPEN_RUNS,
    "encoding_by_model": 4_097,  # cleared past 4096 entries
    # The token-count caches' own bounds, read from the code so they cannot drift.
    "lc.token_cache_chars": tokens._CACHE_MAX_CHARS,
    "li.token_cache_chars": tokens._CACHE_MAX_CHARS,
    "lc.token_short_cache": tokens._SHORT_CACHE_MAX_ENTRIES,
    "li.token_short_cache": tokens._SHORT_CACHE_MAX_ENTRIES,
}


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_message: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = record.msg if isinstance(record.msg, str) else str(record.msg)
        self.by_message[key[:60]] = self.by_message.get(key[:60], 0) + 1


def _count_ended() -> Any:
    from opentelemetry.sdk.trace import SpanProcessor

    class CountEnded(SpanProcessor):
        """Counts the spans ended (every one of which the exporter then fails to send)."""

        def __init__(self) -> None:
            self.count = 0

        def on_end(self, span: Any) -> None:
            self.count += 1

    return CountEnded()


def child(opts: argparse.Namespace) -> None:
    """Run the workload of one framework and print one JSON sample per line."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from semtrace import Settings

    import tests.conftest  # noqa: F401  (offline tiktoken cache from the repo's BPE files)
    from tests.hardening.workload import Workload, live_objects, rss_mib

    counted = _Count()
    for name in ("opentelemetry", "semtrace"):
        logger = logging.getLogger(name)
        logger.addHandler(counted)
        logger.propagate = False
        logger.setLevel(logging.DEBUG if name == "semtrace" else logging.WARNING)

    processor = BatchSpanProcessor(OTLPSpanExporter())  # OTEL_BSP_* and OTLP_* from the env
    ended = _count_ended()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(ended)
    tracer_provider.add_span_processor(processor)
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=10_000)
    meter_provider = MeterProvider(metric_readers=[reader])
    max_queue = processor._batch_processor._max_queue_size

    settings = Settings.resolve()  # SEMTRACE_MAX_OPEN_RUNS / SEMTRACE_RUN_TIMEOUT from the env
    workload = Workload(tracer_provider, meter_provider, settings, frameworks=(opts.framework,))
    start = time.perf_counter()
    queue_peak = 0

    def sample(done: int) -> None:
        queue = len(processor._batch_processor._queue)
        row = {
            "framework": opts.framework,
            "invocations": done,
            "seconds": round(time.perf_counter() - start, 1),
            "rss_mib": round(rss_mib(), 1),
            "bsp_queue": queue,
            "bsp_queue_peak": queue_peak,
            "bsp_max_queue": max_queue,
            "spans_ended": ended.count,
            **workload.maps(),
        }
        print(json.dumps(row), flush=True)

    sample(0)
    for i in range(opts.invocations):
        workload.step(i)
        queue_peak = max(queue_peak, len(processor._batch_processor._queue))
        if (i + 1) % opts.sample_every == 0:
            sample(i + 1)
    live = live_objects()
    summary = {
        "framework": opts.framework,
        "summary": True,
        "counts": dict(workload.counts),
        "errors_seen_by_app": workload.errors,
        "live_objects": live,
        "log_records": counted.by_message,
    }
    print(json.dumps(summary), flush=True)
    workload.close()
    processor._batch_processor._shutdown = True  # do not wait for a closed port at exit
    os._exit(0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_children(opts: argparse.Namespace) -> list[dict[str, Any]]:
    port = closed_port()  # nothing listens there: every export is refused
    env = dict(os.environ)
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_EXPORTER_OTLP_TIMEOUT="10",  # the default: each failing export blocks 10 s
        OTEL_BSP_MAX_QUEUE_SIZE=str(opts.max_queue),
        OTEL_BSP_SCHEDULE_DELAY="200",
        SEMTRACE_MAX_OPEN_RUNS=str(MAX_OPEN_RUNS),
        SEMTRACE_RUN_TIMEOUT=str(RUN_TIMEOUT_S),
        PYTHONPATH=str(ROOT),
    )
    per = opts.invocations // len(opts.frameworks)
    procs = []
    logs = []
    for framework in opts.frameworks:
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - read after the child ends
        logs.append(log)
        cmd = [sys.executable, __file__, "--child", "--framework", framework]
        cmd += ["--invocations", str(per), "--sample-every", str(opts.sample_every)]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log, text=True))
    rows: list[dict[str, Any]] = []
    for proc, log in zip(procs, logs, strict=True):
        assert proc.stdout is not None
        for line in proc.stdout:
            row = json.loads(line)
            rows.append(row)
            if not row.get("summary"):
                print(
                    f"  {row['framework']:10} {row['invocations']:>7} invocations"
                    f"  {row['seconds']:>7.1f}s  rss {row['rss_mib']:.1f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
        if proc.wait() != 0:
            log.seek(0)
            raise SystemExit(f"soak child failed:\n{log.read()[-4000:]}")
    return rows


SHOWN = (
    "invocations",
    "seconds",
    "rss_mib",
    "bsp_queue_peak",
    "spans_ended",
    "lc.open_runs",
    "li.open_runs",
    "li.open_spans",
    "li.first_chunk_index",
    "lc.token_cache",
    "lc.token_cache_chars",
    "li.token_cache",
    "li.token_cache_chars",
    "encoding_by_model",
    "encoding_loads",
    "li.event_routes",
    "li.kind_cache",
    "li.dispatcher_open_spans",
    "fault_sites",
)


def table(rows: list[dict[str, Any]]) -> str:
    keys = [k for k in SHOWN if any(k in r for r in rows)]
    out = ["| " + " | ".join(keys) + " |", "|" + "---:|" * len(keys)]
    out += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(out)


def verdicts(rows: list[dict[str, Any]], rss_tolerance_mib: float) -> list[tuple[str, bool, str]]:
    """Per series: within its bound, and level over the second half of the run."""
    half = [r for r in rows if r["invocations"] >= rows[-1]["invocations"] / 2]
    found = []
    growth = half[-1]["rss_mib"] - half[0]["rss_mib"]
    found.append(
        (
            "rss_mib",
            growth <= rss_tolerance_mib,
            f"{half[0]['rss_mib']} -> {half[-1]['rss_mib']} MiB over the second half "
            f"({growth:+.1f} MiB; tolerance {rss_tolerance_mib} MiB)",
        )
    )
    max_queue = rows[-1]["bsp_max_queue"]
    peak = max(r["bsp_queue_peak"] for r in rows)
    text = f"peak {peak} <= OTEL_BSP_MAX_QUEUE_SIZE {max_queue}"
    found.append(("bsp_queue", peak <= max_queue, text))
    for key, bound in BOUNDS.items():
        if key not in rows[-1]:
            continue
        peak = max(r[key] for r in rows)
        found.append((key, peak <= bound, f"peak {peak} <= bound {bound}"))
    for key in ("li.event_routes", "li.kind_cache", "encoding_loads", "fault_sites"):
        if key in rows[-1]:
            ok = half[-1][key] == half[0][key]
            found.append((key, ok, f"{half[0][key]} -> {half[-1][key]} over the second half"))
    return found


def report(rows: list[dict[str, Any]], opts: argparse.Namespace) -> tuple[str, bool]:
    lines = [
        f"# semtrace soak, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"{opts.invocations:,} invocations ({', '.join(opts.frameworks)}, one process each), "
        "mix per framework: 70% normal, 10% erroring, 10% abandoned stream, 10% never-ended; "
        f"SEMTRACE_MAX_OPEN_RUNS={MAX_OPEN_RUNS}, SEMTRACE_RUN_TIMEOUT={RUN_TIMEOUT_S}, other "
        "settings default (content off, token counting and quality signals on); "
        "OTLP/HTTP to a closed port (every export fails, the exporter's default 10 s timeout), "
        f"OTEL_BSP_MAX_QUEUE_SIZE={opts.max_queue}. Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs.",
        "",
    ]
    all_ok = True
    for framework in opts.frameworks:
        mine = [r for r in rows if r["framework"] == framework and not r.get("summary")]
        summary = next(r for r in rows if r["framework"] == framework and r.get("summary"))
        lines += [f"## {framework}", "", table(mine), ""]
        for key, ok, text in verdicts(mine, opts.rss_tolerance):
            all_ok &= ok
            lines.append(f"- {'level' if ok else 'GROWING'}: `{key}` {text}")
        lines += [
            f"- live objects at the end: {summary['live_objects']}",
            f"- invocations by kind: {summary['counts']}",
            f"- log records (opentelemetry WARNING+, semtrace DEBUG+): {summary['log_records']}",
            "",
        ]
    lines.append(f"**Verdict: {'every series levels off' if all_ok else 'SOMETHING GROWS'}.**")
    return "\n".join(lines), all_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--invocations", type=int, default=100_000, help="total, all frameworks")
    parser.add_argument("--sample-every", type=int, default=5_000)
    parser.add_argument("--max-queue", type=int, default=512, help="OTEL_BSP_MAX_QUEUE_SIZE")
    parser.add_argument("--rss-tolerance", type=float, default=16.0, help="MiB, second half")
    parser.add_argument("--frameworks", nargs="+", default=["langchain", "llamaindex"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--framework", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts)
        return
    rows = run_children(opts)
    text, ok = report(rows, opts)
    print(text)
    out = opts.out or HERE / "results" / f"soak-{datetime.now(timezone.utc):%Y%m%d-%H%M}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
