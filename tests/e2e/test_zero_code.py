"""Zero-code start in a fresh virtual environment: `opentelemetry-instrument python app.py`.

The environment holds semtrace, semtrace-langchain (both from this checkout) and
langchain-core, and no OpenTelemetry distro: semtrace's own distro and configurator must
set up export, or no span would be seen. Spans must reach the terminal tree (no
endpoint) and a local OTLP/HTTP receiver (endpoint set). A second environment adds
``opentelemetry-distro``, to check the precedence rules of docs/zero-code.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.core.otlp_servers import Received, http_server

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "data" / "zero_code_app.py"
ROOT_SPAN = "invoke_workflow RunnableSequence"


def _make_venv(root: Path, *extra: str) -> Path:
    """A fresh venv with semtrace and semtrace-langchain from this checkout; its bin folder."""
    uv = shutil.which("uv")
    assert uv, "uv is needed to build the test's virtual environment"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(root)], env=env, check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(root / "bin" / "python"),
         str(REPO / "packages" / "semtrace"), str(REPO / "integrations" / "langchain"),
         "langchain-core", *extra],
        env=env,
        check=True,
        timeout=600,
    )  # fmt: skip
    return root / "bin"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """semtrace and LangChain, no distro."""
    return _make_venv(tmp_path_factory.mktemp("venv-plain"))


@pytest.fixture(scope="module")
def with_distro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, plus opentelemetry-distro (its distro "distro", configurator "configurator")."""
    return _make_venv(tmp_path_factory.mktemp("venv-distro"), "opentelemetry-distro")


@pytest.fixture
def receiver() -> Iterator[tuple[int, Received]]:
    with http_server() as server:
        yield server


def _env(tmp_path: Path, **env: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "SEMTRACE_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    empty = tmp_path / "empty-tiktoken-cache"
    empty.mkdir(exist_ok=True)
    # Empty at start-up: the app sets the real folder itself (tests/conftest.py made it).
    return {**clean, "TIKTOKEN_CACHE_DIR": str(empty), **env}


def _instrument(bin_dir: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cache = os.environ["TIKTOKEN_CACHE_DIR"]
    done = subprocess.run(
        [str(bin_dir / "opentelemetry-instrument"), str(bin_dir / "python"), str(APP), cache],
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "answer: Paris is the capital of France." in done.stdout
    return done


def _doctor(bin_dir: Path, tmp_path: Path, *prefix: str, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        [*prefix, str(bin_dir / "semtrace"), "doctor", "--json", "--no-probe"],
        env=_env(tmp_path, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="*", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    document: dict[str, Any] = json.loads(done.stdout)
    assert document["exit_status"] == done.returncode, done.stderr
    return {f["id"]: f for f in document["findings"]}


def _spans(received: Received) -> list[tuple[str, str, dict[str, Any]]]:
    """(service.name, span name, attributes) of every span the receiver got on /v1/traces."""
    spans = []
    for path, _, body in received.requests:
        if path != "/v1/traces":
            continue
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value for a in span.attributes}
                    spans.append((resource.get("service.name", ""), span.name, attributes))
    return spans


def _assert_tree(stderr: str) -> None:
    assert ROOT_SPAN in stderr, stderr[-4000:]
    assert "└── chat" in stderr
    assert "tokens=14→7 (tiktoken)" in stderr  # counted though the cache folder came late
    assert "could not be loaded" not in stderr


# --- no distro installed: semtrace's distro and configurator set up export -------------------


def test_no_distro_is_installed_and_semtrace_s_would_load(plain: Path, tmp_path: Path) -> None:
    zero_code = _doctor(plain, tmp_path)["zero_code"]
    assert zero_code["severity"] == "ok"
    assert zero_code["details"]["distro"]["installed"] == ["semtrace (semtrace)"]
    assert zero_code["details"]["configurator"]["installed"] == ["semtrace (semtrace)"]


def test_spans_print_as_the_tree_without_an_endpoint(plain: Path, tmp_path: Path) -> None:
    _assert_tree(_instrument(plain, tmp_path).stderr)


def test_spans_reach_an_otlp_receiver(
    plain: Path, tmp_path: Path, receiver: tuple[int, Received]
) -> None:
    port, received = receiver
    done = _instrument(
        plain,
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        OTEL_SERVICE_NAME="zero-code-app",
    )
    spans = _spans(received)
    names = [name for _, name, _ in spans]
    assert ROOT_SPAN in names and any(n.startswith("chat") for n in names), names
    assert {service for service, _, _ in spans} == {"zero-code-app"}
    chat = next(attrs for _, name, attrs in spans if name.startswith("chat"))
    assert chat["gen_ai.usage.input_tokens"].int_value == 14
    assert ROOT_SPAN not in done.stderr  # OTLP set: no tree unless asked for


# --- opentelemetry-distro installed beside semtrace: the names decide -------------------------


def test_two_distros_and_none_named_is_a_warning(with_distro: Path, tmp_path: Path) -> None:
    zero_code = _doctor(with_distro, tmp_path)["zero_code"]
    assert zero_code["severity"] == "warning"
    assert "2 distros installed" in zero_code["summary"]
    assert sorted(zero_code["details"]["distro"]["installed"]) == [
        "distro (opentelemetry-distro)",
        "semtrace (semtrace)",
    ]


def test_semtrace_named_sets_up_export(with_distro: Path, tmp_path: Path) -> None:
    done = _instrument(
        with_distro, tmp_path, OTEL_PYTHON_DISTRO="semtrace", OTEL_PYTHON_CONFIGURATOR="semtrace"
    )
    _assert_tree(done.stderr)


def test_semtrace_s_distro_named_alone_is_enough(with_distro: Path, tmp_path: Path) -> None:
    """Whichever configurator loads first, semtrace's distro has set the providers."""
    _assert_tree(_instrument(with_distro, tmp_path, OTEL_PYTHON_DISTRO="semtrace").stderr)


def test_opentelemetry_distro_named_sets_up_export_its_way(
    with_distro: Path, tmp_path: Path, receiver: tuple[int, Received]
) -> None:
    port, received = receiver
    done = _instrument(
        with_distro,
        tmp_path,
        OTEL_PYTHON_DISTRO="distro",
        OTEL_PYTHON_CONFIGURATOR="configurator",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
        # opentelemetry-distro defaults to grpc, whose exporter is not installed here
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
    )
    names = [name for _, name, _ in _spans(received)]
    assert ROOT_SPAN in names, names  # semtrace's instrumentor, OpenTelemetry's SDK set-up
    assert ROOT_SPAN not in done.stderr  # and not semtrace's tree


def test_the_doctor_sees_a_named_configurator_that_exports_nothing(
    with_distro: Path, tmp_path: Path
) -> None:
    """semtrace's distro steps aside for the named configurator, which has no exporter."""
    bin_dir = with_distro
    findings = _doctor(
        bin_dir,
        tmp_path,
        str(bin_dir / "opentelemetry-instrument"),
        OTEL_PYTHON_DISTRO="semtrace",
        OTEL_PYTHON_CONFIGURATOR="configurator",
    )
    provider = findings["tracer_provider"]
    assert provider["severity"] == "error"
    assert "with no exporter" in provider["summary"]
