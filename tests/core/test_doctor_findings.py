"""Each of the doctor's findings, from real environment variables and installed packages."""

from __future__ import annotations

import importlib.metadata as md
import os
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from packaging.requirements import Requirement
from semtrace.doctor.export import traces_export
from semtrace.doctor.finding import Severity
from semtrace.doctor.packages import _distributions as installed
from semtrace.doctor.packages import check_range, duplicates_finding, integrations_finding
from semtrace.doctor.settings import (
    content_finding,
    exporter_finding,
    resource_finding,
    sampler_finding,
    tokenizer_finding,
)

from tests.core.otlp_servers import http_server


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith(("OTEL_", "SEMTRACE_"))]:
        monkeypatch.delenv(var)


# --- exporter, protocol, endpoint, headers ---------------------------------------------------


def test_without_an_endpoint_spans_print_as_the_tree() -> None:
    finding = exporter_finding()
    assert finding.severity is Severity.INFO
    assert finding.details["mode"] == "console"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in (finding.fix or "")


def test_exporter_none_turns_traces_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    finding = exporter_finding()
    assert (finding.severity, finding.details["mode"]) == (Severity.WARNING, "none")


def test_otlp_named_without_an_endpoint_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    finding = exporter_finding()
    assert (finding.severity, finding.details["mode"]) == (Severity.WARNING, "console")


def test_otlp_http_endpoint_protocol_and_masked_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example.com/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=abc123secret,x-empty=")
    finding = exporter_finding()
    assert finding.severity is Severity.OK
    assert finding.details["endpoint"] == "https://otlp.example.com/v1/traces"
    assert finding.details["protocol"] == "http/protobuf"
    assert finding.details["headers"] == {"x-honeycomb-team": "***", "x-empty": ""}
    assert "abc123secret" not in repr(finding.as_dict())


def test_signal_specific_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "a=1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2")
    plan = traces_export()
    assert (plan.endpoint, plan.protocol, plan.raw_headers) == ("http://b:4317", "grpc", {"b": "2"})
    assert plan.endpoint_variable == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def test_an_unknown_protocol_blocks_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    finding = exporter_finding()
    assert finding.severity is Severity.ERROR
    assert "'http/json' is not a protocol" in finding.summary


def test_header_entries_that_are_not_key_value_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=1,justakey")
    finding = exporter_finding()
    assert finding.severity is Severity.ERROR
    assert "1 of 2 entries" in (finding.fix or "")


def _one_span() -> ReadableSpan:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("doctor-test").start_span("probe").end()
    [span] = memory.get_finished_spans()
    return span


@pytest.mark.parametrize(
    ("endpoint", "sendable"),
    [
        ("http://127.0.0.1:{port}/v1/traces", True),
        ("127.0.0.1:{port}/v1/traces", False),  # no scheme
        ("localhost:{port}/v1/traces", False),  # "localhost" read as the scheme
        ("http://collector host:{port}/v1/traces", False),
        ("ftp://127.0.0.1:{port}/v1/traces", False),
        ("http://:{port}/v1/traces", False),  # no host
    ],
    ids=["ok", "no-scheme", "host-as-scheme", "space", "ftp", "no-host"],
)
def test_the_doctor_fails_exactly_the_http_endpoints_the_exporter_cannot_send_to(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, sendable: bool
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    with http_server() as (port, _):
        url = endpoint.format(port=port)
        exported = OTLPSpanExporter(endpoint=url, timeout=2).export([_one_span()])
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)
        finding = exporter_finding()
    assert (exported is SpanExportResult.SUCCESS) is sendable  # the exporter's own verdict
    assert (finding.severity is not Severity.ERROR) is sendable, finding


def test_a_grpc_endpoint_may_be_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert traces_export().endpoint_problem is None


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_a_header_value_the_exporter_cannot_send_blocks_export_unprinted(
    monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cr3t%0D%0Aevil")
    finding = exporter_finding()
    assert finding.severity is Severity.ERROR
    assert "'authorization'" in finding.summary
    assert "s3cr3t" not in finding.summary + (finding.fix or "") + repr(finding.details)


# --- resource, sampler, content ----------------------------------------------------------


def test_an_unset_service_name_is_a_warning() -> None:
    finding = resource_finding()
    assert finding.severity is Severity.WARNING
    assert finding.details["service.name"].startswith("unknown_service")


def test_service_name_and_resource_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "rag-api")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
    finding = resource_finding()
    assert finding.severity is Severity.OK
    assert finding.details["attributes"]["deployment.environment"] == "staging"
    assert finding.summary == "service.name=rag-api"


@pytest.mark.parametrize(
    ("sampler", "arg", "severity"),
    [
        (None, None, Severity.OK),
        ("always_off", None, Severity.ERROR),
        ("parentbased_always_off", None, Severity.ERROR),
        ("traceidratio", "0", Severity.ERROR),
        ("parentbased_traceidratio", "0.25", Severity.INFO),
        ("traceidratio", "1", Severity.OK),
        ("sometimes", None, Severity.WARNING),
    ],
)
def test_sampler(
    monkeypatch: pytest.MonkeyPatch, sampler: str | None, arg: str | None, severity: Severity
) -> None:
    if sampler:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
    if arg:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", arg)
    assert sampler_finding().severity is severity


def test_content_capture_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert content_finding().details["mode"] == "NO_CONTENT"
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "EVENT_ONLY")
    finding = content_finding()
    assert finding.details["mode"] == "EVENT_ONLY"
    assert "events" in finding.summary


# --- tokenizer ---------------------------------------------------------------------------


