"""One export request to the configured endpoint, to tell "unreachable" from "wrong".

Network I/O with a short timeout: for the ``semtrace doctor`` command only, never for the
library's own path. The request is an empty OTLP export (no spans), sent with the
configured headers, as the exporter would send it.
"""

from __future__ import annotations

import http.client
import importlib
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from semtrace.doctor.finding import Severity

#: What an OTLP/HTTP receiver answers with (the specification: the request's type).
PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ProbeResult:
    """What the probe found.

    Attributes:
        severity: ``OK`` when an OTLP receiver accepted the request, ``ERROR`` when
            export cannot work, ``WARNING`` when it answered but oddly.
        reachable: Whether a TCP connection was made.
        summary: One line for humans.
        status: The HTTP status or gRPC status code name, if there was an answer.
        fix: What to do, if anything.
    """

    severity: Severity
    reachable: bool
    summary: str
    status: str | None = None
    fix: str | None = None


_GRPC_HINT = (
    "this port does not answer HTTP/1.1: it looks like an OTLP/gRPC port (4317). Set "
    "OTEL_EXPORTER_OTLP_PROTOCOL=grpc, or point the endpoint at the OTLP/HTTP port (4318)"
)
_HTTP_HINT = (
    "this port does not speak gRPC: it looks like an HTTP port (OTLP/HTTP is 4318). Set "
    "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, or point the endpoint at the gRPC port (4317)"
)


def _split(endpoint: str, default_port: int) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an endpoint (a gRPC one may have no scheme)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else default_port)
    return scheme, parts.hostname or "", port, parts.path or "/"


def _connect_error(exc: OSError, host: str, port: int) -> ProbeResult:
    if isinstance(exc, socket.gaierror):
        why = f"the host name {host!r} does not resolve"
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        why = f"no answer from {host}:{port} within the timeout (firewall? wrong host?)"
    elif isinstance(exc, ConnectionRefusedError):
        why = f"connection refused: nothing listens on {host}:{port}"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return ProbeResult(
        Severity.ERROR,
        False,
        f"unreachable: {why}",
        fix="start the collector/backend, or fix the host and port in the endpoint variable",
    )


