"""The endpoint probe against real servers: OTLP receivers, a closed port, wrong protocols."""

from __future__ import annotations

import pytest
from semtrace.doctor.finding import Severity
from semtrace.doctor.settings import endpoint_finding

from tests.core.otlp_servers import grpc_otlp_server, http_server, plain_http_server

TIMEOUT = 3.0


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for var in [v for v in os.environ if v.startswith("OTEL_")]:
        monkeypatch.delenv(var)


def _probe(monkeypatch: pytest.MonkeyPatch, **env: str):  # type: ignore[no-untyped-def]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    finding = endpoint_finding(TIMEOUT)
    assert finding is not None
    return finding


def test_an_otlp_http_receiver_is_reachable_and_gets_the_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with http_server() as (port, received):
        finding = _probe(
            monkeypatch,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
            OTEL_EXPORTER_OTLP_HEADERS="x-api-key=s3cret",
        )
    assert finding.severity is Severity.OK, finding
    assert finding.details["reachable"] is True
    assert [path for path, _, _ in received.requests] == ["/v1/traces"]
    headers = {k.lower(): v for k, v in received.requests[0][1].items()}
    assert headers["x-api-key"] == "s3cret"
    assert headers["content-type"] == "application/x-protobuf"


def test_a_closed_port_is_unreachable(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{closed_port}")
    assert finding.severity is Severity.ERROR
    assert finding.details["reachable"] is False
    assert "connection refused" in finding.summary


def test_a_closed_grpc_port_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    finding = _probe(
        monkeypatch,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{closed_port}",
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    assert finding.severity is Severity.ERROR
    assert finding.details["reachable"] is False


def test_http_protobuf_sent_to_a_grpc_receiver_says_it_is_grpc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with grpc_otlp_server() as (port, _):
        finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert finding.severity is Severity.ERROR
    assert finding.details["reachable"] is True
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=grpc" in (finding.fix or "")


def test_grpc_sent_to_a_grpc_receiver_is_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    with grpc_otlp_server() as (port, received):
        finding = _probe(
            monkeypatch,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
            OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20abc",
        )
    assert finding.severity is Severity.OK, finding
    assert received and received[0]["authorization"] == "Bearer abc"


def test_grpc_sent_to_an_http_receiver_says_it_is_http(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server() as (port, _):
        finding = _probe(
            monkeypatch,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        )
    assert finding.severity is Severity.ERROR
    assert finding.details["reachable"] is True
    assert "http/protobuf" in (finding.fix or "")


def test_an_http_server_that_is_not_otlp_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with plain_http_server() as port:
        finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert finding.severity is Severity.ERROR
    assert finding.details["status"] == "501"
    assert "not an OTLP/HTTP" in finding.summary


def test_a_200_that_is_not_protobuf_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server(200, "text/html") as (port, _):
        finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert finding.severity is Severity.WARNING
    assert "text/html" in finding.summary


def test_refused_credentials_point_at_the_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server(401, None) as (port, _):
        finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}")
    assert finding.severity is Severity.ERROR
    assert "OTEL_EXPORTER_OTLP_HEADERS" in (finding.fix or "")


def test_a_signal_endpoint_without_its_path_is_explained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with http_server(404, "text/plain") as (port, received):
        finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"http://127.0.0.1:{port}")
    assert received.requests[0][0] == "/"  # used as given, as the exporter does
    assert finding.severity is Severity.ERROR
    assert "must end in /v1/traces" in (finding.fix or "")


def test_no_probe_without_an_otlp_endpoint() -> None:
    assert endpoint_finding(TIMEOUT) is None


def test_a_malformed_endpoint_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    finding = _probe(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT="http://localhost:43l8")
    assert finding.severity is Severity.ERROR
    assert "is not a valid endpoint URL" in finding.summary
