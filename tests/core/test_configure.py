"""semtrace.configure(): exporters chosen from OTEL_* variables, globals respected.

OpenTelemetry's global providers can be set only once per process, so each test runs
a small script in a fresh interpreter with a clean environment, exporting to a stdlib
HTTP server (or a gRPC server) started on 127.0.0.1 by the test.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


@dataclass
class Collector:
    """What an OTLP receiver got: (path or gRPC service, request) pairs."""

    url: str
    requests: list[tuple[str, Any]] = field(default_factory=list)

    def span_names(self) -> list[str]:
        return sorted(
            span.name
            for path, req in self.requests
            if isinstance(req, trace_service_pb2.ExportTraceServiceRequest)
            for rs in req.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        )

    def metric_names(self) -> list[str]:
        return sorted(
            metric.name
            for path, req in self.requests
            if isinstance(req, metrics_service_pb2.ExportMetricsServiceRequest)
            for rm in req.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
        )

    def log_records(self) -> list[Any]:
        """Every log record received (each with ``event_name``, ``trace_id``, ``attributes``)."""
        return [
            record
            for path, req in self.requests
            if isinstance(req, logs_service_pb2.ExportLogsServiceRequest)
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for record in sl.log_records
        ]

    def spans(self) -> list[Any]:
        return [
            span
            for path, req in self.requests
            if isinstance(req, trace_service_pb2.ExportTraceServiceRequest)
            for rs in req.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]

    def paths(self) -> set[str]:
        return {path for path, _ in self.requests}


@pytest.fixture
def http_collector() -> Iterator[Collector]:
    collector = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if "metrics" in self.path:
                req: Any = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
            elif "logs" in self.path:
                req = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
            else:
                req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            collector.requests.append((self.path, req))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    collector.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield collector
    server.shutdown()
    server.server_close()


@pytest.fixture
def grpc_collector() -> Iterator[Collector]:
    collector = Collector(url="")

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            collector.requests.append(("TraceService", request))
            return trace_service_pb2.ExportTraceServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            collector.requests.append(("MetricsService", request))
            return metrics_service_pb2.ExportMetricsServiceResponse()

    class Logs(logs_service_pb2_grpc.LogsServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:
            collector.requests.append(("LogsService", request))
            return logs_service_pb2.ExportLogsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    collector.url = f"http://127.0.0.1:{port}"
    yield collector
    server.stop(grace=None)


def run(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a script in a fresh interpreter, with no OTEL_*/SEMTRACE_* variables but ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


# Makes a root span with one child and one counter point, then flushes.
EMIT = """
    from opentelemetry import metrics, trace
    from semtrace.export.setup import configure, flush

    providers = configure(service_name="svc")
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("child"):
            pass
    metrics.get_meter("test").create_counter("calls").add(1)
    assert flush(10_000)
