"""What ``semtrace.configure()`` will do with traces, read from the ``OTEL_*`` variables.

The rules are :func:`semtrace.configure`'s (its module documents them): OTLP when an
endpoint is set and ``OTEL_TRACES_EXPORTER`` is not ``none``, ``http/protobuf`` unless
the protocol says ``grpc``, the terminal tree otherwise. Endpoints and headers are
resolved as the OTLP exporters resolve them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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
        endpoint_problem: Why the exporter cannot send to ``endpoint``, if it cannot.
        unsendable_headers: Names of headers whose value the exporter cannot send.
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
    endpoint_problem: str | None = None
    unsendable_headers: list[str] = field(default_factory=list)


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
            with _quiet("opentelemetry.util.re"):
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


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Drop what ``logger_name`` logs meanwhile.

    OpenTelemetry's header parser logs an entry it cannot parse whole, value included:
    the doctor reports the count instead and never prints a header value.
    """
    logger = logging.getLogger(logger_name)

    def drop(record: logging.LogRecord) -> bool:
        return False

    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def endpoint_problem(endpoint: str, protocol: str) -> str | None:
    """Why the exporter cannot send to ``endpoint``, or None when it can.

    The OTLP/HTTP exporter needs an ``http://`` or ``https://`` URL (given
    ``127.0.0.1:4318`` it exports nothing); the gRPC exporter also takes ``host:port``.
    Neither can send to a URL with a space or a control character in it.
    """
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in endpoint):
        return "it has a space or a control character in it"
    bare = protocol == "grpc" and "://" not in endpoint  # host:port, as the gRPC exporter takes
    parts = urlsplit(f"http://{endpoint}" if bare else endpoint)
    if parts.scheme not in ("http", "https"):
        return "it has no http:// or https:// scheme: the OTLP/HTTP exporter cannot send to it"
    if not parts.hostname:
        return "it has no host"
    try:
        parts.port  # noqa: B018 (urllib checks the port when it is read)
    except ValueError as exc:
        return f"its port is invalid ({exc})"
    return None


def _unsendable(text: str, protocol: str) -> bool:
    """Whether the exporter refuses ``text`` as a header name or value.

    Control characters (a percent-encoded newline, say) make both exporters raise on
    every export; HTTP headers are Latin-1, gRPC metadata printable ASCII.
    """
    top = 0x7E if protocol == "grpc" else 0xFF
    return any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F or ord(c) > top for c in text)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def mask(headers: dict[str, str]) -> dict[str, str]:
    """Header values replaced by ``***`` (an empty value stays visibly empty)."""
    return {key: (MASK if value else "") for key, value in headers.items()}


#: Header values shorter than this are not looked for in the report (a "1" is no secret,
#: and masking every "1" would garble it); they are never printed in the first place.
_SCRUB_MIN_CHARS = 4


def scrub(text: str, headers: dict[str, str]) -> str:
    """``text`` with every header value in ``headers`` replaced by ``***``.

    The value as it is, and escaped as ``repr`` and byte strings show it: the last guard
    on what the doctor prints.
    """
    for value in headers.values():
        if len(value) < _SCRUB_MIN_CHARS:
            continue
        shown = {
            value,
            repr(value)[1:-1],
            repr(value.encode("utf-8", "backslashreplace"))[2:-1],
            repr(value.encode("latin-1", "backslashreplace"))[2:-1],
        }
        for form in sorted(shown, key=len, reverse=True):
            text = text.replace(form, MASK)
    return text


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
    bad_endpoint = endpoint_problem(endpoint, protocol)
    if bad_endpoint is not None:
        problems.insert(
            0,
            f"{endpoint_variable}={endpoint!r}: {bad_endpoint}; write it as "
            "scheme://host:port, e.g. http://localhost:4318",
        )
    unsendable = [
        k for k, v in headers.items() if _unsendable(k, protocol) or _unsendable(v, protocol)
    ]
    if unsendable:
        problems.append(
            f"{header_variable}: the value of {', '.join(repr(k) for k in unsendable)} has a "
            "character the exporter cannot send (a control character such as a "
            "percent-encoded newline, or one outside "
            f"{'printable ASCII' if protocol == 'grpc' else 'Latin-1'}): every export fails"
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
        endpoint_problem=bad_endpoint,
        unsendable_headers=unsendable,
    )


def unknown_exporters(names: list[str]) -> list[str]:
    """Names in ``OTEL_TRACES_EXPORTER`` that ``configure()`` does not act on."""
    return [name for name in names if name not in _KNOWN_EXPORTERS]
