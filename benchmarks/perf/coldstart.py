"""Cold start, in a fresh process per sample: what a serverless cold start pays for semtrace.

Each sample is a new interpreter that builds a workload (its framework imports and
pipeline: paid with or without semtrace), sets up an SDK tracer provider as the app would,
then times, with semtrace:

* ``import``: ``import semtrace_langchain`` / ``import semtrace_llamaindex``;
* ``construct``: ``CallbackHandler()`` / ``LlamaIndexInstrumentor().instrument()``;
* ``first``: the first invocation (model latency simulated, 20 ms per call by default);
* ``second``: the next one, warm;
* ``settle``: after the first invocation, how long until the spans whose end waited for
  the tiktoken encoding have ended (off the caller's path; information only).

and without semtrace (``--mode none``) the same first and second invocation. The first
invocation's added latency is the difference of the medians. The tiktoken encoding is in
the local cache (``TIKTOKEN_CACHE_DIR``, from the repo's test data), as on a machine that
counted before: a cold start then loads it from disk, never from the network.

Usage:
    uv run python benchmarks/perf/coldstart.py [--samples 7] [--latency-ms 20] [--json out.json]

To measure another semtrace (e.g. a release before this benchmark), put its sources first:
``PYTHONPATH=<old>/packages/semtrace/src:<old>/integrations/langchain/src:...``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGE = {"lc_rag": "semtrace_langchain", "llamaindex": "semtrace_llamaindex"}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def child(workload_name: str, mode: str, latency_s: float) -> dict[str, Any]:
    """One sample, in this (fresh) process."""
    sys.path.insert(0, str(HERE))
    import variants
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from workloads import WORKLOADS

    t = time.perf_counter()
    workload = WORKLOADS[workload_name](latency_s)
    out: dict[str, Any] = {"build": _ms(t)}
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    callbacks: list[Any] = []
    if mode == "semtrace":
        t = time.perf_counter()
        if workload_name == "llamaindex":
            import semtrace_llamaindex

            out["import"] = _ms(t)
            t = time.perf_counter()
            semtrace_llamaindex.LlamaIndexInstrumentor().instrument()
        else:
            import semtrace_langchain

            out["import"] = _ms(t)
            t = time.perf_counter()
            callbacks = [semtrace_langchain.CallbackHandler()]
        out["construct"] = _ms(t)
    t = time.perf_counter()
    workload.invoke(0, callbacks)
    out["first"] = _ms(t)
    if mode == "semtrace":
        t = time.perf_counter()
        worker = variants.semtrace_worker()
        if worker is not None:  # a semtrace before deferred span ends: nothing to wait for
            worker.drain(30)
        out["settle"] = _ms(t)
        out["spans"] = len(exporter.get_finished_spans())
    t = time.perf_counter()
    workload.invoke(1, callbacks)
    out["second"] = _ms(t)
    return out


def _sample(workload: str, mode: str, latency_ms: float, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", workload, mode, str(latency_ms / 1000)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _tiktoken_env() -> dict[str, str]:
    from semtrace.testing import tiktoken_cache_from

    cache = tiktoken_cache_from(ROOT / "tests" / "data" / "tiktoken", Path(tempfile.mkdtemp()))
    return {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache)}


def run(samples: int, latency_ms: float, workloads: list[str]) -> dict[str, Any]:
    """Alternate modes sample by sample (so load drifts hit both), then take medians."""
    env = _tiktoken_env()
    results: dict[str, Any] = {}
    for name in workloads:
        raw: dict[str, list[dict[str, Any]]] = {"none": [], "semtrace": []}
        for _ in range(samples):
            for mode in raw:
                raw[mode].append(_sample(name, mode, latency_ms, env))
        med = {
            mode: {
                key: statistics.median(s[key] for s in rows)
                for key in rows[0]
                if isinstance(rows[0][key], (int, float))
            }
            for mode, rows in raw.items()
        }
        med["added_first_ms"] = round(med["semtrace"]["first"] - med["none"]["first"], 2)
        med["added_second_ms"] = round(med["semtrace"]["second"] - med["none"]["second"], 2)
        results[name] = med
    return results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, workload, mode, latency = sys.argv
        print(json.dumps(child(workload, mode, float(latency))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--workloads", nargs="+", default=list(PACKAGE))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.samples, args.latency_ms, args.workloads)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
