"""What a recorded trace says about quality, read from its finished spans.

Shared by the tests that run real pipelines and read back the quality signals and the
diagnosis they left: ``test_quality_checks_on_runs.py`` and ``test_grounding_kinds.py``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from semtrace import semconv
from semtrace.testing import Telemetry


def flags(telemetry: Telemetry) -> dict[str, Any]:
    """Every semtrace.quality.* attribute of the trace, by signal."""
    found: dict[str, Any] = {}
    for span in telemetry.spans():
        for key, value in (span.attributes or {}).items():
            if key.startswith(semconv.SEMTRACE_QUALITY_PREFIX):
                found[key.removeprefix(semconv.SEMTRACE_QUALITY_PREFIX)] = value
    return found


def root(telemetry: Telemetry) -> ReadableSpan:
    """The trace's one root span."""
    [span] = [s for s in telemetry.spans() if s.parent is None]
    return span


def diagnosis_of(telemetry: Telemetry) -> tuple[str | None, ReadableSpan | None]:
    """The root's diagnosis and the span it points at."""
    attrs = root(telemetry).attributes or {}
    name = attrs.get(semconv.SEMTRACE_DIAGNOSIS)
    pointer = attrs.get(semconv.SEMTRACE_DIAGNOSIS_SPAN_ID)
    target = [s for s in telemetry.spans() if format(s.context.span_id, "016x") == pointer]
    return name, target[0] if target else None  # type: ignore[return-value]
