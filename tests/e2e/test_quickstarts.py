"""The quickstarts against real backends, each run as its own process, configured by OTEL_* only.

* Phoenix, over OTLP/HTTP and OTLP/gRPC: the spans Phoenix stores are exactly the spans the same
  process made (span ids, parents, names, every ``gen_ai.*`` / ``semtrace.*`` attribute, the
  evaluation events), their tree is the expected one, and the token counts Phoenix shows
  (``llm.token_count.*``) are the ones the spans carry. The in-process copy comes from
  ``quickstart_driver.py``, which runs the example's ``main()`` unchanged.
* Phoenix, running the example file itself (``python examples/x.py``) with a 60 s batch delay:
  only the exit hook of ``semtrace.configure()`` can send the spans, and all of them arrive.
* Prometheus (``OTEL_METRICS_EXPORTER=prometheus``): token usage, operation duration and the
  quality-signal histogram are queryable with their model / operation / evaluation labels and
  the values the spans carry.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backends import ManagedProcess, Phoenix, Prometheus, free_port, wait_until
from helpers import (
    DRIVER,
    EXAMPLES,
    assert_same_spans,
    assert_token_counts_shown,
    child_env,
    run_python,
    trace_id,
    tree_paths,
)

#: Each quickstart's spans as ``root > ... > name`` paths (see helpers.tree_paths).
EXPECTED_TREES: dict[str, list[str]] = {
    "langchain_quickstart.py": [
        "invoke_workflow RunnableSequence",
        "invoke_workflow RunnableSequence > chat gpt-4o-mini",
        "invoke_workflow RunnableSequence > retrieval InMemoryVectorStore",
    ],
    "llamaindex_quickstart.py": [
        # Building the index embeds the documents: a trace of its own, before the query's.
        "embeddings text-embedding-3-small",
        "invoke_workflow RetrieverQueryEngine",
        "invoke_workflow RetrieverQueryEngine > chat gpt-4o-mini",
        "invoke_workflow RetrieverQueryEngine > retrieval SimpleVectorStore",
        "invoke_workflow RetrieverQueryEngine > retrieval SimpleVectorStore"
        " > embeddings text-embedding-3-small",
    ],
}
QUICKSTARTS = sorted(EXPECTED_TREES)


def _project(example: str, what: str) -> str:
    return f"{Path(example).stem}-{what}-{uuid.uuid4().hex[:8]}"


def _otlp_env(phoenix: Phoenix, protocol: str, project: str, **extra: str) -> dict[str, str]:
    env = {
        "OTEL_SERVICE_NAME": f"e2e-{project}",
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
    }
    if protocol == "grpc":
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.grpc_endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="grpc"
        )
    else:
        env.update(OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.http_endpoint)
    return child_env(**env, **extra)


@dataclass
class MetricsRun:
    """A quickstart process serving /metrics on ``port`` after its main() returned."""

    proc: ManagedProcess
    port: int
    dump: Path


@pytest.fixture(scope="module")
def metrics_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, MetricsRun]]:
    """Each quickstart with OTEL_METRICS_EXPORTER=prometheus, all started at once, kept alive.

    ``quickstart_driver.py`` runs the example's ``main()``, dumps its spans, then lingers so
    Prometheus can scrape the ``/metrics`` endpoint ``configure()`` started.
    """
    tmp = tmp_path_factory.mktemp("quickstart-metrics")
    runs: dict[str, MetricsRun] = {}
    try:
        for example in QUICKSTARTS:
            port = free_port()
            dump = tmp / f"{Path(example).stem}.json"
            env = child_env(
                OTEL_METRICS_EXPORTER="prometheus",
                OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
                OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
                OTEL_TRACES_EXPORTER="none",
            )
            argv = [sys.executable, str(DRIVER), str(EXAMPLES / example)]
            argv += ["--dump", str(dump), "--linger", "600"]
            proc = ManagedProcess(example, argv, tmp / f"{Path(example).stem}.log", env=env)
            runs[example] = MetricsRun(proc, port, dump)
        yield runs
    finally:
        for run in runs.values():
            run.proc.stop()


@dataclass
class Run:
    """One quickstart process that exported to Phoenix, and what it reported."""

    project: str
    dump: Path | None  # the in-process spans (driver runs only)
    error: BaseException | None = None


#: (example, mode): "http" / "grpc" run the driver (dump of the in-process spans); "exit" runs
#: the example file itself with a 60 s batch delay, so only the exit hook can send its spans.
MODES = ("http", "grpc", "exit")


def _run(phoenix: Phoenix, example: str, mode: str, tmp: Path) -> Run:
    project = _project(example, mode)
    if mode == "exit":
        argv = [str(EXAMPLES / example)]
        env = _otlp_env(phoenix, "http/protobuf", project, OTEL_BSP_SCHEDULE_DELAY="60000")
        dump = None
    else:
        dump = tmp / f"{Path(example).stem}-{mode}.json"
        argv = [str(DRIVER), str(EXAMPLES / example), "--dump", str(dump)]
        env = _otlp_env(phoenix, "grpc" if mode == "grpc" else "http/protobuf", project)
    try:
        run_python(argv, env)
    except BaseException as exc:  # reported by the test that reads this run
        return Run(project, dump, exc)
    return Run(project, dump)


@pytest.fixture(scope="module")
def phoenix_runs(
    phoenix: Phoenix,
    tmp_path_factory: pytest.TempPathFactory,
    metrics_runs: dict[str, MetricsRun],  # started first: they run alongside, saving time
) -> dict[tuple[str, str], Run]:
    """Every quickstart x mode, run at once (separate processes, separate Phoenix projects)."""
    tmp = tmp_path_factory.mktemp("quickstarts")
    jobs = [(example, mode) for example in QUICKSTARTS for mode in MODES]
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {job: pool.submit(_run, phoenix, *job, tmp) for job in jobs}
        return {job: future.result() for job, future in futures.items()}


def _finished(run: Run) -> Run:
    if run.error is not None:
        raise run.error
    return run


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("example", QUICKSTARTS)
def test_quickstart_spans_arrive_in_phoenix_as_sent(
    phoenix: Phoenix, phoenix_runs: dict[tuple[str, str], Run], example: str, protocol: str
) -> None:
    run = _finished(phoenix_runs[(example, protocol)])
    assert run.dump is not None
    sent: list[dict[str, Any]] = json.loads(run.dump.read_text())
    assert tree_paths(sent) == EXPECTED_TREES[example]

    got = phoenix.wait_for_spans(run.project, len(sent), timeout=60)
    assert len(got) == len(sent), [s["name"] for s in got]
    roots = [p for p in EXPECTED_TREES[example] if " > " not in p]
    assert len({trace_id(s) for s in got}) == len(roots)  # one trace per root
    assert_same_spans(got, sent)
    assert tree_paths(got) == EXPECTED_TREES[example]
    assert_token_counts_shown(got)


@pytest.mark.parametrize("example", QUICKSTARTS)
def test_quickstart_script_loses_no_span_at_exit(
    phoenix: Phoenix, phoenix_runs: dict[tuple[str, str], Run], example: str
) -> None:
    """The example file as users run it; it never flushes, and the batch delay is 60 s."""
    run = _finished(phoenix_runs[(example, "exit")])
    want = EXPECTED_TREES[example]
    got = phoenix.wait_for_spans(run.project, len(want), timeout=60)
    assert tree_paths(got) == want
    assert_token_counts_shown(got)


def _by(results: list[dict[str, Any]], *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(r["metric"][k] for k in labels): float(r["value"][1]) for r in results}


@pytest.mark.parametrize("example", QUICKSTARTS)
def test_quickstart_metrics_are_queryable_in_prometheus(
    prometheus_server: Prometheus, metrics_runs: dict[str, MetricsRun], example: str
) -> None:
    run = metrics_runs[example]
    wait_until(run.dump.exists, 180, what=f"{example} to finish main()", proc=run.proc)
    spans: list[dict[str, Any]] = json.loads(run.dump.read_text())
    instance = f"127.0.0.1:{run.port}"
    prometheus_server.add_scrape_target(instance)
    sel = f'job="e2e",instance="{instance}"'

    # gen_ai.client.token.usage: one point per token type per model call, as on the spans.
    want_tokens: dict[tuple[str, ...], float] = defaultdict(float)
    want_calls: dict[tuple[str, ...], float] = defaultdict(float)
    for span in spans:
        a = span["attributes"]
        if "gen_ai.request.model" in a and a["gen_ai.operation.name"] in (
            "chat",
            "text_completion",
            "embeddings",
        ):
            key = (a["gen_ai.operation.name"], a["gen_ai.request.model"])
            want_calls[key] += 1
            for token_type in ("input", "output"):
                if f"gen_ai.usage.{token_type}_tokens" in a:
                    source = a["semtrace.usage.source"]
                    tokens = a[f"gen_ai.usage.{token_type}_tokens"]
                    token_key = (*key, token_type, source)
                    want_tokens[token_key] += tokens
    assert want_tokens, "the quickstart made no model call with usage"
    token_labels = (
        "gen_ai_operation_name",
        "gen_ai_request_model",
        "gen_ai_token_type",
        "semtrace_usage_source",
    )
    sums = prometheus_server.wait_for(
        f"sum by ({','.join(token_labels)}) (gen_ai_client_token_usage_sum{{{sel}}})",
        timeout=60,
    )
    assert _by(sums, *token_labels) == dict(want_tokens)

    # gen_ai.client.operation.duration: one point per model call, with model/operation labels.
    duration_labels = ("gen_ai_operation_name", "gen_ai_request_model")
    durations = prometheus_server.query(
        f"sum by ({','.join(duration_labels)}) "
        f"(gen_ai_client_operation_duration_seconds_count{{{sel}}})"
    )
    assert _by(durations, *duration_labels) == dict(want_calls)
    positive = prometheus_server.query(f"gen_ai_client_operation_duration_seconds_sum{{{sel}}} > 0")
    assert len(positive) == len(durations)

    # semtrace.quality.score: one point per score and per raised flag on the spans. Each signal
    # is the span attribute semtrace.quality.<name> (a score rounded to 4 places, or a flag as a
    # bool) with semtrace.quality.<name>.label; the metric records the unrounded value. Details
    # of a signal (groundedness.kind, sensitive_output.kinds) are strings: no point.
    want_count: dict[tuple[str, ...], float] = defaultdict(float)
    want_sum: dict[tuple[str, ...], float] = defaultdict(float)
    prefix = "semtrace.quality."
    for span in spans:
        a = span["attributes"]
        for attr, value in a.items():
            if not attr.startswith(prefix) or attr.endswith(".label") or value is False:
                continue
            if isinstance(value, (str, list)):
                continue
            quality_key = (attr[len(prefix) :], a[f"{attr}.label"], a["gen_ai.operation.name"])
            want_count[quality_key] += 1
            want_sum[quality_key] += float(value)
    assert want_count, "the quickstart evaluated nothing"
    quality_labels = (
        "gen_ai_evaluation_name",
        "gen_ai_evaluation_score_label",
        "gen_ai_operation_name",
    )
    by = f"sum by ({','.join(quality_labels)})"
    assert _by(
        prometheus_server.query(f"{by} (semtrace_quality_score_count{{{sel}}})"),
        *quality_labels,
    ) == dict(want_count)
    got_sum = _by(
        prometheus_server.query(f"{by} (semtrace_quality_score_sum{{{sel}}})"),
        *quality_labels,
    )
    assert got_sum == pytest.approx(dict(want_sum), abs=1e-3)

    info = prometheus_server.query(f"target_info{{{sel}}}")
    assert info and info[0]["metric"]["service_name"] == Path(example).stem.replace("_", "-")
