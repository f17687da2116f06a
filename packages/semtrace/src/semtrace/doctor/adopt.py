"""Whether the other GenAI instrumentations installed record the content verdicts need.

semtrace's verdicts on another instrumentation's spans (:mod:`semtrace.adopt`) read the
prompts, answers and retrieved documents those spans carry. Each instrumentation has its
own switch for content, most of them off by default: this finding names the switch of
each one installed, and how it is set here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

from semtrace.doctor.finding import Finding, Severity
from semtrace.doctor.packages import _distributions

ON: Final = frozenset({"span_only", "span_and_event", "true", "1"})


def _official(env: Mapping[str, str]) -> tuple[bool, str]:
    name = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    value = env.get(name, "")
    return value.strip().lower() in ON, f"{name}=SPAN_ONLY (now {value or 'unset'})"


def _openinference(env: Mapping[str, str]) -> tuple[bool, str]:
    hidden = [
        n
        for n in ("OPENINFERENCE_HIDE_INPUTS", "OPENINFERENCE_HIDE_OUTPUTS")
        if env.get(n, "").strip().lower() == "true"
    ]
    return not hidden, f"unset {', '.join(hidden)}" if hidden else "on by default"


def _openllmetry(env: Mapping[str, str]) -> tuple[bool, str]:
    value = env.get("TRACELOOP_TRACE_CONTENT", "")
    off = value.strip().lower() in ("false", "0")
    return not off, "TRACELOOP_TRACE_CONTENT=true" if off else "on by default"


#: package prefix -> who it is, and how its content switch stands.
SOURCES: Final[tuple[tuple[str, str, Callable[[Mapping[str, str]], tuple[bool, str]]], ...]] = (
    ("opentelemetry-instrumentation-genai-", "official OpenTelemetry", _official),
    ("opentelemetry-instrumentation-openai-v2", "official OpenTelemetry", _official),
    ("openinference-instrumentation-", "OpenInference", _openinference),
    ("opentelemetry-instrumentation-langchain", "OpenLLMetry", _openllmetry),
    ("opentelemetry-instrumentation-llamaindex", "OpenLLMetry", _openllmetry),
    ("traceloop-sdk", "OpenLLMetry", _openllmetry),
)


def content_sources_finding(
    names: list[str] | None = None, env: Mapping[str, str] | None = None
) -> Finding | None:
    """The content switch of each other GenAI instrumentation installed; None if none is."""
    names = names if names is not None else sorted(_distributions())
    env = env if env is not None else os.environ
    rows: list[dict[str, Any]] = []
    for name in names:
        for prefix, origin, switch in SOURCES:
            if name.startswith(prefix):
                records, how = switch(env)
                rows.append({"package": name, "origin": origin, "content": records, "how": how})
                break
    if not rows:
        return None
    off = [r for r in rows if not r["content"]]
    title = "Content for verdicts on other instrumentations' spans"
    if not off:
        summary = "every other GenAI instrumentation installed records content"
        return Finding("content_sources", title, Severity.OK, summary, {"packages": rows})
    summary = "; ".join(f"{r['package']} records no content" for r in off)
    fix = (
        "semtrace.adopt's verdicts need the prompts and answers: "
        + " | ".join(f"{r['package']}: {r['how']}" for r in off)
        + " (configure(verdicts=True, strip_content=True) keeps the text out of the backend)"
    )
    return Finding("content_sources", title, Severity.INFO, summary, {"packages": rows}, fix)
