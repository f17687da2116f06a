"""What the sinks read from the OTLP exporter's own settings: endpoint and headers.

A sink reuses what the app already gave the OTLP exporter (Langfuse's Basic credentials,
Datadog's API key, Phoenix's URL) so that evaluations need no second copy of them.
"""

from __future__ import annotations

import os
import urllib.parse

from semtrace.export.views import traces_endpoint


def env(name: str) -> str:
    """A variable, stripped ("" when unset)."""
    return os.environ.get(name, "").strip()


def otlp_headers() -> dict[str, str]:
    """The OTLP traces exporter's headers (lowercased names), as the SDK reads them.

    ``OTEL_EXPORTER_OTLP_TRACES_HEADERS`` wins over ``OTEL_EXPORTER_OTLP_HEADERS``; both are
    ``name=value`` pairs separated by commas, values percent-encoded.
    """
    raw = env("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or env("OTEL_EXPORTER_OTLP_HEADERS")
    headers: dict[str, str] = {}
    for pair in raw.split(","):
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            headers[urllib.parse.unquote(name.strip()).lower()] = urllib.parse.unquote(
                value.strip()
            )
    return headers


def otlp_traces_url() -> str:
    """The URL the OTLP traces exporter posts to ("" when none is set)."""
    specific = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if specific:
        return specific
    base = traces_endpoint()
    return base.rstrip("/") + "/v1/traces" if base else ""


def otlp_is_grpc() -> bool:
    """Whether traces go over gRPC (then the endpoint's port is not the backend's HTTP one)."""
    protocol = env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env("OTEL_EXPORTER_OTLP_PROTOCOL")
    return protocol.lower() == "grpc"


def service_name() -> str:
    """``service.name`` from ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES`` ("" if none)."""
    name = env("OTEL_SERVICE_NAME")
    if name:
        return name
    for pair in env("OTEL_RESOURCE_ATTRIBUTES").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip() == "service.name":
            return urllib.parse.unquote(value.strip())
    return ""
