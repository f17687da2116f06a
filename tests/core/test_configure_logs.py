# ruff: noqa: F811 - the collector fixtures are imported, and then taken by name
"""semtrace.configure() and the GenAI events: logs export from the OTEL_* variables.

As in test_configure.py, each test runs a script in a fresh interpreter (global
providers can be set once per process), exporting to a local OTLP receiver.
"""

from __future__ import annotations

import json

from tests.core.test_configure import (  # noqa: F401 - the fixtures are used by name
    Collector,
    grpc_collector,
    http_collector,
    ok,
    run,
)

DETAILS = "gen_ai.client.inference.operation.details"

# One model call with content on events only, through a recorder on the global providers.
EMIT_EVENT = """
    import sys
    from semtrace import CaptureMode, Recorder, Settings
    from semtrace.export.setup import configure, flush
    from semtrace.records import Message, ModelEnd, ModelStart, TextPart

    providers = configure(service_name="svc")
    recorder = Recorder(Settings(capture=CaptureMode.EVENT_ONLY, background=False))
    recorder.start("c", None, ModelStart("openai", "gpt-4o", [Message("user", [TextPart("hi")])]))
    recorder.end("c", ModelEnd([Message("assistant", [TextPart("hello")])]))
    print(flush(10_000))
"""


def test_the_events_go_to_v1_logs_beside_traces(http_collector: Collector) -> None:
    ok(run(EMIT_EVENT, OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url))
    assert "/v1/logs" in http_collector.paths()
    [record] = http_collector.log_records()
    [span] = http_collector.spans()
    assert record.event_name == DETAILS
    assert (record.trace_id, record.span_id) == (span.trace_id, span.span_id)
    attrs = {a.key: a.value for a in record.attributes}
    assert attrs["gen_ai.operation.name"].string_value == "chat"
    assert attrs["gen_ai.provider.name"].string_value == "openai"
    # Content is a structured value (an array of maps), not JSON text.
    assert attrs["gen_ai.input.messages"].WhichOneof("value") == "array_value"


def test_the_events_go_over_grpc_when_the_protocol_is_grpc(grpc_collector: Collector) -> None:
    ok(
        run(
            EMIT_EVENT,
            OTEL_EXPORTER_OTLP_ENDPOINT=grpc_collector.url,
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        )
    )
    assert "LogsService" in grpc_collector.paths()
    assert [r.event_name for r in grpc_collector.log_records()] == [DETAILS]


def test_a_logs_endpoint_of_its_own_is_used_as_given(http_collector: Collector) -> None:
    ok(
        run(
            EMIT_EVENT,
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http_collector.url + "/v1/traces",
            OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http_collector.url + "/custom/logs",
        )
    )
    assert http_collector.paths() == {"/v1/traces", "/custom/logs"}


def test_logs_exporter_none_sends_no_events(http_collector: Collector) -> None:
    ok(run(EMIT_EVENT, OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url, OTEL_LOGS_EXPORTER="none"))
    assert "/v1/logs" not in http_collector.paths()
    assert http_collector.spans()


def test_logs_exporter_console_prints_one_line_per_event() -> None:
    result = ok(run(EMIT_EVENT, OTEL_LOGS_EXPORTER="console"))
    lines = [line for line in result.stderr.splitlines() if DETAILS in line]
    [line] = lines
    assert json.loads(line)["event_name"] == DETAILS
    assert "chat gpt-4o" in result.stderr  # the tree, as before


def test_without_endpoint_or_logs_exporter_no_logger_provider_is_set() -> None:
    script = (
        EMIT_EVENT
        + """
    from opentelemetry.sdk._logs import LoggerProvider
    print(isinstance(providers.logger_provider, LoggerProvider))
    """
    )
    result = ok(run(script))
    assert result.stdout.split() == ["True", "False"]
    assert DETAILS not in result.stderr  # the console tree stays as it was


def test_langfuse_gets_no_events(http_collector: Collector) -> None:
    endpoint = http_collector.url + "/api/public/otel"
    ok(run(EMIT_EVENT, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint))
    assert "/api/public/otel/v1/traces" in http_collector.paths()
    assert not [path for path in http_collector.paths() if path.endswith("/v1/logs")]


def test_with_langfuse_a_logs_endpoint_of_its_own_still_gets_the_events(
    http_collector: Collector,
) -> None:
    ok(
        run(
            EMIT_EVENT,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url + "/api/public/otel",
            OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http_collector.url + "/v1/logs",
        )
    )
    assert {"/api/public/otel/v1/traces", "/v1/logs"} <= http_collector.paths()
    assert "/api/public/otel/v1/logs" not in http_collector.paths()


def test_an_existing_logger_provider_is_not_replaced(http_collector: Collector) -> None:
    app_provider = """
    from opentelemetry import _logs
    from opentelemetry.sdk._logs import LoggerProvider, export

    mine = LoggerProvider()
    memory = getattr(export, "InMemoryLogRecordExporter", None) or export.InMemoryLogExporter
    exporter = memory()
    mine.add_log_record_processor(export.SimpleLogRecordProcessor(exporter))
    _logs.set_logger_provider(mine)
"""
    script = app_provider + EMIT_EVENT.replace(
        "    print(flush(10_000))",
        "    print(flush(10_000), providers.logger_provider is mine,"
        " [r.log_record.event_name for r in exporter.get_finished_logs()])",
    )
    result = ok(run(script, OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url))
    assert result.stdout.strip() == f"True True ['{DETAILS}']"
    assert result.stderr == ""  # not even OpenTelemetry's "overriding is not allowed"
    assert "/v1/logs" not in http_collector.paths()


def test_an_unreachable_logs_endpoint_never_breaks_the_app(http_collector: Collector) -> None:
    result = ok(
        run(
            EMIT_EVENT + "\n    print('still running')",
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http_collector.url + "/v1/traces",
            OTEL_EXPORTER_OTLP_LOGS_ENDPOINT="http://127.0.0.1:9/v1/logs",
            OTEL_EXPORTER_OTLP_LOGS_TIMEOUT="1",
        )
    )
    assert result.stdout.split()[-2:] == ["still", "running"]
    assert http_collector.spans()


def test_events_of_runs_still_ending_at_exit_are_exported_without_flush(
    http_collector: Collector,
) -> None:
    script = EMIT_EVENT.replace("background=False", "background=True").replace(
        "    print(flush(10_000))", ""
    )
    ok(run(script, OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url))
    assert [r.event_name for r in http_collector.log_records()] == [DETAILS]


def test_the_phoenix_view_sends_no_events_by_default(http_collector: Collector) -> None:
    ok(
        run(
            EMIT_EVENT,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            SEMTRACE_BACKEND_VIEW="phoenix",
        )
    )
    assert "/v1/traces" in http_collector.paths()
    assert "/v1/logs" not in http_collector.paths()


def test_logs_exporter_otlp_sends_the_events_whatever_the_view(http_collector: Collector) -> None:
    # Behind a collector with a logs pipeline, the view names the backend the traces reach.
    ok(
        run(
            EMIT_EVENT,
            OTEL_EXPORTER_OTLP_ENDPOINT=http_collector.url,
            SEMTRACE_BACKEND_VIEW="phoenix",
            OTEL_LOGS_EXPORTER="otlp",
        )
    )
    assert [r.event_name for r in http_collector.log_records()] == [DETAILS]
