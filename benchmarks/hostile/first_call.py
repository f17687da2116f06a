"""Hostile network: is the first instrumented call delayed when tiktoken cannot download?

Every run is a fresh process whose tokenizer cache is empty and whose every outbound
connection goes through ``HTTPS_PROXY``/``HTTP_PROXY``, pointed at one of:

* ``blackhole``: a local port that accepts connections and never answers (the download
  hangs forever, as behind a firewall that drops packets);
* ``refused``: a local port nothing listens on (the download fails at once);
* ``cached`` (reference): the same blackhole, but the BPE files are in the cache, so
  semtrace reads them from disk (and waits for that, once, by design).

Each process imports everything and builds its pipeline first (not timed), then times
the instrumentation set-up (``CallbackHandler(...)`` /
``LlamaIndexInstrumentor().instrument(...)``, which starts the tokenizer's background
load), then the first call, then a second call. The table gives the
median over ``--runs`` runs per cell (runs interleaved), the ratio instrumented /
uninstrumented, whether token counts were recorded, and how many "could not be
loaded" warnings the process printed.

Usage (from the repository root)::

    uv run python benchmarks/hostile/first_call.py            # 5 runs per cell
    uv run python benchmarks/hostile/first_call.py --runs 3 --frameworks langchain

Exits non-zero if an offline first call is delayed (ratio above ``--max-ratio`` and
more than ``--max-extra-ms`` slower), if counts appear offline, or if the refused
download does not log exactly one warning.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WARNING = "could not be loaded"


# --- the child: one process, one cell ---


def child(framework: str, instrumented: bool, settle_s: float) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from semtrace.testing import Telemetry

    telemetry = Telemetry()
    if framework == "langchain":
        from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain

        chains = [rag_chain(fake_chat(ANSWER)) for _ in range(2)]

        from semtrace_langchain import CallbackHandler  # an import, at start-up: not timed

        def setup() -> Any:
            return CallbackHandler(tracer_provider=telemetry.tracer_provider)

        def call(handle: Any, i: int) -> Any:
            config = {"callbacks": [handle]} if handle is not None else {}
            return chains[i].invoke(QUESTION, config=config)

    else:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core import Settings as LlamaSettings
        from llama_index.core.embeddings import MockEmbedding

        from tests.llamaindex.fakes import DOCS, QUESTION, AnswerLLM

        # LlamaIndex's own default tokenizer is tiktoken too: give it one that needs no
        # download, in both variants, so only semtrace's counting is under test.
        LlamaSettings.tokenizer = str.split
        embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")
        index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)
        engines = [index.as_query_engine(llm=AnswerLLM()) for _ in range(2)]

        from semtrace_llamaindex import LlamaIndexInstrumentor  # at start-up: not timed

        def setup() -> Any:
            instrumentor = LlamaIndexInstrumentor()
            instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
            return instrumentor

        def call(handle: Any, i: int) -> Any:
            return str(engines[i].query(QUESTION))

    start = time.perf_counter()
    handle = setup() if instrumented else None
    ready = time.perf_counter()
    call(handle, 0)
    first = time.perf_counter() - ready
    start, setup_s = time.perf_counter(), ready - start
    call(handle, 1)
    second = time.perf_counter() - start
    time.sleep(settle_s)  # let a failing download fail, to see its warning
    counted = any("gen_ai.usage.input_tokens" in (s.attributes or {}) for s in telemetry.spans())
    timings = {"setup_ms": setup_s * 1e3, "first_ms": first * 1e3, "second_ms": second * 1e3}
    print(json.dumps({**timings, "counted": counted}))
    sys.stdout.flush()
    os._exit(0)  # a download thread may still hang on the blackhole


# --- the parent ---


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bpe_cache(dest: Path) -> Path:
    from semtrace.testing import tiktoken_cache_from

    return tiktoken_cache_from(ROOT / "tests" / "data" / "tiktoken", dest)


def run_one(
    framework: str, instrumented: bool, network: str, proxy: str, cache: Path, settle_s: float
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        HTTPS_PROXY=proxy,
        HTTP_PROXY=proxy,
        https_proxy=proxy,
        http_proxy=proxy,
        TIKTOKEN_CACHE_DIR=str(cache),
        PYTHONPATH=str(ROOT),
    )
    for var in ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SEMTRACE_COUNT_TOKENS"):
        env.pop(var, None)
    cmd = [sys.executable, __file__, "--child", framework, str(int(instrumented)), str(settle_s)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({framework}, {network}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["warnings"] = done.stderr.count(WARNING)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frameworks", nargs="+", default=["langchain", "llamaindex"])
    parser.add_argument("--networks", nargs="+", default=["blackhole", "refused", "cached"])
    parser.add_argument("--settle", type=float, default=1.0, help="s to wait for a warning")
    parser.add_argument("--max-ratio", type=float, default=2.0)
    parser.add_argument("--max-extra-ms", type=float, default=250.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        framework, instrumented, settle = opts.child
        child(framework, instrumented == "1", float(settle))
        return

    sys.path.insert(0, str(ROOT))
    from tests.network import silent_port

    results: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
    with silent_port() as hole, tempfile.TemporaryDirectory() as tmp:
        proxies = {
            "blackhole": f"http://127.0.0.1:{hole}",
            "refused": f"http://127.0.0.1:{closed_port()}",
            "cached": f"http://127.0.0.1:{hole}",
        }
        full = bpe_cache(Path(tmp) / "full")
        for run in range(opts.runs):
            for framework in opts.frameworks:
                for network in opts.networks:
                    for instrumented in (False, True):
                        cache = (
                            full if network == "cached" else Path(tmp) / f"empty-{run}-{network}"
                        )
                        cell = (framework, network, instrumented)
                        results.setdefault(cell, []).append(
                            run_one(
                                framework,
                                instrumented,
                                network,
                                proxies[network],
                                cache,
                                opts.settle,
                            )
                        )
                print(f"  run {run + 1}/{opts.runs} done", file=sys.stderr, flush=True)

    lines = [
        "| framework | network | tokenizer cache | uninstrumented 1st call (ms) "
        "| instrumented 1st call (ms) | ratio | set-up (ms) | instrumented 2nd call (ms) "
        "| counts recorded | warnings per process |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    failures = []
    for framework in opts.frameworks:
        for network in opts.networks:
            bare = results[(framework, network, False)]
            inst = results[(framework, network, True)]
            base = statistics.median(r["first_ms"] for r in bare)
            first = statistics.median(r["first_ms"] for r in inst)
            second = statistics.median(r["second_ms"] for r in inst)
            setup = statistics.median(r["setup_ms"] for r in inst)
            ratio = first / base
            counted = sorted({r["counted"] for r in inst})
            warnings = sorted({r["warnings"] for r in inst})
            cache = "BPE files" if network == "cached" else "empty"
            lines.append(
                f"| {framework} | {network} | {cache} | {base:.1f} | {first:.1f} | {ratio:.2f} "
                f"| {setup:.1f} | {second:.1f} | {'/'.join('yes' if c else 'no' for c in counted)} "
                f"| {'/'.join(map(str, warnings))} |"
            )
            if network == "cached":
                if counted != [True]:
                    failures.append(f"{framework}: counts missing with the BPE files cached")
                continue
            if ratio > opts.max_ratio and first - base > opts.max_extra_ms:
                failures.append(f"{framework}/{network}: first call delayed ({ratio:.2f}x)")
            if counted != [False]:
                failures.append(f"{framework}/{network}: counts recorded with no tokenizer")
            # One warning per process, however many encodings failed (LlamaIndex's
            # pipeline needs two: o200k_base for gpt-4o-mini, cl100k_base for embeddings).
            expected = [1] if network == "refused" else [0]
            if warnings != expected:
                failures.append(f"{framework}/{network}: warnings {warnings}, expected {expected}")
    print(
        f"First call, instrumented vs not, median of {opts.runs} fresh processes per cell; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.\n"
    )
    print("\n".join(lines))
    print("\n" + ("OK: no offline first call is delayed." if not failures else "\n".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
