"""Backend down or slow: do an instrumented app's calls get slower, does memory grow, does it exit?

    cd /work/main && uv run python benchmarks/backend_down/bench.py            # ~2-4 min
    cd /work/main && uv run python benchmarks/backend_down/bench.py --smoke    # seconds

Each variant runs in its own process (OpenTelemetry's global providers are set once per process),
configured by ``semtrace.configure()`` from OTEL_* variables only, like an application would:

* ``baseline``: the same LangChain RAG chain (fake embeddings, fake model) with no semtrace.
* ``up``: semtrace exporting over OTLP/HTTP to a receiver that answers 200 at once.
* ``closed`` / ``grpc-closed``: the OTLP endpoint is a closed port on 127.0.0.1 (refused).
* ``blackhole`` / ``grpc-blackhole``: a listener that accepts connections and never answers.

A worker warms up, then times ``--calls`` chain invocations one by one, sampling the span
queue's length after each (the ``BatchSpanProcessor``'s deque, bounded by
``OTEL_BSP_MAX_QUEUE_SIZE``) and its RSS; it reports when ``main()`` returns, and the parent
measures how long the process then takes to exit (the exit hook flushes: against a dead backend
that costs up to the exporter's timeout, never the app's calls). Each variant runs at the same
time as an ``up`` run (same machine load for both), over ``--rounds`` rounds in alternating
order; ``vs up`` is the median over rounds of the variant's median call time divided by that of
the ``up`` run beside it, ``vs base`` the ratio of medians to ``baseline`` (no semtrace); the
same for the calling thread's CPU time per call (``time.thread_time``), which the machine's
other load does not inflate.

Only 127.0.0.1 is used. ``--worker VARIANT`` is the child's entry point (also used by
tests/e2e/test_backend_down.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOOPBACK = "127.0.0.1"
VARIANTS = ("baseline", "up", "closed", "blackhole", "grpc-closed", "grpc-blackhole")
QUEUE_SIZE = 256  # OTEL_BSP_MAX_QUEUE_SIZE for every instrumented variant (SDK default: 2048)


# ----------------------------------------------------------------------------------- worker


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class _Count(logging.Handler):
    """Counts log records by logger name (the exporters log their failures, they don't raise)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_logger: dict[str, int] = {}
        self.queue_full = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.by_logger[record.name] = self.by_logger.get(record.name, 0) + 1
        if "Queue full" in record.getMessage():
            self.queue_full += 1


def _chain(instrumented: bool) -> tuple[Any, dict[str, Any]]:
    import itertools

    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.vectorstores import InMemoryVectorStore

    docs = [
        "The with statement wraps the execution of a block with methods of a context manager.",
        "A for loop iterates over the items of any sequence, such as a list or a string.",
        "A lambda expression creates a small anonymous function.",
    ]
    store = InMemoryVectorStore.from_texts(docs, DeterministicFakeEmbedding(size=64))
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("human", "{question}")]
    )
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage(docs[0])]))
    chain = (
        {"context": store.as_retriever(search_kwargs={"k": 2}), "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
    config: dict[str, Any] = {}
    if instrumented:
        from semtrace_langchain import CallbackHandler

        config["callbacks"] = [CallbackHandler()]
    return chain, config


def _span_queue() -> Any:
    """The BatchSpanProcessor's deque (SDK internals: only for measuring its length).

    Searched through whatever processors wrap it (the SDK's multi-processor, semtrace's
    filters), by looking at their attributes.
    """
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    todo: list[Any] = [trace.get_tracer_provider()]
    seen: set[int] = set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, BatchSpanProcessor):
            return obj._batch_processor._queue
        if isinstance(obj, (list, tuple)):
            todo.extend(obj)
        elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(
            ("opentelemetry.sdk", "semtrace")
        ):
            todo.extend(vars(obj).values())
    return None


def worker(variant: str, calls: int, warmup: int) -> dict[str, Any]:
    t_start = time.monotonic()
    sys.path.insert(0, str(ROOT / "examples"))
    from _offline import use_bundled_tiktoken_files

    use_bundled_tiktoken_files(ROOT / "examples")
    counter = _Count()
    logging.getLogger().addHandler(counter)
    instrumented = variant != "baseline"
    if instrumented:
        import semtrace

        semtrace.configure(service_name=f"backend-down-{variant}", console=False)
    chain, config = _chain(instrumented)
    queue = _span_queue() if instrumented else None
    max_queue = int(os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE", "2048"))
    if instrumented:
        assert queue is not None and queue.maxlen == max_queue, (queue, max_queue)

    question = "What does the with statement do?"
    for _ in range(warmup):
        chain.invoke(question, config=config)
    rss_after_warmup = _rss_bytes()
    times: list[float] = []
    cpu_times: list[float] = []  # this thread's CPU time: immune to the machine's other load
    queue_lengths: list[int] = []
    rss_samples: list[int] = []
    errors = 0
    for i in range(calls):
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            chain.invoke(question, config=config)
        except Exception:  # the point: nothing may raise
            errors += 1
        cpu_times.append(time.thread_time() - c0)
        times.append(time.perf_counter() - t0)
        if queue is not None:
            queue_lengths.append(len(queue))
        if i % 50 == 0:
            rss_samples.append(_rss_bytes())
    rss_end = _rss_bytes()
    return {
        "variant": variant,
        "calls": calls,
        "errors": errors,
        "median_ms": statistics.median(times) * 1e3,
        "p95_ms": sorted(times)[int(0.95 * (len(times) - 1))] * 1e3,
        "mean_ms": statistics.fmean(times) * 1e3,
        "cpu_median_ms": statistics.median(cpu_times) * 1e3,
        "max_queue_len": max(queue_lengths, default=0),
        "queue_limit": max_queue if instrumented else None,
        "queue_full_warnings": counter.queue_full,
        "warnings_by_logger": counter.by_logger,
        "rss_after_warmup_mb": rss_after_warmup / 2**20,
        "rss_end_mb": rss_end / 2**20,
        "rss_peak_sampled_mb": max(rss_samples, default=rss_end) / 2**20,
        "main_s": time.monotonic() - t_start,
    }


# ------------------------------------------------------------------------------ endpoints


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def endpoints() -> Iterator[dict[str, str]]:
    """OTLP endpoints on 127.0.0.1: healthy, refused (closed port), never answering."""
    ok = ThreadingHTTPServer((LOOPBACK, 0), _Ok)
    threading.Thread(target=ok.serve_forever, daemon=True).start()
    with socket.socket() as probe:  # a port that was free a moment ago, left closed
        probe.bind((LOOPBACK, 0))
        closed_port = probe.getsockname()[1]
    blackhole = socket.socket()
    blackhole.bind((LOOPBACK, 0))
    blackhole.listen(1024)  # the kernel completes handshakes; nobody ever reads or answers
    hole_port = blackhole.getsockname()[1]
    try:
        yield {
            "up": f"http://{LOOPBACK}:{ok.server_address[1]}",
            "closed": f"http://{LOOPBACK}:{closed_port}",
            "blackhole": f"http://{LOOPBACK}:{hole_port}",
        }
    finally:
        ok.shutdown()
        ok.server_close()
        blackhole.close()


def variant_env(variant: str, urls: dict[str, str], queue_size: int = QUEUE_SIZE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    if variant == "baseline":
        return env
    target = variant.removeprefix("grpc-")
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = urls[target]
    env["OTEL_BSP_MAX_QUEUE_SIZE"] = str(queue_size)
    # The SDK refuses a batch larger than the queue (default batch: 512).
    env["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = str(max(1, min(512, queue_size // 4)))
    if variant.startswith("grpc-"):
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
    return env


def run_worker(
    variant: str,
    urls: dict[str, str],
    calls: int,
    warmup: int,
    timeout: float = 300,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one worker process; add ``exit_s`` (from its result line to the process's exit)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", variant]
    argv += ["--calls", str(calls), "--warmup", str(warmup)]
    env = {**variant_env(variant, urls), **(extra_env or {})}
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        t_result = time.monotonic()
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        t_exit = time.monotonic()
        err.seek(0)
        stderr = err.read()
    if rc != 0 or not line:
        raise RuntimeError(f"{variant}: worker exited {rc}\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(line)
    result.update(exit_s=t_exit - t_result, process_s=t_exit - t0, stderr_lines=stderr.count("\n"))
    result["traceback_in_stderr"] = "Traceback (most recent call last)" in stderr
    return result


# -------------------------------------------------------------------------------- driver


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=VARIANTS)
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--smoke", action="store_true", help="1 round, 100 calls")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, args.calls, args.warmup)), flush=True)
        return 0

    if args.smoke:
        args.rounds, args.calls, args.warmup = 1, 100, 10
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in {*variants, "up"}}
    others = [v for v in variants if v != "up"]
    with endpoints() as urls, ThreadPoolExecutor(2) as pool:
        for round_no in range(args.rounds):
            order = others if round_no % 2 == 0 else others[::-1]
            for variant in order:
                # Each variant runs at the same time as an `up` run: on a busy machine both see
                # the same load, so their ratio is far steadier than across separate runs.
                pair = [
                    pool.submit(run_worker, v, urls, args.calls, args.warmup)
                    for v in (variant, "up")
                ]
                result, up = (f.result() for f in pair)
                result["paired_up_median_ms"] = up["median_ms"]
                result["paired_up_cpu_median_ms"] = up["cpu_median_ms"]
                runs[variant].append(result)
                runs["up"].append(up)
                for r in (result, up):
                    print(
                        f"round {round_no + 1} {r['variant']:15s} median {r['median_ms']:6.2f} ms"
                        f"  p95 {r['p95_ms']:6.2f} ms  queue<={r['max_queue_len']:4d}"
                        f"  rss {r['rss_after_warmup_mb']:.0f}->{r['rss_end_mb']:.0f} MB"
                        f"  exit {r['exit_s']:5.1f} s  errors {r['errors']}",
                        flush=True,
                    )
    variants = ["up", *others]

    def med(variant: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[variant]))

    summary: dict[str, Any] = {}
    for variant in variants:
        row = {
            "median_ms": med(variant, "median_ms"),
            "cpu_median_ms": med(variant, "cpu_median_ms"),
            "p95_ms": med(variant, "p95_ms"),
            "exit_s_max": max(r["exit_s"] for r in runs[variant]),
            "rss_growth_mb_max": max(
                r["rss_end_mb"] - r["rss_after_warmup_mb"] for r in runs[variant]
            ),
            "max_queue_len": max(r["max_queue_len"] for r in runs[variant]),
            "queue_limit": runs[variant][0]["queue_limit"],
            "errors": sum(r["errors"] for r in runs[variant]),
            "queue_full_warnings": sum(r["queue_full_warnings"] for r in runs[variant]),
            "traceback_in_stderr": any(r["traceback_in_stderr"] for r in runs[variant]),
        }
        if variant != "up":  # median over rounds of (variant / the up run beside it)
            row["ratio_vs_up"] = statistics.median(
                r["median_ms"] / r["paired_up_median_ms"] for r in runs[variant]
            )
            row["cpu_ratio_vs_up"] = statistics.median(
                r["cpu_median_ms"] / r["paired_up_cpu_median_ms"] for r in runs[variant]
            )
        else:
            row["ratio_vs_up"] = row["cpu_ratio_vs_up"] = 1.0
        if "baseline" in runs:
            row["ratio_vs_baseline"] = row["median_ms"] / med("baseline", "median_ms")
            row["cpu_ratio_vs_baseline"] = row["cpu_median_ms"] / med("baseline", "cpu_median_ms")
        summary[variant] = row

    print()
    print(
        f"{'variant':15s} {'wall':>8s} {'p95':>8s} {'vs up':>6s} {'vs base':>7s}"
        f" {'cpu':>7s} {'vs up':>6s} {'vs base':>7s}"
        f" {'queue':>9s} {'rss+':>6s} {'exit':>6s} {'errors':>6s}"
    )
    for variant, row in summary.items():
        limit = row["queue_limit"]
        queue = f"{row['max_queue_len']}/{limit}" if limit else "-"
        print(
            f"{variant:15s} {row['median_ms']:6.2f}ms {row['p95_ms']:6.2f}ms"
            f" {row['ratio_vs_up']:6.2f} {row.get('ratio_vs_baseline', 0):7.2f}"
            f" {row['cpu_median_ms']:5.2f}ms {row['cpu_ratio_vs_up']:6.2f}"
            f" {row.get('cpu_ratio_vs_baseline', 0):7.2f}"
            f" {queue:>9s} {row['rss_growth_mb_max']:5.1f}M {row['exit_s_max']:5.1f}s"
            f" {row['errors']:6d}"
        )
    args.out.write_text(
        json.dumps(
            {"calls": args.calls, "rounds": args.rounds, "summary": summary, "runs": runs},
            indent=1,
        )
    )
    print(f"\nwrote {args.out}")
    failed = [
        v for v, row in summary.items()
        if row["errors"] or row["traceback_in_stderr"]
        or (row["queue_limit"] and row["max_queue_len"] > row["queue_limit"])
    ]  # fmt: skip
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
