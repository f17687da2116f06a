"""Fixtures of the hardening suites.

Every hardening test that records spans uses the suite-wide ``telemetry`` fixture, whose
span checker fails a test on a span that never ends or ends after its trace's root. The
SDK silently ignores a second ``end()`` (it logs a warning and calls no span processor),
so the checker alone cannot see a span ended twice: ``sdk_misuse`` below turns those
warnings (and attribute/event/status writes on ended spans) into failures too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest

from tests.hardening import faults

#: What the SDK logs when a span is used after it ended.
SDK_MISUSE = (
    "Calling end() on an ended span",
    "Setting attribute on ended span",
    "on an ended span",
)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sdk_misuse_expected: the test provokes span misuse on purpose"
    )


@contextlib.contextmanager
def watch_sdk_misuse() -> Iterator[list[str]]:
    """Collect what the SDK reports of spans used after they ended, while inside."""
    handler = _Collect()
    logger = logging.getLogger("opentelemetry.sdk.trace")
    logger.addHandler(handler)
    found: list[str] = []
    try:
        yield found
    finally:
        logger.removeHandler(handler)
        found += [
            r.getMessage() for r in handler.records if any(m in r.getMessage() for m in SDK_MISUSE)
        ]


@pytest.fixture(autouse=True)
def sdk_misuse(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if the SDK reports a span ended twice or written after its end."""
    with watch_sdk_misuse() as found:
        yield
    if found and request.node.get_closest_marker("sdk_misuse_expected") is None:
        pytest.fail("span used after it ended:\n" + "\n".join(found), pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if faults.TRIED:
        fired = sum(1 for case in faults.TRIED if case.hits)
        ids = {case.fault for case in faults.TRIED}
        scenarios = {case.scenario for case in faults.TRIED}
        terminalreporter.write_line(
            f"fault injection: {len(faults.TRIED)} cases tried ({len(ids)} faults x "
            f"{len(scenarios)} scenarios, where reached), {fired} fired"
        )
