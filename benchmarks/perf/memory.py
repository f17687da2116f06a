"""Bytes per in-flight run: what a burst of runs that never end holds until they are evicted.

Opens ``--runs`` root runs through the real LangChain ``CallbackHandler`` (a chain start
with a short question, as an agent or a crashed worker leaves behind) and never ends them,
under tracemalloc, with real SDK providers. Prints the bytes each open run holds, measured
after the inputs were built (the question string belongs to the app: the run keeps a
reference to it, so its own size comes on top), then the same for model runs (a chat
model start with a system prompt and a question) left open under a root.

Usage:
    uv run python benchmarks/perf/memory.py [--runs 5000]
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
import uuid
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from semtrace import _worker as worker
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler


def _handler(telemetry: Telemetry, max_open_runs: int) -> CallbackHandler:
    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        max_open_runs=max_open_runs,
    )


def _measure(runs: int, open_one: Any) -> float:
    """Bytes allocated and kept per call of ``open_one(i)``, inputs excluded."""
    worker.drain()  # nothing of earlier work still finishing on semtrace's worker
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(runs):
        open_one(i)
    worker.drain()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return kept / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    telemetry = Telemetry()
    handler = _handler(telemetry, args.runs * 3)
    questions = [f"What does the GIL do to thread number {i}?" for i in range(args.runs)]
    ids = [uuid.uuid4() for _ in range(args.runs)]

    def root(i: int) -> None:
        handler.on_chain_start({}, {"question": questions[i]}, run_id=ids[i], name="rag")

    per_root = _measure(args.runs, root)
    prompts = [
        [[SystemMessage("Answer only from the context."), HumanMessage(questions[i])]]
        for i in range(args.runs)
    ]
    model_ids = [uuid.uuid4() for _ in range(args.runs)]

    def model(i: int) -> None:
        handler.on_chat_model_start(
            {},
            prompts[i],
            run_id=model_ids[i],
            parent_run_id=ids[i],
            invocation_params={"model": "gpt-4o-mini", "_type": "openai-chat"},
        )

    per_model = _measure(args.runs, model)
    print(f"open root runs: {handler.recorder.open_runs}")
    print(f"bytes per open root run (chain start): {per_root:,.0f}")
    print(f"bytes per open model run under it: {per_model:,.0f}")
    handler.recorder.close()
    telemetry.shutdown()


if __name__ == "__main__":
    main()
