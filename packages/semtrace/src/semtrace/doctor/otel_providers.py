"""Who set the tracer and meter providers, and who would under ``opentelemetry-instrument``.

The doctor usually runs in its own process, where no provider is set: then it says
what will set one. Run under ``opentelemetry-instrument semtrace doctor``, or called from
the application (:func:`semtrace.doctor.diagnose`), it sees the providers the app gets.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from opentelemetry import metrics, trace

from semtrace.doctor.finding import Finding, Severity
from semtrace.export.distro import ENTRY_POINT_NAME, EntryPointChoice, configured_by
from semtrace.export.distro import selected_configurator as _configurator
from semtrace.export.distro import selected_distro as _distro

_AUTO_DIR = os.path.join("opentelemetry", "instrumentation", "auto_instrumentation")


def under_auto_instrumentation() -> bool:
    """Whether this process was started by ``opentelemetry-instrument``."""
    module = sys.modules.get("sitecustomize")
    return _AUTO_DIR in os.path.normpath(getattr(module, "__file__", "") or "")


def _name(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _processors(provider: Any) -> list[Any]:
    """The span processors of an SDK tracer provider (SDK internals, read defensively)."""
    multi = getattr(provider, "_active_span_processor", None)
    found: list[Any] = []
    for processor in getattr(multi, "_span_processors", ()) or ():
        inner = getattr(processor, "_downstream", None)  # semtrace's DuplicateModelSpanFilter
        found.extend(inner if isinstance(inner, (list, tuple)) else [processor])
    return found


def _exporter(processor: Any) -> Any:
    batch = getattr(processor, "_batch_processor", None)
    for holder in (processor, batch):
        for attr in ("span_exporter", "_exporter", "exporter"):
            exporter = getattr(holder, attr, None)
            if exporter is not None:
                return exporter
    return None


def _set_by(provider: Any) -> str:
    if configured_by() is not None:
        return f"semtrace's {configured_by()} (opentelemetry-instrument)"
    multi = getattr(provider, "_active_span_processor", None)
    if any(_name(p).startswith("semtrace.") for p in getattr(multi, "_span_processors", ())):
        return "semtrace.configure()"
    return f"another library or the application ({type(provider).__module__})"


def tracer_provider_finding(expect_provider: bool) -> Finding:
    """Whether a tracer provider is set, by whom, and whether it exports anything.

    Args:
        expect_provider: The app's set-up has run in this process (called from the app,
            or under ``opentelemetry-instrument``): no provider then blocks export.
    """
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):
        if expect_provider:
            return Finding(
                "tracer_provider",
                "Tracer provider",
                Severity.ERROR,
                "no tracer provider is set: every span is dropped",
                {"set": False},
                fix="call semtrace.configure() at start-up, or run under opentelemetry-instrument "
                "with a configurator (semtrace's is installed; see the zero-code finding)",
            )
        return Finding(
            "tracer_provider",
            "Tracer provider",
            Severity.INFO,
            "not set in this process (the doctor runs outside your app)",
            {"set": False},
            fix="your app gets one from semtrace.configure(), or from the configurator "
            "opentelemetry-instrument runs; `opentelemetry-instrument semtrace doctor` shows it",
        )
    exporters = [e for e in (_exporter(p) for p in _processors(provider)) if e is not None]
    exporter_names = [_name(e) for e in exporters]
    details = {
        "set": True,
        "class": _name(provider),
        "set_by": _set_by(provider),
        "exporters": exporter_names,
    }
    if not exporters and hasattr(provider, "_active_span_processor"):
        return Finding(
            "tracer_provider",
            "Tracer provider",
            Severity.ERROR,
            f"set by {details['set_by']}, but with no exporter: spans are recorded, then dropped",
            details,
            fix="set OTEL_TRACES_EXPORTER=otlp (or console) for that configurator, or let "
            "semtrace set the provider (OTEL_PYTHON_CONFIGURATOR=semtrace)",
        )
    return Finding(
        "tracer_provider",
        "Tracer provider",
        Severity.OK,
        f"set by {details['set_by']}; exporters: {', '.join(exporter_names) or 'unknown'}",
        details,
    )


def meter_provider_finding() -> Finding:
    """Whether a meter provider is set (metrics are optional: never blocking)."""
    provider = metrics.get_meter_provider()
    if type(provider).__name__ == "_ProxyMeterProvider":
        exported = (
            any(
                os.environ.get(name, "").strip()
                for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
            )
            or "prometheus" in os.environ.get("OTEL_METRICS_EXPORTER", "").lower()
        )
        return Finding(
            "meter_provider",
            "Meter provider",
            Severity.INFO,
            "not set in this process: metrics go nowhere unless your app or configurator sets one",
            {"set": False},
            fix=None
            if exported
            else "set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_METRICS_EXPORTER=prometheus) "
            "to export metrics",
        )
    return Finding(
        "meter_provider",
        "Meter provider",
        Severity.OK,
        f"set: {_name(provider)}",
        {"set": True, "class": _name(provider)},
    )


def _choice(choice: EntryPointChoice) -> dict[str, Any]:
    return {
        "selected": choice.selected,
        "package": choice.package,
        "installed": [f"{name} ({package})" for name, package in choice.installed],
        "named": choice.named,
    }


def zero_code_finding() -> Finding:
    """Which distro and configurator ``opentelemetry-instrument`` would load, and clashes."""
    distro, configurator = _distro(), _configurator()
    details = {"distro": _choice(distro), "configurator": _choice(configurator)}
    problems: list[str] = []
    for kind, choice, variable in (
        ("distro", distro, "OTEL_PYTHON_DISTRO"),
        ("configurator", configurator, "OTEL_PYTHON_CONFIGURATOR"),
    ):
        if choice.named is not None and choice.selected is None:
            problems.append(f"{variable}={choice.named!r} names no installed {kind}")
        elif choice.named is None and len(choice.installed) > 1:
            names = ", ".join(name for name, _ in choice.installed)
            problems.append(
                f"{len(choice.installed)} {kind}s installed ({names}) and {variable} unset: "
                f"the first one found wins, in an order nothing defines"
            )
    summary = (
        f"opentelemetry-instrument would load distro {distro.selected or '(none)'} "
        f"and configurator {configurator.selected or '(none)'}"
    )
    if problems:
        return Finding(
            "zero_code",
            "opentelemetry-instrument",
            Severity.WARNING,
            summary + "; " + "; ".join(problems),
            details,
            fix=f"name one: OTEL_PYTHON_DISTRO={ENTRY_POINT_NAME} "
            f"OTEL_PYTHON_CONFIGURATOR={ENTRY_POINT_NAME} for semtrace's set-up "
            "(docs/zero-code.md)",
        )
    return Finding("zero_code", "opentelemetry-instrument", Severity.OK, summary, details)
