"""One finding of ``semtrace doctor``: what was checked, how it stands, and what to do."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.Enum):
    """How a finding stands. Only ``ERROR`` means something blocks export."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """One thing the doctor checked.

    Attributes:
        id: Stable identifier (``"exporter"``, ``"endpoint"``, ...), for ``--json`` users.
        title: Short human title.
        severity: How it stands.
        summary: One line: what was found.
        details: Facts behind it (JSON-serialisable values; secrets already masked).
        fix: What to do about it, when there is something to do.
    """

    id: str
    title: str
    severity: Severity
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain JSON-serialisable data."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value,
            "summary": self.summary,
            "details": self.details,
            "fix": self.fix,
        }
