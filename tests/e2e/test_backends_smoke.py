"""Smoke tests of the e2e backends with the plain OpenTelemetry SDK (no semtrace code).

They pin down what the real backends report, for the semtrace e2e tests to build on:

* Phoenix: a 3-span gen_ai trace sent over OTLP/HTTP and OTLP/gRPC comes back with the same
  trace/span/parent ids, names and ``gen_ai.*`` attributes (flat dict, dotted keys, native
  types; Phoenix adds derived ``llm.*`` attributes, so attributes are compared as a subset).
* Prometheus: an OTel histogram ``gen_ai.client.token.usage`` (unit ``{token}``) exported by
  ``PrometheusMetricReader`` is scraped as ``gen_ai_client_token_usage_{bucket,sum,count}``
  with labels ``gen_ai_operation_name``, ``gen_ai_request_model``, ``gen_ai_token_type``,
  ``otel_scope_name`` (+ ``le``, ``job``, ``instance``); resource attributes go to
  ``target_info``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from backends import (
    ManagedProcess,
    Phoenix,
    Prometheus,
    is_loopback,
    listening_addresses,
    wait_until,
)

ROOT_ATTRS: dict[str, Any] = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": "weather_agent",
    "gen_ai.provider.name": "openai",
}
CHAT_ATTRS: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.request.temperature": 0.25,
    "gen_ai.request.max_tokens": 256,
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 5,
    "gen_ai.response.finish_reasons": ["stop"],
    "gen_ai.response.id": "chatcmpl-e2e",
}
TOOL_ATTRS: dict[str, Any] = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "get_weather",
    "gen_ai.tool.call.id": "call_e2e_1",
    "gen_ai.tool.type": "function",
}
SPANS = {
    "root": ("invoke_agent weather_agent", ROOT_ATTRS),
    "chat": ("chat gpt-4o", CHAT_ATTRS),
    "tool": ("execute_tool get_weather", TOOL_ATTRS),
}

# Runs in a child process with the project's interpreter: plain OTel SDK, BatchSpanProcessor.
# Exits 1 unless every export reported SUCCESS; prints the ids it generated as JSON.
TRACE_EMITTER = r"""
import json, sys
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind

cfg = json.loads(sys.argv[1])
if cfg["protocol"] == "http":
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=cfg["endpoint"], timeout=10)
else:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=cfg["endpoint"], insecure=True, timeout=10)

results = []
_export = exporter.export
def export(spans, *a, **kw):
    r = _export(spans, *a, **kw)
    results.append((len(spans), r))
    return r
exporter.export = export

provider = TracerProvider(resource=Resource.create(cfg["resource"]))
provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
tracer = provider.get_tracer("semtrace.e2e.smoke")
spans = cfg["spans"]
ids = {}
with tracer.start_as_current_span(spans["root"][0], attributes=spans["root"][1]) as root:
    with tracer.start_as_current_span(
        spans["chat"][0], kind=SpanKind.CLIENT, attributes=spans["chat"][1]
    ) as chat:
        pass
    with tracer.start_as_current_span(spans["tool"][0], attributes=spans["tool"][1]) as tool:
        pass
for key, span in (("root", root), ("chat", chat), ("tool", tool)):
    ctx = span.get_span_context()
    ids[key] = format(ctx.span_id, "016x")
    ids["trace_id"] = format(ctx.trace_id, "032x")
provider.shutdown()
print(json.dumps({"ids": ids, "exports": [(n, str(r)) for n, r in results]}))
sent = sum(n for n, r in results if r == SpanExportResult.SUCCESS)
sys.exit(0 if sent == 3 else 1)
"""

# Records the gen_ai.client.token.usage histogram and serves it on /metrics (loopback, port 0),
# writes the port to argv[1], then stays up until killed.
METRICS_EMITTER = r"""
import json, os, sys, time
from prometheus_client import start_http_server
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource

server, _thread = start_http_server(0, addr="127.0.0.1")
provider = MeterProvider(
    resource=Resource.create({"service.name": "semtrace-e2e-metrics"}),
    metric_readers=[PrometheusMetricReader()],
)
histogram = provider.get_meter("semtrace.e2e.smoke").create_histogram(
    "gen_ai.client.token.usage",
    unit="{token}",
    description="Measures number of input and output tokens used",
    explicit_bucket_boundaries_advisory=[
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
    ],
)
common = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
histogram.record(12, {**common, "gen_ai.token.type": "input"})
histogram.record(5, {**common, "gen_ai.token.type": "output"})
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump({"port": server.server_port}, f)
os.replace(tmp, sys.argv[1])
while True:
    time.sleep(1)