def test_encodings_available_offline() -> None:
    finding = tokenizer_finding()  # tests/conftest.py points TIKTOKEN_CACHE_DIR at tests/data
    assert finding.severity is Severity.OK
    assert {"o200k_base", "cl100k_base"} <= set(finding.details["offline"])


def test_an_empty_cache_is_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    finding = tokenizer_finding()
    assert finding.severity is Severity.WARNING
    assert finding.details["offline"] == []
    assert "TIKTOKEN_CACHE_DIR" in (finding.fix or "")


# --- integrations and framework ranges ------------------------------------------------------


def test_range_check_against_the_installed_langchain_core() -> None:
    installed = md.version("langchain-core")
    inside = check_range(f"langchain-core >= 0.3.0, <= {installed}", installed)
    outside = check_range(f"langchain-core < {installed}", installed)
    assert (inside.in_range, outside.in_range) == (True, False)
    assert check_range("langchain-core < 2", None).in_range is None


def test_the_installed_integrations_are_in_range() -> None:
    finding = integrations_finding()
    assert finding.severity is Severity.OK, finding
    rows = {r["integration"]: r for r in finding.details["integrations"]}
    assert rows["semtrace-langchain"]["installed"] == md.version("langchain-core")
    assert rows["semtrace-llamaindex"]["in_range"] is True


def test_declared_ranges_match_the_integrations_own() -> None:
    """The doctor reads the dists' `instruments` extra; the code declares `_instruments`."""
    from semtrace_langchain.package import _instruments as langchain
    from semtrace_llamaindex.package import _instruments as llamaindex

    rows = integrations_finding().details["integrations"]
    declared = {r["integration"]: f"{r['framework']}{r['supported']}" for r in rows}
    for dist, ranges in (("semtrace-langchain", langchain), ("semtrace-llamaindex", llamaindex)):
        req = Requirement(ranges[0])
        assert declared[dist] == f"{req.name}{req.specifier}"


def _fake_dist(
    root: Path, name: str, requires: list[str], entry_points: str, *more: str
) -> md.Distribution:
    """A real dist-info folder on disk, read by importlib.metadata like any install."""
    info = root / f"{name.replace('-', '_')}-9.9.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 9.9", *more]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "entry_points.txt").write_text(entry_points)
    return md.PathDistribution(info)


def test_a_framework_outside_the_declared_range_blocks_its_instrumentor(tmp_path: Path) -> None:
    installed = md.version("langchain-core")
    dist = _fake_dist(
        tmp_path,
        "semtrace-oldchain",
        [f"langchain-core<{installed}; extra == 'instruments'"],
        "[opentelemetry_instrumentor]\noldchain = x:Y\n",
    )
    finding = integrations_finding({"semtrace-oldchain": dist})
    assert finding.severity is Severity.ERROR
    assert f"langchain-core {installed} is outside" in finding.summary
    assert finding.details["integrations"][0]["in_range"] is False


def test_no_integration_installed_is_an_error() -> None:
    assert integrations_finding({}).severity is Severity.ERROR


# --- other GenAI instrumentations -------------------------------------------------------------


def test_the_official_openai_instrumentation_is_a_provider_level_note() -> None:
    # the dev group installs opentelemetry-instrumentation-genai-openai (and framework-level
    # ones, for semtrace.adopt's tests: left out here)
    dists = {n: d for n, d in installed().items() if not _framework_level(n)}
    finding = duplicates_finding(dists)
    assert finding.severity is Severity.INFO
    row = next(r for r in finding.details["packages"] if r["package"].endswith("genai-openai"))
    assert (row["origin"], row["level"]) == ("OpenTelemetry contrib", "provider")
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=openai" in row["what_to_do"]


def test_framework_level_duplicates_are_warnings_with_what_to_do(tmp_path: Path) -> None:
    dists = dict(installed())
    dists["openinference-instrumentation-langchain"] = _fake_dist(
        tmp_path / "oi",
        "openinference-instrumentation-langchain",
        [],
        "[opentelemetry_instrumentor]\nlangchain_oi = x:Y\n",
    )
    dists["opentelemetry-instrumentation-langchain"] = _fake_dist(
        tmp_path / "tl",
        "opentelemetry-instrumentation-langchain",
        [],
        "[opentelemetry_instrumentor]\nlangchain = x:Y\n",
        "Project-URL: Repository, https://github.com/traceloop/openllmetry",
    )
    finding = duplicates_finding(dists)
    assert finding.severity is Severity.WARNING
    rows = {r["package"]: r for r in finding.details["packages"]}
    oi = rows["openinference-instrumentation-langchain"]
    assert (oi["origin"], oi["level"]) == ("OpenInference", "framework")
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=langchain_oi" in oi["what_to_do"]
    tl = rows["opentelemetry-instrumentation-langchain"]
    assert tl["origin"] == "OpenLLMetry (Traceloop)"
    assert "only uninstalling works" in tl["what_to_do"]  # its entry point is named like ours


def test_nothing_else_installed() -> None:
    dists = {n: d for n, d in installed().items() if not _is_genai_instrumentation(n)}
    assert duplicates_finding(dists).severity is Severity.OK


def _framework_level(name: str) -> bool:
    return name.endswith(("-langchain", "-llama-index"))


def _is_genai_instrumentation(name: str) -> bool:
    # OpenLLMetry's instrumentation brings its conventions package (Traceloop's metadata)
    others = ("opentelemetry-instrumentation-langchain", "opentelemetry-semantic-conventions-ai")
    return name.startswith(("opentelemetry-instrumentation-genai-", "openinference-")) or (
        name in others
    )
