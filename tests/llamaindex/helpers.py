"""Small readers of recorded spans, shared by the LlamaIndex tests."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from semtrace import semconv
from semtrace.testing import Telemetry

CONTENT_KEYS = semconv.CONTENT_ATTRIBUTES


def attrs(span: ReadableSpan) -> dict[str, Any]:
    """A span's attributes as a plain dict."""
    return dict(span.attributes or {})


def operation(span: ReadableSpan) -> str | None:
    """A span's ``gen_ai.operation.name``."""
    return attrs(span).get("gen_ai.operation.name")


def operations(telemetry: Telemetry) -> list[str | None]:
    """The operations of the finished spans, in start order."""
    return [operation(s) for s in sorted(telemetry.spans(), key=lambda s: s.start_time or 0)]


def traces(telemetry: Telemetry) -> dict[int, list[ReadableSpan]]:
    """Finished spans grouped by trace id."""
    grouped: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in telemetry.spans():
        grouped[span.context.trace_id].append(span)
    return dict(grouped)


def only(telemetry: Telemetry, op: str) -> ReadableSpan:
    """The one finished span of operation ``op``."""
    found = telemetry.by_operation(op)
    assert len(found) == 1, [s.name for s in telemetry.spans()]
    return found[0]


def parent_name(telemetry: Telemetry, span: ReadableSpan) -> str | None:
    """The name of ``span``'s parent span, if recorded."""
    parent = telemetry.parent_of(span)
    return parent.name if parent is not None else None
