"""semtrace's distro and configurator, each in a fresh process (one provider per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

_SCRIPT = """
import json, sys
from opentelemetry import trace
from semtrace.export import distro

component = sys.argv[1]
if component == "distro":
    distro.SemtraceDistro().configure()
else:
    distro.SemtraceConfigurator().configure(auto_instrumentation_version="0")
provider = trace.get_tracer_provider()
print(json.dumps({
    "set": not isinstance(provider, trace.ProxyTracerProvider),
    "configured_by": distro.configured_by(),
}))
"""


def _run(component: str, **env: str) -> tuple[dict[str, object], str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT), component],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout), done.stderr


def test_the_distro_sets_up_export() -> None:
    result, _ = _run("distro")
    assert result == {"set": True, "configured_by": "distro"}


def test_the_distro_leaves_set_up_to_a_configurator_the_user_named() -> None:
    result, _ = _run("distro", OTEL_PYTHON_CONFIGURATOR="configurator")
    assert result == {"set": False, "configured_by": None}


def test_the_distro_sets_up_export_when_semtrace_s_configurator_is_named() -> None:
    result, _ = _run("distro", OTEL_PYTHON_CONFIGURATOR="semtrace")
    assert result == {"set": True, "configured_by": "distro"}


def test_the_configurator_sets_up_export() -> None:
    result, _ = _run("configurator")
    assert result == {"set": True, "configured_by": "configurator"}


def test_a_bad_setting_is_logged_not_raised() -> None:
    """opentelemetry-instrument would skip every instrumentor if the configurator raised."""
    result, stderr = _run(
        "configurator",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://localhost:4318",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
    )
    assert result == {"set": False, "configured_by": None}
    assert "semtrace could not set up export under opentelemetry-instrument" in stderr
    assert "'http/json' is not a supported OTLP protocol" in stderr
    assert "semtrace doctor" in stderr
