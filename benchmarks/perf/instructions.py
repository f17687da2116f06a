"""Instructions per invocation under callgrind: a cost measure the machine's load cannot move.

Wall and CPU time on a shared 2-core machine move with whatever else runs; the number of
instructions a process executes does not (to within a fraction of a percent). Each cell
is one fresh process under ``valgrind --tool=callgrind --instr-atstart=no``: it builds the
workload and the variant, warms up uncounted, switches counting on with
``callgrind_control``, runs ``--n`` invocations, and reports the instructions executed.
About 2 minutes per cell on an idle machine (imports run under valgrind, uncounted).

Usage (from the repository root, in the benchmark's environment)::

    .venvs/bench/bin/python benchmarks/perf/instructions.py
    .venvs/bench/bin/python benchmarks/perf/instructions.py --workloads lc_rag \\
        --variants none,floor,semtrace --n 20 --jobs 2

Writes ``benchmarks/perf/results/instructions.md`` (``--out`` to change it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKLOADS = {
    "lc_rag": "LangChain RAG+tool",
    "lc_agent": "LangGraph agent",
    "llamaindex": "LlamaIndex",
}
VARIANTS = "none,noop,floor,semtrace,semtrace-nosignals,semtrace-nocount"
WARM_UP = 100


def child(workload: str, variant: str, n: int) -> None:
    """Runs inside valgrind: warm up, then count ``n`` invocations.

    A variant named ``<tracer>-sdk`` is the OTel SDK's share of ``<tracer>``: each counted
    invocation runs uninstrumented, then replays the SDK calls the tracer made for one
    invocation (``replay.py``). A variant named ``<tracer>-caller`` counts only the
    caller's path: semtrace's worker is held off while each invocation runs, and does its
    share after counting stops, before the next one.
    """
    sys.path[:0] = [str(HERE), str(ROOT)]
    import bench
    import replay
    import variants as V
    import workloads as W

    telemetry = bench.Telemetry("memory")
    V.snapshot()
    work = {"lc_rag": W.LangChainRag, "lc_agent": W.LangGraphAgent, "llamaindex": W.LlamaIndexQuery}
    w = work[workload]()
    framework = V.LI if workload == "llamaindex" else V.LC
    tracer = variant.removesuffix("-sdk").removesuffix("-caller")
    started = V.ALL[tracer]() if tracer != "none" else None
    callbacks = started.start(framework, telemetry) if started is not None else []
    for i in range(WARM_UP):
        w.invoke(i, callbacks)
    sdk_calls: Callable[[], None] | None = None
    if variant.endswith("-sdk") and started is not None:
        sdk_calls = replay.capture(lambda: w.invoke(WARM_UP, callbacks), telemetry)
        started.stop()
        callbacks = []
    telemetry.clear()  # waits for semtrace's worker: the warm-up's work stays uncounted
    if variant.endswith("-caller"):
        for i in range(WARM_UP, WARM_UP + n):
            with held_worker(), counting():
                w.invoke(i, callbacks)
            V.settle()  # uncounted: the worker's share is not the caller's
        return
    with counting():
        for i in range(WARM_UP, WARM_UP + n):
            w.invoke(i, callbacks)
            if sdk_calls is not None:
                sdk_calls()
        V.settle()  # callgrind counts every thread: the worker's share is semtrace's cost


@contextlib.contextmanager
def held_worker() -> Iterator[None]:
    """Keep semtrace's worker from starting any work inside the block."""
    from variants import semtrace_worker

    worker = semtrace_worker()
    saved = worker.QUIET_S, worker.MAX_DELAY_S
    worker.QUIET_S = worker.MAX_DELAY_S = 1e9  # type: ignore[misc]
    try:
        yield
    finally:
        worker.QUIET_S, worker.MAX_DELAY_S = saved  # type: ignore[misc]


@contextlib.contextmanager
def counting() -> Iterator[None]:
    """Count this process's instructions inside the block (it runs under ``callgrind``)."""
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
    try:
        yield
    finally:
        subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)


def callgrind(argv: list[str]) -> int | None:
    """Run ``argv`` under callgrind, counting only inside its ``counting()`` blocks.

    Returns the instructions counted, or None if valgrind failed.
    """
    cmd = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
        *argv,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not found:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return int(found.group(1))


def measure(workload: str, variant: str, n: int) -> int | None:
    """Instructions per invocation of one cell, or None if valgrind failed."""
    count = callgrind([sys.executable, __file__, "--child", workload, variant, str(n)])
    return None if count is None else count // n


