"""The doctor's findings as text for people, as JSON for machines, and as an exit status."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from semtrace.doctor.finding import Finding, Severity
from semtrace.version import __version__

#: Bump when a field is removed or changes meaning (adding fields keeps the version).
SCHEMA_VERSION = 1
_MARKS = {
    Severity.OK: "ok",
    Severity.INFO: "info",
    Severity.WARNING: "WARN",
    Severity.ERROR: "FAIL",
}


def exit_status(findings: Sequence[Finding]) -> int:
    """1 when a finding blocks export (an ``ERROR``), else 0."""
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def as_json(findings: Sequence[Finding]) -> str:
    """The report as one JSON document.

    Keys: ``schema_version``, ``semtrace_version``, ``ok``, ``exit_status``, ``findings``.
    """
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "semtrace_version": __version__,
        "ok": exit_status(findings) == 0,
        "exit_status": exit_status(findings),
        "findings": [f.as_dict() for f in findings],
    }
    return json.dumps(document, indent=2, default=str)


def as_text(findings: Sequence[Finding]) -> str:
    """The report for a terminal: one block per finding, the fix under anything not ok."""
    lines = [f"semtrace doctor ({__version__})", ""]
    for finding in findings:
        lines.append(f"[{_MARKS[finding.severity]:>4}] {finding.title}: {finding.summary}")
        if finding.fix and finding.severity is not Severity.OK:
            lines.append(f"       -> {finding.fix}")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    lines.append("")
    if errors:
        lines.append(f"{errors} problem(s) block export; {warnings} warning(s).")
    else:
        lines.append(f"Nothing blocks export; {warnings} warning(s).")
    return "\n".join(lines)
