"""Findings on installed packages: semtrace's integrations and other GenAI instrumentations."""

from __future__ import annotations

import importlib.metadata as md
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from semtrace.doctor.finding import Finding, Severity

_INSTRUMENTOR_GROUP = "opentelemetry_instrumentor"


@dataclass(frozen=True)
class RangeCheck:
    """A framework requirement of an integration against what is installed.

    Attributes:
        package: The framework's distribution name.
        specifier: The supported range, e.g. ``>=0.3.0,<2``.
        installed: The installed version, or None.
        in_range: Whether it is inside the range (None when not installed).
    """

    package: str
    specifier: str
    installed: str | None
    in_range: bool | None


def check_range(requirement: str, installed: str | None) -> RangeCheck:
    """Check an installed version against a requirement like ``"langchain-core >= 0.3, < 2"``.

    This is the test ``opentelemetry-instrument`` applies before loading an instrumentor
    (a version outside the range is a dependency conflict and the instrumentor is skipped).

    Args:
        requirement: A PEP 508 requirement (the integration's ``_instruments`` entry).
        installed: The installed version of that package, or None if it is not installed.
    """
    req = Requirement(requirement)
    specifier = str(req.specifier)
    if installed is None:
        return RangeCheck(req.name, specifier, None, None)
    try:
        ok = req.specifier.contains(Version(installed), prereleases=True)
    except InvalidVersion:
        ok = False
    return RangeCheck(req.name, specifier, installed, ok)


def _version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def _instruments(dist: md.Distribution) -> list[str]:
    """The framework ranges an integration declares (its ``instruments`` extra)."""
    found = []
    for line in dist.requires or ():
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and req.marker.evaluate({"extra": "instruments"}):
            req.marker = None
            found.append(str(req))
    return found


def _entry_points(dist: md.Distribution) -> list[str]:
    return [ep.name for ep in dist.entry_points if ep.group == _INSTRUMENTOR_GROUP]


def _distributions() -> dict[str, md.Distribution]:
    """Installed distributions by canonical name (the first on sys.path wins, as for imports)."""
    found: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            found.setdefault(canonicalize_name(name), dist)
    return found


def integrations_finding(dists: dict[str, md.Distribution] | None = None) -> Finding:
    """The semtrace integrations installed, and whether each framework's version is supported."""
    dists = dists if dists is not None else _distributions()
    rows: list[dict[str, Any]] = []
    out_of_range: list[str] = []
    for name, dist in sorted(dists.items()):
        if not name.startswith("semtrace-") or not _entry_points(dist):
            continue
        for requirement in _instruments(dist):
            check = check_range(requirement, _version(Requirement(requirement).name))
            rows.append({
                "integration": name,
                "version": dist.version,
                "entry_points": _entry_points(dist),
                "framework": check.package,
                "supported": check.specifier,
                "installed": check.installed,
                "in_range": check.in_range,
            })  # fmt: skip
            if check.in_range is False:
                out_of_range.append(
                    f"{check.package} {check.installed} is outside {name}'s {check.specifier}"
                )
    details = {"integrations": rows}
    if not rows:
        return Finding(
            "integrations",
            "Integrations",
            Severity.ERROR,
            "no semtrace integration is installed: nothing records LangChain or LlamaIndex runs",
            details,
            fix='pip install "semtrace[langchain]" or "semtrace[llamaindex]"',
        )
    if out_of_range:
        return Finding(
            "integrations",
            "Integrations",
            Severity.ERROR,
            "; ".join(out_of_range) + ": opentelemetry-instrument skips that instrumentor",
            details,
            fix="install a supported framework version, or a semtrace release that supports yours",
        )
    active = [
        f"{r['integration']} ({r['framework']} {r['installed']})" for r in rows if r["installed"]
    ]
    summary = f"in range: {', '.join(active)}" if active else "installed, but no framework is"
    return Finding(
        "integrations",
        "Integrations",
        Severity.OK if active else Severity.WARNING,
        summary,
        details,
    )


