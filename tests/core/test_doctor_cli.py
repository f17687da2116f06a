"""`semtrace doctor` as users run it: a fresh process, text or JSON, and its exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.core.otlp_servers import http_server

BIN = Path(sys.executable).parent
IDS = {
    "tracer_provider", "meter_provider", "zero_code", "exporter", "resource", "sampler",
    "content", "conventions", "tokenizer", "integrations", "duplicates", "evaluation_sinks",
    "content_sources",  # the dev group installs other GenAI instrumentations (tests/adopt)
}  # fmt: skip
SEVERITIES = {"ok", "info", "warning", "error"}


def _env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    clean.pop("PYTHONPATH", None)
    return {**clean, "OTEL_SERVICE_NAME": "doctor-test", **env}


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=_env(**env), capture_output=True, text=True, timeout=180, check=False
    )


def _findings(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    document = json.loads(done.stdout)
    return {f["id"]: f for f in document["findings"]}


def test_json_schema_and_a_clean_exit() -> None:
    done = _run([sys.executable, "-m", "semtrace", "doctor", "--json", "--no-probe"])
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"schema_version", "semtrace_version", "ok", "exit_status", "findings"}
    assert (document["schema_version"], document["ok"], document["exit_status"]) == (1, True, 0)
    for finding in document["findings"]:
        assert set(finding) == {"id", "title", "severity", "summary", "details", "fix"}
        assert finding["severity"] in SEVERITIES
        assert isinstance(finding["details"], dict)
    ids = [f["id"] for f in document["findings"]]
    assert set(ids) == IDS and len(ids) == len(IDS)  # no probe asked: no "endpoint"
    provider = _findings(done)["tracer_provider"]
    assert (provider["severity"], provider["details"]["set"]) == ("info", False)


def test_a_closed_port_makes_the_console_script_exit_1(closed_port: int) -> None:
    done = _run(
        [str(BIN / "semtrace"), "doctor"],
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{closed_port}",
        OTEL_EXPORTER_OTLP_HEADERS="api-key=hunter2",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[FAIL] Endpoint probe: unreachable: connection refused" in done.stdout
    assert "api-key=***" in done.stdout
    assert "hunter2" not in done.stdout
    assert "problem(s) block export" in done.stdout


def test_a_bad_option_exits_2() -> None:
    done = _run([sys.executable, "-m", "semtrace", "doctor", "--bogus"])
    assert done.returncode == 2
    assert "unrecognized arguments: --bogus" in done.stderr


def test_under_opentelemetry_instrument_the_doctor_sees_semtrace_s_provider() -> None:
    done = _run(
        [str(BIN / "opentelemetry-instrument"), str(BIN / "semtrace"), "doctor", "--json"],
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="*",  # the set-up is what is checked here
    )
    assert done.returncode == 0, done.stdout + done.stderr
    provider = _findings(done)["tracer_provider"]
    assert provider["severity"] == "ok"
    assert provider["details"]["set_by"] == "semtrace's distro (opentelemetry-instrument)"
    assert provider["details"]["exporters"] == ["semtrace.export.console.ConsoleTreeExporter"]


def test_no_provider_under_opentelemetry_instrument_blocks_export() -> None:
    done = _run(
        [str(BIN / "opentelemetry-instrument"), str(BIN / "semtrace"), "doctor", "--json"],
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="*",
        OTEL_PYTHON_DISTRO="nope",
        OTEL_PYTHON_CONFIGURATOR="nope",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    findings = _findings(done)
    assert findings["tracer_provider"]["severity"] == "error"
    assert findings["tracer_provider"]["summary"].startswith("no tracer provider is set")
    zero_code = findings["zero_code"]
    assert zero_code["severity"] == "warning"
    assert "OTEL_PYTHON_DISTRO='nope' names no installed distro" in zero_code["summary"]


_IN_APP = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from semtrace.doctor import diagnose, exit_status

if sys.argv[1] == "sdk-without-exporter":
    trace.set_tracer_provider(TracerProvider())
findings = diagnose(probe=False, in_app=True)
provider = next(f for f in findings if f.id == "tracer_provider")
print(json.dumps([provider.severity.value, provider.summary, exit_status(findings)]))
"""


def test_called_from_an_app_without_a_provider() -> None:
    done = _run([sys.executable, "-c", textwrap.dedent(_IN_APP), "nothing"])
    severity, summary, status = json.loads(done.stdout)
    assert (severity, status) == ("error", 1)
    assert "every span is dropped" in summary


def test_an_sdk_provider_with_no_exporter_drops_every_span() -> None:
    done = _run([sys.executable, "-c", textwrap.dedent(_IN_APP), "sdk-without-exporter"])
    severity, summary, status = json.loads(done.stdout)
    assert (severity, status) == ("error", 1)
    assert "with no exporter" in summary
    assert "another library or the application (opentelemetry.sdk.trace)" in summary


# --- endpoints the exporter cannot send to, and header values (issue 26) ---

SECRET = "s3cr3t-t0ken"


def test_an_endpoint_with_a_space_exits_1() -> None:
    done = _run(
        [sys.executable, "-m", "semtrace", "doctor", "--json"],
        OTEL_EXPORTER_OTLP_ENDPOINT="http://collector host:4318",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert _findings(done)["exporter"]["severity"] == "error"


def test_an_http_endpoint_without_a_scheme_exits_1_though_a_receiver_listens() -> None:
    with http_server() as (port, _):
        done = _run(
            [sys.executable, "-m", "semtrace", "doctor", "--json"],
            OTEL_EXPORTER_OTLP_ENDPOINT=f"127.0.0.1:{port}",
        )
    assert done.returncode == 1, done.stdout + done.stderr
    exporter = _findings(done)["exporter"]
    assert exporter["severity"] == "error"
    assert "http://" in exporter["fix"]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_header_value_with_an_encoded_newline_is_never_printed(as_json: bool) -> None:
    with http_server() as (port, received):
        done = _run(
            [sys.executable, "-m", "semtrace", "doctor", *(["--json"] if as_json else [])],
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
            OTEL_EXPORTER_OTLP_HEADERS=f"authorization=Bearer%20{SECRET}%0Aevil",
        )
    assert SECRET not in done.stdout and SECRET not in done.stderr, done.stdout + done.stderr
    assert done.returncode == 1, done.stdout  # the exporter cannot send that header
    assert not received.requests  # nor does the probe try


def test_a_header_entry_otel_cannot_parse_is_not_printed_by_its_log_line() -> None:
    done = _run(
        [sys.executable, "-m", "semtrace", "doctor", "--no-probe"],
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318",
        OTEL_EXPORTER_OTLP_HEADERS=f'x-api-key="{SECRET}"',  # a quote: not key=value
    )
    assert SECRET not in done.stdout and SECRET not in done.stderr, done.stdout + done.stderr
    assert "1 of 1 entries are not `key=value`" in done.stdout
