"""Where :func:`semtrace.configure` sends the GenAI events (log records), from ``OTEL_*``.

The GenAI events (``gen_ai.client.inference.operation.details``,
``gen_ai.evaluation.result``) go through the OpenTelemetry Logs API. What is exported:

* ``OTEL_LOGS_EXPORTER`` unset: OTLP when a logs endpoint is known
  (``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT``, else ``OTEL_EXPORTER_OTLP_ENDPOINT``, to which the
  HTTP exporter appends ``/v1/logs``), else nothing.
* ``otlp``, ``console`` (comma-separated, in any combination): those. ``console`` prints
  one line of JSON per event on the tree's stream (``stderr`` by default).
* ``none``: nothing.

Backends that take traces only refuse ``/v1/logs``, batch after batch. Two are known by
name: Langfuse (its endpoint, ``/api/public/otel``, or the ``langfuse`` backend view) and
Phoenix (the ``phoenix`` view). For them the events are not sent by default: they stay
span events, which those backends show. A logs endpoint of its own
(``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT``) is always used; behind a collector with a logs
pipeline, ``OTEL_LOGS_EXPORTER=otlp`` sends them to the collector whatever the view.
Langfuse's own endpoint never gets them. Jaeger and Tempo cannot be told from their URL:
set ``OTEL_LOGS_EXPORTER=none`` for them, as ``OTEL_METRICS_EXPORTER=none``.
The exporters read headers, timeout, compression and TLS from the ``OTEL_EXPORTER_OTLP_LOGS_*``
and ``OTEL_EXPORTER_OTLP_*`` variables themselves, as for the other signals.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs import export as log_export

from semtrace.export import views

_logger = logging.getLogger(__name__)

#: The values ``OTEL_LOGS_EXPORTER`` may list.
EXPORTERS = ("otlp", "console", "none")


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def exporter_names() -> list[str]:
    """``OTEL_LOGS_EXPORTER``'s names, lowercased; an unknown one is logged and left out."""
    names = [n.strip().lower() for n in _env("OTEL_LOGS_EXPORTER").split(",") if n.strip()]
    for name in names:
        if name not in EXPORTERS:
            _logger.warning(
                "OTEL_LOGS_EXPORTER names %r, which semtrace does not know (use %s)",
                name,
                ", ".join(EXPORTERS),
            )
    return [n for n in names if n in EXPORTERS]


#: The backend views of backends that take traces only.
TRACES_ONLY_VIEWS = ("langfuse", "phoenix")


def otlp_wanted(names: list[str], view: str = "none") -> bool:
    """Whether the events go over OTLP: listed (or nothing listed) and an endpoint known.

    Args:
        names: ``OTEL_LOGS_EXPORTER``'s names.
        view: The backend view ``configure()`` chose for the traces.
    """
    if names and "otlp" not in names:
        return False
    if _env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"):
        return True
    general = _env("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not general:
        return False
    if views.is_langfuse_endpoint(general):
        _logger.log(
            logging.WARNING if "otlp" in names else logging.INFO,
            "logs: Langfuse's OTLP endpoint takes traces only, so the GenAI events are not "
            "sent there (they stay span events); set OTEL_EXPORTER_OTLP_LOGS_ENDPOINT to "
            "send them elsewhere",
        )
        return False
    if view in TRACES_ONLY_VIEWS and "otlp" not in names:
        _logger.info(
            "logs: the %s view names a backend that takes traces only, so the GenAI events "
            "are not sent (they stay span events); OTEL_LOGS_EXPORTER=otlp sends them",
            view,
        )
        return False
    return True


def processors(
    otlp_exporter: Callable[[], Any], file: TextIO | None, view: str = "none"
) -> list[LogRecordProcessor]:
    """The log record processors ``OTEL_LOGS_EXPORTER`` and the endpoints ask for.

    Args:
        otlp_exporter: Builds the OTLP log exporter (the protocol is the caller's choice).
        file: Where ``console`` prints; None: ``sys.stderr``.
        view: The backend view chosen for the traces (``langfuse``, ``phoenix``, ``none``).

    Raises:
        ValueError, ImportError: From ``otlp_exporter`` (a bad protocol, gRPC missing).
    """
    names = exporter_names()
    if names == ["none"]:
        return []
    found: list[LogRecordProcessor] = []
    if otlp_wanted(names, view):
        # Batched: the worker that emits the events never waits for the network.
        found.append(log_export.BatchLogRecordProcessor(otlp_exporter()))
    if "console" in names:
        console = _console_exporter(file if file is not None else sys.stderr)
        found.append(log_export.SimpleLogRecordProcessor(console))
    return found


def _console_exporter(out: TextIO) -> Any:
    """The SDK's console exporter, one compact line per event (not its indented JSON)."""
    cls = getattr(log_export, "ConsoleLogRecordExporter", None) or log_export.ConsoleLogExporter
    return cls(out=out, formatter=lambda record: record.to_json(indent=None) + os.linesep)
