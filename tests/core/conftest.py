"""Fixtures for the core tests."""

from __future__ import annotations

import ast
import socket
import threading
from collections.abc import Iterator

import pytest
from semtrace import _worker as worker


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on: bound by the OS, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def busy_worker() -> Iterator[threading.Event]:
    """semtrace's worker stuck on other work until the event is set."""
    gate = threading.Event()
    assert worker.submit(lambda: None)  # the worker exists
    assert worker.drain(10)
    assert worker.submit(lambda: gate.wait(30))
    try:
        yield gate
    finally:
        gate.set()
        assert worker.drain(30)


@pytest.fixture
def parsed_on(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads that called ``ast.parse`` (tracebacks on Python 3.11 do)."""
    threads: list[str] = []
    real_parse = ast.parse

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return real_parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ast, "parse", spy)
    return threads