def report(
    results: dict[tuple[str, str], int | None], workloads: list[str], names: list[str], n: int
) -> str:
    lines = [
        "# Instructions per invocation (callgrind)",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; Python {sys.version.split()[0]}",
        f"- command: `python benchmarks/perf/instructions.py --workloads {','.join(workloads)} "
        f"--variants {','.join(names)} --n {n}`",
        "- each cell: one process, warm-up uncounted, then the instructions of "
        f"{n} invocations / {n}; in parentheses, what the variant adds to `none`",
        "",
        *_table_head("variant", workloads),
    ]
    for name in names:
        cells = []
        for w in workloads:
            value, base = results.get((w, name)), results.get((w, "none"))
            if value is None:
                cells.append("failed")
            elif base is None or name == "none":
                cells.append(f"{value / 1e6:.2f} M")
            else:
                cells.append(f"{value / 1e6:.2f} M (+{(value - base) / 1e6:.2f} M)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += bounds(results, workloads)
    return "\n".join(lines) + "\n"


def _table_head(corner: str, workloads: list[str]) -> list[str]:
    """A markdown table's header: ``corner``, then one column per workload."""
    first = f"| {corner} |" if corner else "| |"
    return [
        first + " " + " | ".join(WORKLOADS[w] for w in workloads) + " |",
        "|" + "---|" * (len(workloads) + 1),
    ]


FULL_TRACE = ("openinference", "openllmetry")  # record every span (the official ones do not)


def bounds(results: dict[tuple[str, str], int | None], workloads: list[str]) -> list[str]:
    """What the targets leave for semtrace's own work, given what its output costs the SDK.

    ``semtrace-sdk`` is the SDK's cost of semtrace's spans, events and metric points made
    with no tracer logic; ``noop`` the framework's dispatch, which every callback-driven
    tracer pays. Whatever semtrace does beyond those two must fit in what a target leaves.
    """

    def added(workload: str, name: str) -> int | None:
        value, base = results.get((workload, name)), results.get((workload, "none"))
        return None if value is None or base is None else value - base

    out = [
        "",
        "## What the targets leave for semtrace's own work",
        "",
        "semtrace's own work = semtrace - semtrace-sdk - noop: everything but the SDK calls",
        "for its output and the framework's dispatch. A target is reachable without emitting",
        "less only if its budget - semtrace-sdk - noop is above zero.",
        "",
        *_table_head("", workloads),
    ]
    rows: dict[str, list[str]] = {
        "semtrace's own work now": [],
        "left by ≤ floor": [],
        "left by ≤ 0.5 x cheapest full-trace anchor": [],
    }
    for w in workloads:
        sdk, noop, full = added(w, "semtrace-sdk"), added(w, "noop"), added(w, "semtrace")
        floor = added(w, "floor")
        anchors = [a for a in (added(w, name) for name in FULL_TRACE) if a is not None]
        if sdk is None or noop is None or full is None:
            for row in rows.values():
                row.append("n/a")
            continue
        fixed = sdk + noop
        rows["semtrace's own work now"].append(f"{(full - fixed) / 1e6:+.2f} M")
        budgets = (floor, 0.5 * min(anchors) if anchors else None)
        for row, budget in zip(list(rows.values())[1:], budgets, strict=True):
            row.append("n/a" if budget is None else f"{(budget - fixed) / 1e6:+.2f} M")
    lines = [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()]
    return out + lines + caller_path(results, workloads)


def caller_path(results: dict[tuple[str, str], int | None], workloads: list[str]) -> list[str]:
    """What each tracer leaves on the caller's path (``-caller`` variants; target 2's cause).

    Every ``-caller`` cell switches counting on and off around each invocation, so they are
    compared with ``none-caller``, never with the cells counted in one block.
    """
    names = [
        n for n in ("floor-caller", "semtrace-caller") if any((w, n) in results for w in workloads)
    ]
    if not names or not any((w, "none-caller") in results for w in workloads):
        return []
    out = [
        "",
        "## On the caller's path",
        "",
        "Instructions per invocation with semtrace's worker held off while it runs (its share",
        "is done after counting stops), over `none-caller` (counted the same way):",
        "",
        *_table_head("", workloads),
    ]
    for name in names:
        cells = []
        for w in workloads:
            value, base = results.get((w, name)), results.get((w, "none-caller"))
            cells.append(
                "n/a" if value is None or base is None else f"+{(value - base) / 1e6:.2f} M"
            )
        out.append(f"| {name.removesuffix('-caller')} | " + " | ".join(cells) + " |")
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="lc_rag,llamaindex")
    p.add_argument("--variants", default=VARIANTS)
    p.add_argument("--n", type=int, default=20, help="counted invocations per cell")
    p.add_argument("--jobs", type=int, default=2, help="cells measured at once")
    p.add_argument("--out", default=str(HERE / "results" / "instructions.md"))
    opts = p.parse_args()
    workloads, names = opts.workloads.split(","), opts.variants.split(",")
    cells = [(w, v) for w in workloads for v in names]
    with ThreadPoolExecutor(opts.jobs) as pool:
        counts = list(pool.map(lambda c: measure(c[0], c[1], opts.n), cells))
    results = dict(zip(cells, counts, strict=True))
    text = report(results, workloads, names, opts.n)
    Path(opts.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
