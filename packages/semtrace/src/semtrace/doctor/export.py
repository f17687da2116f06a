"""What ``semtrace.configure()`` will do with traces, read from the ``OTEL_*`` variables.

The rules are :func:`semtrace.configure`'s (its module documents them): OTLP when an
endpoint is set and ``OTEL_TRACES_EXPORTER`` is not ``none``, ``http/protobuf`` unless
the protocol says ``grpc``, the terminal tree otherwise. Endpoints and headers are
resolved as the OTLP exporters resolve them.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

from opentelemetry.util.re import parse_env_headers

_PROTOCOLS = ("http/protobuf", "grpc")
_KNOWN_EXPORTERS = ("otlp", "console", "none")
_GRPC_MODULE = "opentelemetry.exporter.otlp.proto.grpc"
MASK = "***"


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


@dataclass(frozen=True)
class TracesExport:
    """Where spans will go.

    Attributes:
        mode: ``"otlp"``, ``"console"`` (the terminal tree) or ``"none"``.
        exporter_names: ``OTEL_TRACES_EXPORTER`` as a list.
        protocol: The OTLP protocol, as written (may be invalid), or None without OTLP.
        protocol_variable: The variable the protocol came from (or the default's source).
        endpoint: The URL (HTTP) or target (gRPC) the exporter sends to.
        endpoint_variable: The variable it came from.
        headers: Header names and masked values.
        header_variable: The variable the headers came from.
        problems: Configuration errors that stop ``configure()`` or the exporter.
    """

    mode: str
    exporter_names: list[str]
    protocol: str | None = None
    protocol_variable: str | None = None
    endpoint: str | None = None
    endpoint_variable: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    header_variable: str | None = None
    raw_headers: dict[str, str] = field(default_factory=dict, repr=False)
    problems: list[str] = field(default_factory=list)


def _exporter_names() -> list[str]:
    value = _env("OTEL_TRACES_EXPORTER").lower()
    return [name.strip() for name in value.split(",") if name.strip()]


def _protocol() -> tuple[str, str]:
    specific = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
    name = specific if _env(specific) else "OTEL_EXPORTER_OTLP_PROTOCOL"
    value = _env(name).lower()
    return (value, name) if value else ("http/protobuf", "default")


def _endpoint(protocol: str) -> tuple[str, str]:
    specific = _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if specific:
        return specific, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    base = _env("OTEL_EXPORTER_OTLP_ENDPOINT")
    if protocol == "grpc":  # the gRPC exporter takes the endpoint as it is
        return base, "OTEL_EXPORTER_OTLP_ENDPOINT"
    return base.rstrip("/") + "/v1/traces", "OTEL_EXPORTER_OTLP_ENDPOINT"


def _headers() -> tuple[dict[str, str], str | None, list[str]]:
    """The headers the exporter sends (signal-specific variable wins whole) and any problem."""
    for name in ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"):
        raw = os.environ.get(name, "")
        if raw.strip():
            parsed = parse_env_headers(raw, liberal=True)
            entries = [e for e in raw.split(",") if e.strip()]
            problems = []
            if len(parsed) < len(entries):
                problems.append(
                    f"{name}: {len(entries) - len(parsed)} of {len(entries)} entries are not "
                    "`key=value` (URL-encode spaces and commas in values) and are not sent"
                )
            return dict(parsed), name, problems
    return {}, None, []


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def mask(headers: dict[str, str]) -> dict[str, str]:
    """Header values replaced by ``***`` (an empty value stays visibly empty)."""
    return {key: (MASK if value else "") for key, value in headers.items()}


def traces_export() -> TracesExport:
    """Where ``configure()`` will send spans, from the environment."""
    names = _exporter_names()
    endpoint_set = bool(
        _env("OTEL_EXPORTER_OTLP_ENDPOINT") or _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    if names == ["none"]:
        return TracesExport("none", names)
    if not endpoint_set:
        return TracesExport("console", names)
    protocol, protocol_variable = _protocol()
    endpoint, endpoint_variable = _endpoint(protocol)
    headers, header_variable, problems = _headers()
    if protocol not in _PROTOCOLS:
        problems.insert(
            0,
            f"{protocol_variable}={protocol!r} is not a protocol semtrace can send; "
            f"use one of: {', '.join(_PROTOCOLS)}",
        )
    elif protocol == "grpc" and not _installed(_GRPC_MODULE):
        problems.insert(
            0,
            'the gRPC exporter is not installed: pip install "semtrace[grpc]" '
            "(or use OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and port 4318)",
        )
    return TracesExport(
        mode="otlp",
        exporter_names=names,
        protocol=protocol,
        protocol_variable=protocol_variable,
        endpoint=endpoint,
        endpoint_variable=endpoint_variable,
        headers=mask(headers),
        header_variable=header_variable,
        raw_headers=headers,
        problems=problems,
    )


def unknown_exporters(names: list[str]) -> list[str]:
    """Names in ``OTEL_TRACES_EXPORTER`` that ``configure()`` does not act on."""
    return [name for name in names if name not in _KNOWN_EXPORTERS]
