"""Run every check, in the order a reader follows them: providers, export, then the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from semtrace.doctor.adopt import content_sources_finding
from semtrace.doctor.evaluations import evaluation_sinks_finding
from semtrace.doctor.export import TracesExport, scrub, traces_export
from semtrace.doctor.finding import Finding, Severity
from semtrace.doctor.otel_providers import (
    meter_provider_finding,
    tracer_provider_finding,
    under_auto_instrumentation,
    zero_code_finding,
)
from semtrace.doctor.packages import duplicates_finding, integrations_finding
from semtrace.doctor.settings import (
    content_finding,
    conventions_finding,
    endpoint_finding,
    exporter_finding,
    resource_finding,
    sampler_finding,
    tokenizer_finding,
)

#: Seconds the endpoint probe waits, for the connection and for the answer.
DEFAULT_TIMEOUT_S = 2.0


def diagnose(
    *, probe: bool = True, timeout: float = DEFAULT_TIMEOUT_S, in_app: bool | None = None
) -> list[Finding]:
    """Check this environment and return the findings.

    Args:
        probe: Send one empty export to the OTLP endpoint, and each evaluation sink's
            read-only requests (network I/O, ``timeout`` each).
        timeout: Seconds the probe waits.
        in_app: The application's set-up has run in this process, so a missing tracer
            provider blocks export. None means: only under ``opentelemetry-instrument``.
            Pass True when calling this from your application after its set-up.

    Returns:
        The findings; any with ``Severity.ERROR`` blocks export.
    """
    expect = under_auto_instrumentation() if in_app is None else in_app
    plan = traces_export()
    checks: list[tuple[str, Callable[[], Finding | None]]] = [
        ("tracer_provider", lambda: tracer_provider_finding(expect)),
        ("meter_provider", meter_provider_finding),
        ("zero_code", zero_code_finding),
        ("exporter", lambda: exporter_finding(plan)),
        ("endpoint", lambda: endpoint_finding(timeout, plan) if probe else None),
        ("evaluation_sinks", lambda: evaluation_sinks_finding(plan, probe, timeout)),
        ("resource", resource_finding),
        ("sampler", sampler_finding),
        ("content", content_finding),
        ("conventions", conventions_finding),
        ("tokenizer", tokenizer_finding),
        ("integrations", integrations_finding),
        ("duplicates", duplicates_finding),
        ("content_sources", content_sources_finding),
    ]
    findings = [_run(check_id, check) for check_id, check in checks]
    return [_masked(finding, plan) for finding in findings if finding is not None]


def _masked(finding: Finding, plan: TracesExport) -> Finding:
    """The finding with any header value masked: no check means to print one, and none may."""
    if not plan.raw_headers:
        return finding
    return Finding(
        finding.id,
        finding.title,
        finding.severity,
        scrub(finding.summary, plan.raw_headers),
        _scrub_all(finding.details, plan.raw_headers),
        scrub(finding.fix, plan.raw_headers) if finding.fix else finding.fix,
    )


def _scrub_all(value: Any, headers: dict[str, str]) -> Any:
    if isinstance(value, str):
        return scrub(value, headers)
    if isinstance(value, dict):
        return {k: _scrub_all(v, headers) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_all(v, headers) for v in value]
    return value


def _run(check_id: str, check: Callable[[], Finding | None]) -> Finding | None:
    """One check; a check that breaks on an odd environment becomes a finding, not a crash."""
    try:
        return check()
    except Exception as exc:
        return Finding(
            check_id,
            check_id.replace("_", " ").capitalize(),
            Severity.WARNING,
            f"could not be checked: {type(exc).__name__}: {exc}",
        )
