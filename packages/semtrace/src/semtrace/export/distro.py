"""semtrace as the OpenTelemetry distro and configurator that ``opentelemetry-instrument`` loads.

``opentelemetry-instrument python app.py`` starts the instrumentors it finds (semtrace's
among them), but it is a distro or configurator that sets up the SDK: with none
installed, spans are recorded by no one and exported nowhere. semtrace registers both
(entry-point name ``semtrace``), and both do what :func:`semtrace.configure` does: OTLP
when ``OTEL_EXPORTER_OTLP_*`` is set, the terminal tree otherwise.

Which one runs follows ``opentelemetry-instrumentation``'s loader
(``auto_instrumentation/_load.py``), mirrored by :func:`selected_distro` and
:func:`selected_configurator`:

* one distro runs: the one ``OTEL_PYTHON_DISTRO`` names, else the first
  ``opentelemetry_distro`` entry point found (a name that matches none: no distro);
* then one configurator: the one ``OTEL_PYTHON_CONFIGURATOR`` names, else the first
  ``opentelemetry_configurator`` entry point found; the others are skipped with a warning.

"First found" follows the order of the installed distributions, which nothing defines:
with ``opentelemetry-distro`` installed too, name the one you want (docs/zero-code.md).
semtrace's distro sets up export itself unless ``OTEL_PYTHON_CONFIGURATOR`` names another
configurator, so that choosing ``OTEL_PYTHON_DISTRO=semtrace`` is enough; a configurator
that runs after it cannot replace its providers (OpenTelemetry allows one per process).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]

__all__ = [
    "ENTRY_POINT_NAME",
    "SemtraceConfigurator",
    "SemtraceDistro",
    "configured_by",
    "selected_configurator",
    "selected_distro",
]

_logger = logging.getLogger(__name__)

#: The name of both entry points (``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR=semtrace``).
ENTRY_POINT_NAME = "semtrace"
_DISTRO_GROUP = "opentelemetry_distro"
_CONFIGURATOR_GROUP = "opentelemetry_configurator"

_configured_by: str | None = None


def configured_by() -> str | None:
    """Which semtrace component set up export in this process, if one did.

    Returns:
        ``"distro"`` or ``"configurator"`` (the entry point that called
        :func:`semtrace.configure`), or None.
    """
    return _configured_by


def _configure(component: str) -> None:
    """Call :func:`semtrace.configure`; log, never raise, when it fails.

    ``opentelemetry-instrument`` skips every instrumentor when a distro or configurator
    raises, so a bad ``OTEL_*`` value would turn all tracing off: the error is logged
    with its fix instead, and the instrumentors still load.
    """
    global _configured_by
    from semtrace import configure

    try:
        configure()
    except Exception as exc:
        _logger.error(
            "semtrace could not set up export under opentelemetry-instrument (%s: %s); "
            "run `semtrace doctor` to see why",
            type(exc).__name__,
            exc,
        )
        return
    if _configured_by is None:
        _configured_by = component


class SemtraceDistro(BaseDistro):  # type: ignore[misc]
    """The ``semtrace`` distro: sets up export unless another configurator is named."""

    def _configure(self, **kwargs: Any) -> None:
        named = os.environ.get("OTEL_PYTHON_CONFIGURATOR")
        if named is not None and named != ENTRY_POINT_NAME:
            # The user chose that configurator to set up the SDK: leave it to it.
            _logger.debug("OTEL_PYTHON_CONFIGURATOR=%s: semtrace's distro sets nothing up", named)
            return
        _configure("distro")


class SemtraceConfigurator:
    """The ``semtrace`` configurator: calls :func:`semtrace.configure`."""

    def configure(self, **kwargs: Any) -> None:
        """Set up export (``auto_instrumentation_version`` and other arguments are ignored)."""
        _configure("configurator")


@dataclass(frozen=True)
class EntryPointChoice:
    """The distro or configurator ``opentelemetry-instrument`` would load.

    Attributes:
        selected: The entry point's name, or None when none would run.
        package: The distribution that provides it, if known.
        installed: Every entry point of the group, as ``(name, package)``, in load order.
        named: The value of ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR``, if set.
    """

    selected: str | None
    package: str | None
    installed: tuple[tuple[str, str | None], ...]
    named: str | None


def _choose(group: str, variable: str) -> EntryPointChoice:
    # The loader's own cached view of the entry points, so the order is the one it uses.
    from opentelemetry.util._importlib_metadata import entry_points

    installed = tuple((ep.name, _package(ep)) for ep in entry_points(group=group))
    named = os.environ.get(variable)
    for name, package in installed:
        if named is None or named == name:
            return EntryPointChoice(name, package, installed, named)
    return EntryPointChoice(None, None, installed, named)


def _package(entry_point: Any) -> str | None:
    dist = getattr(entry_point, "dist", None)
    return getattr(dist, "name", None) if dist is not None else None


def selected_distro() -> EntryPointChoice:
    """The distro ``opentelemetry-instrument`` would load here (``_load_distro``'s rule)."""
    return _choose(_DISTRO_GROUP, "OTEL_PYTHON_DISTRO")


def selected_configurator() -> EntryPointChoice:
    """The configurator it would run (``_load_configurators``' rule)."""
    return _choose(_CONFIGURATOR_GROUP, "OTEL_PYTHON_CONFIGURATOR")
