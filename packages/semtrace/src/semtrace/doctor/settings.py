"""Findings on export, resource, sampler, content capture and offline token counting."""

from __future__ import annotations

import http.client
import os
from typing import Any

from semtrace.config import Settings
from semtrace.doctor.export import TracesExport, scrub, traces_export, unknown_exporters
from semtrace.doctor.finding import Finding, Severity
from semtrace.doctor.probe import ProbeResult, probe_grpc, probe_http

_ENDPOINT_FIX = "set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318) to send spans"


def exporter_finding(plan: TracesExport | None = None) -> Finding:
    """Where spans go: OTLP (protocol, endpoint, masked headers), the terminal tree, or nowhere."""
    plan = plan or traces_export()
    details: dict[str, Any] = {"mode": plan.mode, "OTEL_TRACES_EXPORTER": plan.exporter_names}
    ignored = unknown_exporters(plan.exporter_names)
    if plan.mode == "none":
        return Finding(
            "exporter",
            "Exporter",
            Severity.WARNING,
            "OTEL_TRACES_EXPORTER=none: traces are not exported (nor printed)",
            details,
            fix="unset OTEL_TRACES_EXPORTER, or set it to otlp with an endpoint",
        )
    if plan.mode == "console":
        if "otlp" in plan.exporter_names:
            note = (
                "OTEL_TRACES_EXPORTER=otlp but no endpoint is set: semtrace prints the "
                "tree instead (OpenTelemetry's own configurator would send to localhost)"
            )
            return Finding("exporter", "Exporter", Severity.WARNING, note, details, _ENDPOINT_FIX)
        return Finding(
            "exporter",
            "Exporter",
            Severity.INFO,
            "no OTLP endpoint set: each trace prints as a tree on stderr",
            details,
            fix=_ENDPOINT_FIX,
        )
    details.update(
        protocol=plan.protocol,
        protocol_from=plan.protocol_variable,
        endpoint=plan.endpoint,
        endpoint_from=plan.endpoint_variable,
        headers=plan.headers,
        headers_from=plan.header_variable,
    )
    summary = f"OTLP over {plan.protocol} to {plan.endpoint}"
    if plan.headers:
        summary += f", headers: {', '.join(f'{k}={v}' for k, v in plan.headers.items())}"
    if plan.problems:
        details["problems"] = plan.problems
        return Finding(
            "exporter", "Exporter", Severity.ERROR, summary + "; " + plan.problems[0], details,
            fix="; ".join(plan.problems),
        )  # fmt: skip
    if ignored:
        details["ignored"] = ignored
        note = f"; semtrace ignores OTEL_TRACES_EXPORTER entries {', '.join(ignored)}"
        return Finding("exporter", "Exporter", Severity.WARNING, summary + note, details)
    return Finding("exporter", "Exporter", Severity.OK, summary, details)


def endpoint_finding(timeout: float, plan: TracesExport | None = None) -> Finding | None:
    """Probe the OTLP endpoint once; None when spans do not go over OTLP.

    Args:
        timeout: Seconds to wait for the connection and for the answer.
        plan: The export plan (read from the environment if not given).
    """
    plan = plan or traces_export()
    if (
        plan.mode != "otlp"
        or plan.endpoint is None
        or plan.protocol not in ("http/protobuf", "grpc")
    ):
        return None
    fix_endpoint = f"fix {plan.endpoint_variable}: scheme://host:port, e.g. http://localhost:4318"
    if plan.endpoint_problem is not None:
        result = ProbeResult(
            Severity.ERROR,
            False,
            f"{plan.endpoint!r} is not a valid endpoint URL: {plan.endpoint_problem}; not probed",
            fix=fix_endpoint,
        )
    elif plan.unsendable_headers:
        # Sent as they are, they would fail as the exporter fails; sent without them,
        # the backend's answer would be about other credentials than the app's.
        result = ProbeResult(
            Severity.INFO,
            False,
            "not probed: a header value cannot be sent (see Exporter)",
            fix=f"fix {plan.header_variable}",
        )
    else:
        result = _probe(plan, timeout, fix_endpoint)
    details = {
        "endpoint": plan.endpoint,
        "protocol": plan.protocol,
        "reachable": result.reachable,
        "status": result.status,
        "timeout_s": timeout,
    }
    return Finding(
        "endpoint", "Endpoint probe", result.severity, result.summary, details, result.fix
    )


def _probe(plan: TracesExport, timeout: float, fix_endpoint: str) -> ProbeResult:
    assert plan.endpoint is not None
    try:
        if plan.protocol == "grpc":
            return probe_grpc(plan.endpoint, plan.raw_headers, timeout)
        return probe_http(plan.endpoint, plan.raw_headers, timeout)
    except (ValueError, http.client.HTTPException) as exc:
        # urllib's or http.client's verdict on a malformed URL (a bad port, say); their
        # message can quote what they refused, so header values are masked out of it.
        return ProbeResult(
            Severity.ERROR,
            False,
            scrub(f"{plan.endpoint!r} is not a valid endpoint URL ({exc})", plan.raw_headers),
            fix=fix_endpoint,
        )