"""


def test_otlp_http_is_used_when_endpoint_is_set_with_signal_paths_appended(
    http_collector: Collector,
) -> None:
    ok(run(EMIT, OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url))
    assert http_collector.paths() == {"/v1/traces", "/v1/metrics"}
    assert http_collector.span_names() == ["child", "root"]
    assert set(http_collector.metric_names()) == {"calls"}  # at flush and again at exit


def test_otlp_http_tolerates_trailing_slash_on_endpoint(http_collector: Collector) -> None:
    ok(run(EMIT, OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url + "/"))
    assert http_collector.paths() == {"/v1/traces", "/v1/metrics"}


def test_signal_specific_traces_endpoint_is_used_as_given_and_metrics_stay_off(
    http_collector: Collector,
) -> None:
    script = (
        EMIT
        + """
    from opentelemetry.sdk.metrics import MeterProvider
    print(isinstance(providers.meter_provider, MeterProvider))
    """
    )
    result = ok(
        run(script, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http_collector.url + "/custom/traces")
    )
    assert http_collector.paths() == {"/custom/traces"}
    assert http_collector.span_names() == ["child", "root"]
    assert result.stdout.strip() == "False"


def test_grpc_is_used_when_protocol_is_grpc(grpc_collector: Collector) -> None:
    ok(
        run(
            EMIT,
            OTEL_EXPORTER_OTLP_ENDPOINT=grpc_collector.url,
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        )
    )
    assert grpc_collector.paths() == {"TraceService", "MetricsService"}
    assert grpc_collector.span_names() == ["child", "root"]
    assert set(grpc_collector.metric_names()) == {"calls"}  # at flush and again at exit


def test_signal_specific_protocol_wins_over_the_general_one(http_collector: Collector) -> None:
    ok(
        run(
            EMIT,
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http_collector.url + "/v1/traces",
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/protobuf",
        )
    )
    assert http_collector.span_names() == ["child", "root"]


def test_unknown_protocol_raises_value_error_and_sets_no_provider() -> None:
    result = ok(
        run(
            """
            from opentelemetry import trace
            from semtrace.export.setup import configure
            try:
                configure()
            except ValueError as exc:
                print(exc)
            print(type(trace.get_tracer_provider()).__name__)
            """,
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
        )
    )
    message, provider = result.stdout.strip().splitlines()
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='http/json'" in message
    assert "http/protobuf, grpc" in message
    assert provider == "ProxyTracerProvider"


def test_grpc_without_its_exporter_installed_raises_naming_the_extra() -> None:
    result = ok(
        run(
            """
            import sys
            sys.modules["opentelemetry.exporter.otlp.proto.grpc"] = None  # not installed
            from semtrace.export.setup import configure
            try:
                configure()
            except ImportError as exc:
                print(exc)
            """,
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        )
    )
    assert 'pip install "semtrace[grpc]"' in result.stdout


def test_without_endpoint_the_tree_goes_to_stderr_and_metrics_are_not_exported() -> None:
    result = ok(
        run(
            EMIT
            + """
    print(type(providers.tracer_provider).__module__, type(providers.meter_provider).__name__)
    """
        )
    )
    assert result.stdout.strip() == "opentelemetry.sdk.trace _ProxyMeterProvider"
    lines = result.stderr.splitlines()
    assert lines[0].startswith("root  ")
    assert lines[1].startswith("└── child  ")
    assert len(lines) == 2


def test_console_true_prints_the_tree_alongside_otlp(http_collector: Collector) -> None:
    result = ok(
        run(
            """
            import sys
            from opentelemetry import trace
            from semtrace.export.setup import configure, flush

            configure(console=True, file=sys.stdout)
            with trace.get_tracer("test").start_as_current_span("root"):
                pass
            assert flush(10_000)
            """,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            OTEL_METRICS_EXPORTER="none",
        )
    )
    assert result.stdout.startswith("root  ")
    assert http_collector.span_names() == ["root"]


def test_console_false_prints_nothing() -> None:
    result = ok(run(EMIT.replace('service_name="svc"', "console=False")))
    assert result.stdout == ""
    assert result.stderr == ""


def test_traces_exporter_none_turns_off_otlp_and_the_default_tree(
    http_collector: Collector,
) -> None:
    result = ok(
        run(
            EMIT,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            OTEL_TRACES_EXPORTER="none",
            OTEL_METRICS_EXPORTER="none",
        )
    )
    assert http_collector.requests == []
    assert result.stderr == ""


def test_resource_has_service_name_argument_and_env_attributes() -> None:
    result = ok(
        run(
            EMIT.replace("assert flush(10_000)", "")
            + """
    import json
    print(json.dumps(dict(providers.tracer_provider.resource.attributes)))
    """,
            OTEL_SERVICE_NAME="from-env",
            OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=test",
        )
    )
    attributes = json.loads(result.stdout)
    assert attributes["service.name"] == "svc"  # the explicit argument wins
    assert attributes["deployment.environment.name"] == "test"


def test_existing_sdk_tracer_provider_is_not_replaced() -> None:
    result = ok(
        run(
            """
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
            from semtrace.export.setup import configure

            memory = InMemorySpanExporter()
            app = TracerProvider()
            app.add_span_processor(SimpleSpanProcessor(memory))
            trace.set_tracer_provider(app)

            providers = configure(console=True)
            trace.get_tracer("t").start_span("s").end()
            print(providers.tracer_provider is app, [s.name for s in memory.get_finished_spans()])
            """
        )
    )
    assert result.stdout.strip() == "True ['s']"
    assert result.stderr == ""  # no tree added to the app's provider, no warning


def test_existing_sdk_meter_provider_is_not_replaced(http_collector: Collector) -> None:
    result = ok(
        run(
            """
            from opentelemetry import metrics
            from opentelemetry.sdk.metrics import MeterProvider
            from semtrace.export.setup import configure

            app = MeterProvider()
            metrics.set_meter_provider(app)
            providers = configure()
            print(providers.meter_provider is app, metrics.get_meter_provider() is app)
            """,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
        )
    )
    assert result.stdout.strip() == "True True"
    assert result.stderr == ""


def test_configure_twice_is_a_no_op_returning_the_same_providers() -> None:
    result = ok(
        run(
            """
            from opentelemetry import trace
            from semtrace.export.setup import configure

            first = configure()
            second = configure(console=False, service_name="other")
            print(first is second, trace.get_tracer_provider() is first.tracer_provider)
            """
        )
    )
    assert result.stdout.strip() == "True True"


def test_spans_queued_at_exit_are_exported_without_explicit_flush(
    http_collector: Collector,
) -> None:
    ok(
        run(
            """
            from opentelemetry import trace
            from semtrace.export.setup import configure

            configure()
            tracer = trace.get_tracer("test")
            for i in range(50):
                with tracer.start_as_current_span(f"span-{i:02d}"):
                    pass
            """,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            OTEL_METRICS_EXPORTER="none",
            OTEL_BSP_SCHEDULE_DELAY="60000",  # only the exit hook can send them in time
        )
    )
    assert http_collector.span_names() == [f"span-{i:02d}" for i in range(50)]


def test_flush_and_shutdown_without_configure_are_harmless() -> None:
    result = ok(
        run(
            """
            from semtrace.export.setup import flush, shutdown
            print(flush(1000))
            shutdown()
            """
        )
    )
    assert result.stdout.strip() == "True"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _samples(exposition: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text format -> {metric name: [(labels, value)]} (comments skipped)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in exposition.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if match:
            name, labels, value = match.groups()
            pairs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels or ""))
            out.setdefault(name, []).append((pairs, float(value)))
    return out


# Records a span and a histogram point, then prints what its own /metrics endpoint serves.
SCRAPE_SELF = """
    import os, urllib.request
    from opentelemetry import metrics, trace
    from semtrace.export.setup import configure, flush

    providers = configure(service_name="svc")
    with trace.get_tracer("test").start_as_current_span("root"):
        pass
    histogram = metrics.get_meter("test").create_histogram("gen_ai.client.token.usage", "{token}")
    histogram.record(7, {"gen_ai.token.type": "input", "gen_ai.request.model": "m"})
    url = f"http://127.0.0.1:{os.environ['OTEL_EXPORTER_PROMETHEUS_PORT']}/metrics"
    print(urllib.request.urlopen(url, timeout=10).read().decode())
    assert flush(10_000)