# Other GenAI instrumentations: framework-level ones record the same runs semtrace does;
# provider-level ones record the model call under semtrace's model span.
_FRAMEWORK_LEVEL = {"langchain", "llamaindex", "llama-index", "langgraph"}
_OFFICIAL_GENAI = {
    "opentelemetry-instrumentation-openai-v2",
    "opentelemetry-instrumentation-genai-openai",
    "opentelemetry-instrumentation-openai-agents-v2",
    "opentelemetry-instrumentation-google-genai",
    "opentelemetry-instrumentation-vertexai",
    "opentelemetry-instrumentation-langchain",
    "opentelemetry-instrumentation-anthropic",
    "opentelemetry-instrumentation-bedrock",
}


def _origin(name: str, dist: md.Distribution) -> str | None:
    """Which project an instrumentation package comes from, or None if it is not GenAI."""
    meta = dist.metadata
    fields = ("Project-URL", "Home-page", "Author", "Author-email")
    text = " ".join(str(v) for k in fields for v in (meta.get_all(k) or [])) if meta else ""
    if name.startswith("openinference-instrumentation-"):
        return "OpenInference"
    if "traceloop" in text.lower() or "openllmetry" in text.lower() or name == "traceloop-sdk":
        return "OpenLLMetry (Traceloop)"
    if name in _OFFICIAL_GENAI or name.startswith("opentelemetry-instrumentation-genai-"):
        return "OpenTelemetry contrib"
    return None


def _target(name: str) -> str:
    for prefix in ("openinference-instrumentation-", "opentelemetry-instrumentation-", "genai-"):
        name = name.removeprefix(prefix)
    return name.removesuffix("-v2")


def _disable_hint(entry_points: list[str]) -> str:
    names = ",".join(entry_points)
    return f", or disable it: OTEL_PYTHON_DISABLED_INSTRUMENTATIONS={names}" if names else ""


def _what_to_do(name: str, entry_points: list[str], ours: set[str]) -> str:
    """Advice for one other instrumentation; framework-level ones record the same runs."""
    if _target(name) in _FRAMEWORK_LEVEL:
        advice = (
            f"uninstall it (pip uninstall {name}): it records the same runs as semtrace "
            "(or keep it instead of semtrace's integration and have semtrace judge its "
            "spans: configure(verdicts=True), see semtrace.adopt)"
        )
        clash = sorted(set(entry_points) & ours)
        if clash:  # OTEL_PYTHON_DISABLED_INSTRUMENTATIONS would turn semtrace's off too
            return (
                advice
                + f"; its entry point {clash} has semtrace's name, so only uninstalling works"
            )
        return advice + _disable_hint(entry_points)
    return (
        "keep it if you like: its model span nests under semtrace's, and the provider "
        "semtrace.configure() sets up drops that duplicate; with your own provider, call "
        "semtrace.export.dedupe.install(tracer_provider)" + _disable_hint(entry_points)
    )


def duplicates_finding(dists: dict[str, md.Distribution] | None = None) -> Finding:
    """Other GenAI instrumentations that would record the same calls a second time."""
    dists = dists if dists is not None else _distributions()
    ours = {ep for n, d in dists.items() if n.startswith("semtrace-") for ep in _entry_points(d)}
    rows: list[dict[str, Any]] = []
    for name, dist in sorted(dists.items()):
        origin = _origin(name, dist)
        if origin is None:
            continue
        entry_points = _entry_points(dist)
        rows.append({
            "package": name,
            "version": dist.version,
            "origin": origin,
            "instruments": _target(name),
            "level": "framework" if _target(name) in _FRAMEWORK_LEVEL else "provider",
            "entry_points": entry_points,
            "what_to_do": _what_to_do(name, entry_points, ours),
        })  # fmt: skip
    if not rows:
        return Finding(
            "duplicates", "Other GenAI instrumentations", Severity.OK, "none installed",
            {"packages": []},
        )  # fmt: skip
    framework = any(r["level"] == "framework" for r in rows)
    summary = "; ".join(f"{r['package']} ({r['origin']}, {r['level']} level)" for r in rows)
    fix = " | ".join(f"{r['package']}: {r['what_to_do']}" for r in rows)
    severity = Severity.WARNING if framework else Severity.INFO
    return Finding(
        "duplicates", "Other GenAI instrumentations", severity, summary, {"packages": rows}, fix
    )
