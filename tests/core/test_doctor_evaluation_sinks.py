"""``semtrace doctor`` reports the evaluation sinks and probes each backend, sending no evaluation.

Every backend is a real local server (tests/core/evaluation_servers.py) answering as the
real one would: 200 for a good key, 401/403 for a bad one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from semtrace.doctor.evaluations import evaluation_sinks_finding
from semtrace.doctor.export import traces_export
from semtrace.doctor.finding import Finding, Severity

from tests.core.evaluation_servers import Backend, backend
from tests.core.test_evaluation_sink_backends import ENV

TIMEOUT = 3.0


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    yield


def _finding(probe: bool = True) -> Finding:
    return evaluation_sinks_finding(traces_export(), probe, TIMEOUT)


def _no_evaluation_sent(server: Backend) -> None:
    assert server.requests and not server.posts()


def test_no_sink_is_reported_with_how_to_turn_one_on() -> None:
    finding = _finding()
    assert finding.severity is Severity.INFO
    assert "none" in finding.summary
    assert finding.fix and "SEMTRACE_EVALUATION_SINKS" in finding.fix


def test_phoenix_reachable_and_key_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    with backend([200]) as server:
        monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "phoenix")
        monkeypatch.setenv("PHOENIX_COLLECTOR_ENDPOINT", server.url)
        monkeypatch.setenv("PHOENIX_API_KEY", "px-key")
        finding = _finding()
    assert finding.severity is Severity.OK, finding
    assert finding.details["phoenix"]["target"] == f"{server.url}/v1/span_annotations"
    [request] = server.requests
    assert (request.method, request.path) == ("GET", "/v1/projects?limit=1")
    assert request.headers["authorization"] == "Bearer px-key"
    _no_evaluation_sent(server)


def test_a_refused_langfuse_key_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with backend([200, 401]) as server:  # health answers, the authenticated read does not
        monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "langfuse")
        monkeypatch.setenv("LANGFUSE_HOST", server.url)
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "wrong")
        finding = _finding()
    assert finding.severity is Severity.WARNING
    assert finding.details["langfuse"]["probe"] == {
        "reachable": "yes (HTTP 200)",
        "credentials accepted": "no (HTTP 401)",
    }
    assert [r.path for r in server.requests] == ["/api/public/health", "/api/public/projects"]
    _no_evaluation_sent(server)


def test_datadogs_key_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from semtrace.export.evaluations import registry

    with backend([200], reply=b'{"valid": true}') as server:
        monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "datadog")
        monkeypatch.setenv("DD_API_KEY", "dd-key")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "rag-demo")
        original = registry.build

        def build_here(name: str, service_name: str | None = None):  # type: ignore[no-untyped-def]
            sink = original(name, service_name)
            sink.base_url = server.url  # the same sink, its API at the local server
            return sink

        monkeypatch.setattr(registry, "build", build_here)
        finding = _finding()
    assert finding.severity is Severity.OK, finding
    [request] = server.requests
    assert (request.path, request.headers["dd-api-key"]) == ("/api/v1/validate", "dd-key")


def test_an_unreachable_backend_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with backend() as server:
        url = server.url  # nothing listens there once the block ends
    monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "phoenix")
    monkeypatch.setenv("PHOENIX_COLLECTOR_ENDPOINT", url)
    finding = _finding()
    assert finding.severity is Severity.WARNING
    assert "unreachable" in finding.details["phoenix"]["probe"]["reachable, credentials accepted"]


def test_a_named_sink_that_cannot_work_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "datadog")
    finding = _finding(probe=False)
    assert finding.severity is Severity.ERROR
    assert "DD_API_KEY" in finding.details["datadog"]["problem"]


def test_the_langfuse_views_sink_is_reported_from_the_otlp_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://cloud.langfuse.com/api/public/otel")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20cGs6c2s=")
    finding = _finding(probe=False)
    assert finding.summary == "langfuse (from the langfuse view)"
    assert finding.details["langfuse"]["target"] == "https://cloud.langfuse.com/api/public/scores"
