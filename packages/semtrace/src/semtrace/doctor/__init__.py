"""``semtrace doctor``: what semtrace will do here, and why nothing may reach a backend.

Example:
    >>> from semtrace.doctor import diagnose
    >>> findings = diagnose(probe=False)
    >>> {f.id for f in findings} >= {"exporter", "sampler", "tokenizer"}
    True

From a shell: ``semtrace doctor`` (or ``python -m semtrace doctor``), ``--json`` for
machines; under ``opentelemetry-instrument semtrace doctor`` it also sees the providers
the zero-code set-up creates. docs/troubleshooting.md walks through each finding.
"""

from semtrace.doctor.checks import diagnose
from semtrace.doctor.finding import Finding, Severity
from semtrace.doctor.report import as_json, as_text, exit_status

__all__ = ["Finding", "Severity", "as_json", "as_text", "diagnose", "exit_status"]
