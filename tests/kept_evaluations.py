"""An evaluation sink that keeps what it is offered, for tests of what reaches the sinks.

The ``sink`` fixture (tests/conftest.py) installs one in the hub for the test's duration.
"""

from __future__ import annotations

from semtrace._telemetry.outbox import EvaluationRecord


class Keeping:
    """Keeps every record offered, in order."""

    name = "keeping"

    def __init__(self) -> None:
        self.records: list[EvaluationRecord] = []

    def offer(self, record: EvaluationRecord) -> None:
        self.records.append(record)