"""


def test_prometheus_exporter_serves_metrics_and_turns_otlp_metrics_off(
    http_collector: Collector,
) -> None:
    port = _free_port()
    result = ok(
        run(
            SCRAPE_SELF,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            OTEL_METRICS_EXPORTER="prometheus",
            OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
            OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
        )
    )
    samples = _samples(result.stdout)
    [(labels, value)] = samples["gen_ai_client_token_usage_sum"]
    assert value == 7
    assert labels["gen_ai_request_model"] == "m" and labels["gen_ai_token_type"] == "input"
    assert labels["otel_scope_name"] == "test"
    [(info, _)] = samples["target_info"]
    assert info["service_name"] == "svc"
    # Traces still go over OTLP; metrics do not (the list does not name otlp).
    assert http_collector.paths() == {"/v1/traces"}
    assert http_collector.span_names() == ["root"]


def test_prometheus_and_otlp_metrics_together(http_collector: Collector) -> None:
    port = _free_port()
    result = ok(
        run(
            SCRAPE_SELF,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            OTEL_METRICS_EXPORTER="otlp, prometheus",
            OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
            OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
        )
    )
    assert "gen_ai_client_token_usage_count{" in result.stdout
    assert http_collector.paths() == {"/v1/traces", "/v1/metrics"}
    assert "gen_ai.client.token.usage" in http_collector.metric_names()


def test_prometheus_needs_no_otlp_endpoint() -> None:
    port = _free_port()
    result = ok(
        run(
            SCRAPE_SELF,
            OTEL_METRICS_EXPORTER="prometheus",
            OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
            OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
        )
    )
    assert "gen_ai_client_token_usage_bucket{" in result.stdout
    assert result.stderr.startswith("root  ")  # traces: the console tree, as without Prometheus


def test_prometheus_defaults_to_the_spec_host_and_port() -> None:
    result = ok(
        run(
            """
            from unittest import mock
            import prometheus_client
            from semtrace.export.setup import configure

            with mock.patch.object(prometheus_client, "start_http_server") as start:
                configure()
            print(start.call_args)
            """,
            OTEL_METRICS_EXPORTER="prometheus",
        )
    )
    assert result.stdout.strip() == "call(9464, addr='localhost')"


def test_prometheus_without_its_exporter_installed_raises_naming_the_extra() -> None:
    result = ok(
        run(
            """
            import sys
            sys.modules["opentelemetry.exporter.prometheus"] = None  # not installed
            from opentelemetry import metrics
            from semtrace.export.setup import configure
            try:
                configure()
            except ImportError as exc:
                print(exc)
            print(type(metrics.get_meter_provider()).__name__)
            """,
            OTEL_METRICS_EXPORTER="prometheus",
        )
    )
    message, provider = result.stdout.strip().splitlines()
    assert 'pip install "semtrace[prometheus]"' in message
    assert provider == "_ProxyMeterProvider"


def test_prometheus_port_in_use_raises_oserror_and_sets_no_provider() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = ok(
            run(
                """
                from opentelemetry import metrics, trace
                from semtrace.export.setup import configure
                try:
                    configure()
                except OSError as exc:
                    print(exc)
                print(type(trace.get_tracer_provider()).__name__)
                print(type(metrics.get_meter_provider()).__name__)
                """,
                OTEL_METRICS_EXPORTER="prometheus",
                OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
                OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
            )
        )
    message, tracer_provider, meter_provider = result.stdout.strip().splitlines()
    assert f"127.0.0.1:{port}" in message and "OTEL_EXPORTER_PROMETHEUS_PORT" in message
    assert (tracer_provider, meter_provider) == ("ProxyTracerProvider", "_ProxyMeterProvider")
