"""The evaluation sinks ``configure()`` will start here, and whether each backend takes them.

The sinks come from the environment as ``configure()`` reads it (``SEMTRACE_EVALUATION_SINKS``,
else the backend view's own); ``configure(evaluation_sinks=...)`` in code is not seen here.
The probe sends each sink's read-only requests (:meth:`EvaluationSink.probes`): Phoenix's
project list, Langfuse's health and a one-score read, Datadog's key validation. No
evaluation is ever sent.
"""

from __future__ import annotations

from typing import Any

from semtrace.config import SEMTRACE_EVALUATION_SINKS, env_evaluation_sinks
from semtrace.doctor.export import TracesExport
from semtrace.doctor.finding import Finding, Severity
from semtrace.export import views
from semtrace.export.evaluations import environment, registry
from semtrace.export.evaluations.sink import EvaluationSink, send

TITLE = "Evaluation sinks"
_HOW = (
    "set SEMTRACE_EVALUATION_SINKS=phoenix, langfuse or datadog (comma-separated) to send "
    "verdicts and user feedback as the backend's own evaluations"
)


def evaluation_sinks_finding(plan: TracesExport, probe: bool, timeout: float) -> Finding:
    """Which sinks run, where they send, and (probing) whether each backend answers."""
    named = env_evaluation_sinks()
    view = views.choose_view() if plan.mode == "otlp" else "none"
    source = SEMTRACE_EVALUATION_SINKS
    if named is None:
        own = registry.VIEW_SINKS.get(view)
        named, source = ((own,), f"the {view} view") if own else ((), "")
    if not named:
        return Finding(
            "evaluation_sinks", TITLE, Severity.INFO, "none: verdicts stay on the spans", fix=_HOW
        )
    details: dict[str, Any] = {"source": source}
    worst = Severity.OK
    for name in named:
        try:
            sink = registry.build(name, environment.service_name() or None)
        except ValueError as exc:
            # Named: configure() raises. Brought by the view: configure() leaves it off.
            bad = Severity.ERROR if source == SEMTRACE_EVALUATION_SINKS else Severity.WARNING
            details[name] = {"problem": str(exc)}
            worst = _worse(worst, bad)
            continue
        details[name] = {"target": sink.target()}
        if probe:
            ok, results = _probe(sink, timeout)
            details[name]["probe"] = results
            if not ok:
                worst = _worse(worst, Severity.WARNING)
    summary = f"{', '.join(named)} (from {source})"
    fix = None
    if worst is Severity.ERROR:
        fix = "configure() will refuse the named sink: set what its problem names"
    elif worst is Severity.WARNING:
        fix = "verdicts would be dropped: check the URL and credentials each problem names"
    return Finding("evaluation_sinks", TITLE, worst, summary, details, fix)


def _probe(sink: EvaluationSink, timeout: float) -> tuple[bool, dict[str, str]]:
    results: dict[str, str] = {}
    ok = True
    for what, request in sink.probes():
        answer = send(request, timeout)
        if answer.status is None:
            results[what] = f"unreachable: {answer.error}"
            ok = False
        elif 200 <= answer.status < 300:
            results[what] = f"yes (HTTP {answer.status})"
        else:
            results[what] = f"no (HTTP {answer.status})"
            ok = False
    return ok, results


def _worse(a: Severity, b: Severity) -> Severity:
    order = [Severity.OK, Severity.INFO, Severity.WARNING, Severity.ERROR]
    return a if order.index(a) >= order.index(b) else b