def tcp_connect(host: str, port: int, timeout: float) -> OSError | None:
    """Open and close a TCP connection; the error, or None if it connected."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return exc
    return None


def probe_http(url: str, headers: dict[str, str], timeout: float) -> ProbeResult:
    """POST an empty OTLP/HTTP export to ``url`` and classify the answer."""
    scheme, host, port, path = _split(url, 80)
    connection: http.client.HTTPConnection
    if scheme == "https":
        certificate = os.environ.get("OTEL_EXPORTER_OTLP_CERTIFICATE") or None
        try:
            context = ssl.create_default_context(cafile=certificate)
        except OSError as exc:
            return ProbeResult(
                Severity.ERROR,
                False,
                f"cannot read OTEL_EXPORTER_OTLP_CERTIFICATE={certificate!r}: {exc}",
                fix="point OTEL_EXPORTER_OTLP_CERTIFICATE at a readable PEM file, or unset it",
            )
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("POST", path, b"", {**headers, "Content-Type": PROTOBUF})
        response = connection.getresponse()
        response.read(4096)
    except (http.client.BadStatusLine, http.client.RemoteDisconnected, ConnectionResetError):
        return ProbeResult(
            Severity.ERROR, True, "reachable, but not an HTTP server", fix=_GRPC_HINT
        )
    except ssl.SSLError as exc:
        return ProbeResult(
            Severity.ERROR,
            True,
            f"TLS failed: {exc}",
            fix="use http:// for a plain-text port, or set OTEL_EXPORTER_OTLP_CERTIFICATE",
        )
    except OSError as exc:
        return _connect_error(exc, host, port)
    finally:
        connection.close()
    return _classify_http(response.status, response.getheader("Content-Type") or "", path)


def _classify_http(status: int, content_type: str, path: str) -> ProbeResult:
    code = str(status)
    if 200 <= status < 300:
        if content_type.split(";")[0].strip().lower() == PROTOBUF:
            return ProbeResult(
                Severity.OK, True, f"reachable: an OTLP receiver answered {code}", code
            )
        return ProbeResult(
            Severity.WARNING,
            True,
            f"reachable, answered {code} but with Content-Type {content_type or '(none)'!r}, "
            "not an OTLP/HTTP reply",
            code,
            fix="check that the endpoint is the OTLP/HTTP receiver (port 4318 on a Collector)",
        )
    if status in (401, 403):
        return ProbeResult(
            Severity.ERROR,
            True,
            f"reachable, but the backend refused the credentials ({code})",
            code,
            fix="check the API key in OTEL_EXPORTER_OTLP_HEADERS (names and values)",
        )
    if status == 404:
        hint = "the path is wrong: "
        if path.count("/v1/traces") > 1:
            hint += "'/v1/traces' appears twice; give OTEL_EXPORTER_OTLP_ENDPOINT without it"
        elif not path.endswith("/v1/traces"):
            hint += (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given, so it must end in "
                "/v1/traces (or set OTEL_EXPORTER_OTLP_ENDPOINT to the base URL instead)"
            )
        else:
            hint += "this server has no OTLP receiver at it; check the port (4318) and path"
        return ProbeResult(
            Severity.ERROR, True, f"reachable, but {path} is not found (404)", code, hint
        )
    if status in (405, 501, 415):
        return ProbeResult(
            Severity.ERROR,
            True,
            f"reachable, but it is not an OTLP/HTTP protobuf receiver ({code})",
            code,
            fix="point the endpoint at the OTLP/HTTP receiver (port 4318 on a Collector)",
        )
    return ProbeResult(
        Severity.WARNING,
        True,
        f"reachable, but an empty export got {code}",
        code,
        fix="the backend is up but unhappy: check its logs" if status >= 500 else None,
    )


def probe_grpc(endpoint: str, headers: dict[str, str], timeout: float) -> ProbeResult:
    """Send an empty OTLP/gRPC ``Export`` to ``endpoint`` and classify the answer."""
    scheme, host, port, _ = _split(endpoint, 4317)
    error = tcp_connect(host, port, timeout)
    if error is not None:
        return _connect_error(error, host, port)
    try:
        # grpc has no type stubs; both come with the gRPC exporter (semtrace[grpc]).
        grpc: Any = importlib.import_module("grpc")
        service: Any = importlib.import_module(
            "opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc"
        )
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )
    except ImportError:
        return ProbeResult(
            Severity.ERROR,
            True,
            "reachable (TCP), but the gRPC exporter is not installed to send to it",
            fix='pip install "semtrace[grpc]"',
        )
    insecure = os.environ.get("OTEL_EXPORTER_OTLP_INSECURE", "").strip().lower() == "true"
    target = f"{host}:{port}"
    channel: Any
    if scheme == "https" and not insecure:
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
    else:
        channel = grpc.insecure_channel(target)
    try:
        service.TraceServiceStub(channel).Export(
            ExportTraceServiceRequest(), timeout=timeout, metadata=tuple(headers.items())
        )
    except grpc.RpcError as exc:
        return _classify_grpc(exc.code(), exc.details() or "")
    finally:
        channel.close()
    return ProbeResult(Severity.OK, True, "reachable: an OTLP/gRPC receiver answered OK", "OK")


def _classify_grpc(code: Any, details: str) -> ProbeResult:
    name = getattr(code, "name", str(code))
    if name in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return ProbeResult(
            Severity.ERROR,
            True,
            f"reachable, but the backend refused the credentials ({name})",
            name,
            fix="check the API key in OTEL_EXPORTER_OTLP_HEADERS (names and values)",
        )
    if name == "UNIMPLEMENTED":
        return ProbeResult(
            Severity.ERROR,
            True,
            "reachable gRPC server, but it has no OTLP trace service",
            name,
            fix="point the endpoint at the OTLP/gRPC receiver (port 4317 on a Collector)",
        )
    if name in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN"):
        return ProbeResult(
            Severity.ERROR, True, f"reachable (TCP), but no gRPC answer ({name})", name, _HTTP_HINT
        )
    return ProbeResult(
        Severity.WARNING, True, f"reachable, but Export failed: {name} {details}", name
    )
