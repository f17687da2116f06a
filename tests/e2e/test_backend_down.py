"""Backend down or never answering: the instrumented app runs, raises nothing, and exits.

Uses the workers of benchmarks/backend_down/bench.py (each its own process, configured by
``semtrace.configure()`` from OTEL_* only): a LangChain RAG chain invoked repeatedly with the OTLP
endpoint at a closed port or at a listener that never answers, OTEL_BSP_MAX_QUEUE_SIZE=256.
Timing ratios are the benchmark's business, not a test's; this checks what must always hold:

* no call raises, no traceback is printed;
* the span queue never holds more than OTEL_BSP_MAX_QUEUE_SIZE (it fills and drops, with the
  SDK's "Queue full" warning): memory stays bounded however long the backend is away;
* the process exits on its own. The exit hook still tries to export what is queued; against a
  dead backend that takes up to the SDK's 30 s shutdown join plus an export timeout (measured
  ~25-45 s with the default OTEL_EXPORTER_OTLP_TIMEOUT=10 s, see the benchmark). To keep this
  test short it sets OTEL_EXPORTER_OTLP_TIMEOUT=3; the bound is the same mechanism either way.
"""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

from backends import REPO_ROOT

CALLS = 200  # x3 spans: well past the queue limit
EXPORT_TIMEOUT_S = 3
EXIT_BOUND_S = 60.0  # at most: 30 s shutdown join + one metrics export; measured ~10-15 s


def _bench() -> ModuleType:
    path = REPO_ROOT / "benchmarks" / "backend_down" / "bench.py"
    spec = importlib.util.spec_from_file_location("backend_down_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dead_or_silent_backend_never_breaks_the_app_and_the_queue_stays_bounded() -> None:
    bench = _bench()
    variants = ["closed", "blackhole", "grpc-blackhole"]
    with bench.endpoints() as urls, ThreadPoolExecutor(len(variants)) as pool:
        futures = {
            v: pool.submit(
                bench.run_worker,
                v,
                urls,
                CALLS,
                5,
                timeout=EXIT_BOUND_S + 120,
                extra_env={"OTEL_EXPORTER_OTLP_TIMEOUT": str(EXPORT_TIMEOUT_S)},
            )
            for v in variants
        }
        results: dict[str, dict[str, Any]] = {v: f.result() for v, f in futures.items()}

    for variant, r in results.items():
        assert r["errors"] == 0, (variant, r)
        assert not r["traceback_in_stderr"], (variant, r)
        assert r["queue_limit"] == bench.QUEUE_SIZE, (variant, r)
        assert r["max_queue_len"] <= r["queue_limit"], (variant, r)
        # The limit was reached, and the SDK dropped spans instead of growing.
        assert r["max_queue_len"] == r["queue_limit"], (variant, r)
        assert r["queue_full_warnings"] > 0, (variant, r)
        assert r["exit_s"] < EXIT_BOUND_S, (variant, r)
    print({v: (round(r["median_ms"], 2), round(r["exit_s"], 1)) for v, r in results.items()})