"""


def _child_env() -> dict[str, str]:
    # No OTEL_* from the outer environment may redirect or alter the exporters.
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


def _assert_loopback_only(port: int, what: str) -> None:
    addrs = listening_addresses(port)
    assert addrs, f"{what}: nothing listening on port {port}"
    assert all(is_loopback(a) for a in addrs), f"{what} listens on non-loopback {addrs}"


def test_phoenix_listens_on_loopback_only(phoenix: Phoenix) -> None:
    _assert_loopback_only(phoenix.http_port, "Phoenix HTTP")
    _assert_loopback_only(phoenix.grpc_port, "Phoenix OTLP gRPC")


def test_prometheus_listens_on_loopback_only(prometheus_server: Prometheus) -> None:
    _assert_loopback_only(prometheus_server.port, "Prometheus")


@pytest.mark.parametrize(
    ("protocol", "own_project"),
    [
        # With openinference.project.name the spans land in that project ...
        ("http", True),
        # ... without it in "default" (service.name does NOT pick the project).
        ("grpc", False),
    ],
    ids=["otlp-http-own-project", "otlp-grpc-default-project"],
)
def test_phoenix_receives_gen_ai_trace(phoenix: Phoenix, protocol: str, own_project: bool) -> None:
    resource: dict[str, Any] = {"service.name": f"semtrace-e2e-{protocol}"}
    project = f"semtrace-e2e-{protocol}-{uuid.uuid4().hex[:8]}" if own_project else None
    if project:
        resource["openinference.project.name"] = project
    endpoint = phoenix.otlp_http_traces_endpoint if protocol == "http" else phoenix.grpc_endpoint
    cfg = {"protocol": protocol, "endpoint": endpoint, "resource": resource, "spans": SPANS}
    run = subprocess.run(
        [sys.executable, "-c", TRACE_EMITTER, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_child_env(),
    )
    assert run.returncode == 0, f"emitter failed:\n{run.stdout}\n{run.stderr[-3000:]}"
    ids = json.loads(run.stdout.strip().splitlines()[-1])["ids"]

    got = phoenix.wait_for_spans(project or "default", 3, timeout=30, trace_id=ids["trace_id"])
    assert len(got) == 3, [s["name"] for s in got]
    by_id = {s["context"]["span_id"]: s for s in got}
    assert set(by_id) == {ids["root"], ids["chat"], ids["tool"]}
    expected_parent = {"root": None, "chat": ids["root"], "tool": ids["root"]}
    for key, (name, attrs) in SPANS.items():
        span = by_id[ids[key]]
        assert span["context"]["trace_id"] == ids["trace_id"]
        assert span["name"] == name
        assert span["parent_id"] == expected_parent[key]
        # Flat dotted keys with native JSON types; Phoenix may add derived llm.* keys.
        missing = {k: v for k, v in attrs.items() if span["attributes"].get(k) != v}
        assert not missing, f"{name}: sent {missing}, Phoenix has {span['attributes']}"
    # Phoenix derives OpenInference attributes from gen_ai.* (documented in backends.py).
    chat = by_id[ids["chat"]]
    assert chat["attributes"].get("llm.model_name") == "gpt-4o", chat["attributes"]
    assert chat["attributes"].get("llm.token_count.prompt") == 12, chat["attributes"]


def test_prometheus_scrapes_gen_ai_token_usage(
    prometheus_server: Prometheus, tmp_path: Path
) -> None:
    port_file = tmp_path / "metrics-port.json"
    proc = ManagedProcess(
        "metrics-emitter",
        [sys.executable, "-c", METRICS_EMITTER, str(port_file)],
        tmp_path / "metrics-emitter.log",
        env=_child_env(),
    )
    try:
        port = wait_until(
            lambda: port_file.exists() and json.loads(port_file.read_text())["port"],
            60,
            what="metrics emitter to serve /metrics",
            proc=proc,
        )
        instance = f"127.0.0.1:{port}"
        prometheus_server.add_scrape_target(instance)
        sel = f'job="e2e",instance="{instance}"'

        sums = prometheus_server.wait_for(f"gen_ai_client_token_usage_sum{{{sel}}}", timeout=30)
        assert len(sums) == 2, sums
        by_type = {r["metric"]["gen_ai_token_type"]: r for r in sums}
        assert set(by_type) == {"input", "output"}
        assert float(by_type["input"]["value"][1]) == 12
        assert float(by_type["output"]["value"][1]) == 5
        labels = by_type["input"]["metric"]
        assert labels["__name__"] == "gen_ai_client_token_usage_sum"
        assert labels["gen_ai_operation_name"] == "chat"
        assert labels["gen_ai_request_model"] == "gpt-4o"
        assert labels["otel_scope_name"] == "semtrace.e2e.smoke"

        counts = prometheus_server.query(f"gen_ai_client_token_usage_count{{{sel}}}")
        assert sorted(float(r["value"][1]) for r in counts) == [1, 1]
        buckets = prometheus_server.query(
            f'gen_ai_client_token_usage_bucket{{{sel},gen_ai_token_type="input"}}'
        )
        le = {r["metric"]["le"]: float(r["value"][1]) for r in buckets}
        assert le["4"] == 0 and le["16"] == 1 and le["+Inf"] == 1, le
        quantile = prometheus_server.query(
            "histogram_quantile(1, sum by (le, gen_ai_token_type) "
            f'(gen_ai_client_token_usage_bucket{{{sel},gen_ai_token_type="input"}}))'
        )
        assert quantile and float(quantile[0]["value"][1]) == 16  # upper bound of its bucket

        info = prometheus_server.query(f"target_info{{{sel}}}")
        assert info and info[0]["metric"]["service_name"] == "semtrace-e2e-metrics"
    finally:
        proc.stop()