def resource_finding() -> Finding:
    """``service.name`` and the resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    attributes = {k: v if isinstance(v, (str, int, float, bool)) else str(v)
                  for k, v in Resource.create().attributes.items()}  # fmt: skip
    name = str(attributes.get(SERVICE_NAME, ""))
    details = {"service.name": name, "attributes": attributes}
    if name.startswith("unknown_service"):
        return Finding(
            "resource",
            "Service and resource",
            Severity.WARNING,
            f"service.name is {name!r}: your spans are filed under it in the backend",
            details,
            fix="set OTEL_SERVICE_NAME=<your service> (or configure(service_name=...))",
        )
    return Finding("resource", "Service and resource", Severity.OK, f"service.name={name}", details)


_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")
_SAMPLERS = ("always_on", "always_off", "parentbased_always_on", "parentbased_always_off",
             *_RATIO_SAMPLERS)  # fmt: skip


def sampler_finding() -> Finding:
    """The head sampler the SDK builds from ``OTEL_TRACES_SAMPLER`` (``_ARG``)."""
    name = os.environ.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    arg = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    details: dict[str, Any] = {"sampler": name, "arg": arg or None}
    fix = "unset OTEL_TRACES_SAMPLER (default parentbased_always_on keeps every trace)"
    if name not in _SAMPLERS:
        summary = f"OTEL_TRACES_SAMPLER={name!r} is unknown to the SDK: it keeps every trace"
        return Finding("sampler", "Sampler", Severity.WARNING, summary, details, fix)
    if name.endswith("always_off"):
        summary = f"{name}: no trace is sampled, so none is exported"
        return Finding("sampler", "Sampler", Severity.ERROR, summary, details, fix)
    if name in _RATIO_SAMPLERS:
        try:
            ratio = float(arg) if arg else 1.0
        except ValueError:
            ratio = 1.0
        details["ratio"] = ratio
        if ratio <= 0:
            summary = f"{name} with ratio {arg}: no trace is sampled"
            return Finding("sampler", "Sampler", Severity.ERROR, summary, details, fix)
        if ratio < 1:
            summary = f"{name}: about {ratio:.0%} of traces are kept; the rest are not exported"
            return Finding("sampler", "Sampler", Severity.INFO, summary, details)
    return Finding("sampler", "Sampler", Severity.OK, f"{name}: every trace is kept", details)


def content_finding() -> Finding:
    """Whether prompt and completion text is recorded (opt-in)."""
    mode = Settings.resolve().capture
    details = {
        "mode": mode.value,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": os.environ.get(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
        ),
    }
    if mode.enabled:
        where = {
            "SPAN_ONLY": "span attributes",
            "EVENT_ONLY": "log events only, never on spans",
        }.get(mode.value, "span attributes and events")
        summary = f"{mode.value}: prompt and completion text is recorded in {where}"
    else:
        summary = "NO_CONTENT: prompts and completions are not recorded (the default)"
    return Finding("content", "Content capture", Severity.OK, summary, details)


def conventions_finding() -> Finding:
    """Which GenAI conventions spans and metrics follow: released 1.41, or the newest (opt-in)."""
    from semtrace import semconv_latest

    value = os.environ.get(semconv_latest.OTEL_SEMCONV_STABILITY_OPT_IN)
    latest = Settings.resolve().latest_conventions
    names = semconv_latest.conventions(latest)
    details = {
        "latest": latest,
        "schema_url": names.schema_url,
        semconv_latest.OTEL_SEMCONV_STABILITY_OPT_IN: value,
    }
    if latest:
        summary = (
            "the newest GenAI conventions, in development (gen_ai_latest_experimental): "
            "renamed metrics and attributes most backends do not read yet"
        )
        return Finding("conventions", "Conventions", Severity.INFO, summary, details)
    summary = "the released GenAI conventions 1.41 (the default)"
    return Finding("conventions", "Conventions", Severity.OK, summary, details)


def tokenizer_finding() -> Finding:
    """Which tiktoken encodings load without the network."""
    from semtrace._telemetry import tokens

    settings = Settings.resolve()
    try:
        from tiktoken_ext.openai_public import ENCODING_CONSTRUCTORS

        names = sorted(ENCODING_CONSTRUCTORS)
    except Exception:
        names = []
    cache_dir = tokens._tiktoken_cache_dir()
    offline = [name for name in names if tokens._in_local_cache(name, cache_dir)]
    details = {
        "count_tokens": settings.count_tokens,
        "cache_dir": cache_dir,
        "default_encoding": settings.default_encoding,
        "offline": offline,
    }
    if not settings.count_tokens:
        return Finding(
            "tokenizer",
            "Token counting",
            Severity.INFO,
            "off (SEMTRACE_COUNT_TOKENS=false)",
            details,
        )
    summary = f"available offline: {', '.join(offline) or 'none'} (cache {cache_dir})"
    if settings.default_encoding not in offline:
        return Finding(
            "tokenizer",
            "Token counting",
            Severity.WARNING,
            summary + f"; {settings.default_encoding} will be downloaded at first use, and "
            "calls whose provider reports no usage get no count if that fails",
            details,
            fix=(
                "point TIKTOKEN_CACHE_DIR at a folder holding the BPE files "
                "(docs: Token counts, offline hosts)"
            ),
        )
    return Finding("tokenizer", "Token counting", Severity.OK, summary, details)
