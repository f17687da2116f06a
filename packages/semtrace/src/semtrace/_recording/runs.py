"""The bounded table of runs in flight, keyed by the framework's run ids.

Parent/child comes from the framework's ids (LangChain's ``run_id``/``parent_run_id``,
LlamaIndex's span ids), never from whatever OpenTelemetry context happens to be
current: callbacks of concurrent runs interleave on one thread (asyncio) or arrive on
other threads (thread pools), so the ambient context is not the run's.

Runs that are not recorded (framework plumbing) are kept as :class:`Skipped` entries that
point at their nearest recorded ancestor, so their children are re-parented there.

Bounded (:class:`semtrace._recording.bounded.BoundedTable`): past ``max_open`` entries, or once an
entry is older than ``timeout_s``, the oldest entries are evicted and handed back so
their spans can be ended.

Example:
    >>> table = RunTable(max_open=2, timeout_s=60)
    >>> table.add("a", Skipped(None, trace=None))
    []
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from semtrace._recording.bounded import BoundedTable
from semtrace._telemetry.run import OpenTrace, Run


@dataclass(slots=True)
class Skipped:
    """A run not recorded as a span: its children attach to ``target`` instead.

    (Not a span ``Link``: nothing of it is exported.)

    Plumbing an integration skipped (:meth:`Recorder.skip`) may yet turn out to be an
    agent (:meth:`Recorder.promote`): a graph nested in another is known for one only
    when its first step starts. ``name`` and ``input`` are what it would be recorded
    with then; ``name`` is None for a run skipped for good (its operation dropped,
    instrumentation suppressed, its span failed to start).
    """

    target: Run | None
    trace: OpenTrace | None
    created: float = field(default_factory=time.monotonic)
    name: str | None = None
    input: Any = None


Entry = Run | Skipped


class RunTable(BoundedTable[Hashable, Entry]):
    """Runs in flight by the framework's run id; thread-safe; at most ``max_open``.

    Evicted and drained entries include :class:`Skipped` ones: only a :class:`Run` has a
    span to end.
    """
