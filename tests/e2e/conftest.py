"""Session-scoped real backends for the e2e tests (see backends.py).

A backend that is not installed FAILS the tests that need it (never skips): CI installs them with
``.ci/e2e-setup.sh``. Every test under tests/e2e is marked ``e2e`` (deselect with ``-m "not e2e"``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Make `import backends` work whatever pytest's import mode is.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import backends  # noqa: E402
from backends import Phoenix, Prometheus  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test against real backends")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(Path(_HERE)):
            item.add_marker(pytest.mark.e2e)


_SETUP = Path(__file__).resolve().parents[2] / ".ci" / "e2e-setup.sh"
_setup_ran = False


def _install_backends() -> None:
    """Run the repo's own e2e set-up once per session, so `uv run pytest` needs nothing else."""
    global _setup_ran
    if not _setup_ran:
        _setup_ran = True
        subprocess.run(["bash", str(_SETUP)], check=False)


def _start_or_fail(name: str, start):  # type: ignore[no-untyped-def]
    """Start a backend, installing it first if needed; on any problem FAIL (not skip)."""
    try:
        try:
            return start()
        except backends.BackendNotInstalled:
            _install_backends()
            return start()
    except backends.BackendNotInstalled as exc:
        message = f"{name} is not installed: {exc}"
    except (backends.BackendStartError, TimeoutError) as exc:
        message = f"{name} failed to start: {exc}"
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    """A Phoenix server on loopback ports (HTTP + OTLP gRPC), fresh DB, shared by the session.

    Isolate tests by sending each to its own project (resource attribute
    ``openinference.project.name``) or by filtering on trace_id.
    """
    server: Phoenix = _start_or_fail(
        "Arize Phoenix", lambda: backends.start_phoenix(tmp_path_factory.mktemp("phoenix"))
    )
    print(f"\n[e2e] {server} version={server.version} up in {server.startup_seconds:.1f}s")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """A Prometheus server on a loopback port, 1 s scrape interval, no targets yet.

    Add targets with ``prometheus_server.add_scrape_target("127.0.0.1:PORT")`` (hot reload).
    """
    server: Prometheus = _start_or_fail(
        "Prometheus",
        lambda: backends.start_prometheus(tmp_path_factory.mktemp("prometheus"), scrape_targets=()),
    )
    print(f"\n[e2e] {server} up in {server.startup_seconds:.1f}s")
    try:
        yield server
    finally:
        server.stop()
