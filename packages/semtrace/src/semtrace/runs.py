"""The bounded table of runs in flight, keyed by the framework's run ids.

Parent/child comes from the framework's ids (LangChain's ``run_id``/``parent_run_id``,
LlamaIndex's span ids), never from whatever OpenTelemetry context happens to be
current: callbacks of concurrent runs interleave on one thread (asyncio) or arrive on
other threads (thread pools), so the ambient context is not the run's.

Runs that are not recorded (framework plumbing) are kept as :class:`Link` entries that
point at their nearest recorded ancestor, so their children are re-parented there.

Bounded: past ``max_open`` entries, or once an entry is older than ``timeout_s``, the
oldest entries are evicted and handed back so their spans can be ended.

Example:
    >>> table = RunTable(max_open=2, timeout_s=60)
    >>> table.add("a", Link(None, trace=None))
    []
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from semtrace.quality.checks import TraceChecks
from semtrace.records import Start


@dataclass(slots=True)
class TraceState:
    """What one trace has seen so far, for the quality signals and roll-ups."""

    question: str | None = None
    contexts: list[str] = field(default_factory=list)
    #: user/session/conversation/tags set on every span of the trace
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    #: the prompt template (name, version) the next model call of this trace uses
    prompt: tuple[str, str | None] | None = None
    #: recorded runs of this trace not yet ended
    open_runs: int = 0
    #: the root's span and end time, when the root ended before some of its runs
    pending_root: tuple[Span, int] | None = None
    #: roll-ups for the root span
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    currency: str | None = None
    #: the second-generation checks' per-trace state (created on first use)
    checks: TraceChecks | None = None


@dataclass(slots=True)
class Run:
    """A run recorded as a span."""

    span: Span
    context: Context
    start: Start
    started_ns: int
    trace: TraceState
    recording: bool
    is_root: bool = False
    created: float = field(default_factory=time.monotonic)
    first_chunk_ns: int | None = None
    input_count: Future[Any] | None = None


@dataclass(slots=True)
class Link:
    """A run not recorded as a span: its children attach to ``target`` instead."""

    target: Run | None
    trace: TraceState | None
    created: float = field(default_factory=time.monotonic)


Entry = Run | Link


class RunTable:
    """Runs in flight; thread-safe; never holds more than ``max_open`` entries."""

    def __init__(self, max_open: int, timeout_s: float) -> None:
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._max_open = max_open
        self._timeout_s = timeout_s

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable | None) -> Entry | None:
        """The entry for ``key``, if it is in flight."""
        return None if key is None else self._entries.get(key)

    def add(self, key: Hashable, entry: Entry) -> list[Run]:
        """Store ``entry``; return the runs evicted to make room or timed out."""
        evicted: list[Run] = []
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            deadline = entry.created - self._timeout_s
            # Insertion order is start order, so only the head can be too old.
            while self._entries:
                oldest_key, oldest = next(iter(self._entries.items()))
                if len(self._entries) <= self._max_open and oldest.created >= deadline:
                    break
                del self._entries[oldest_key]
                if isinstance(oldest, Run):
                    evicted.append(oldest)
        return evicted

    def pop(self, key: Hashable) -> Entry | None:
        """Remove and return the entry for ``key``."""
        with self._lock:
            return self._entries.pop(key, None)

    def drain(self) -> list[Run]:
        """Remove every entry; return the runs among them."""
        with self._lock:
            runs = [e for e in self._entries.values() if isinstance(e, Run)]
            self._entries.clear()
        return runs
