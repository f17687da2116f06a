"""A thread-safe table of things in flight that cannot grow without bound.

The core's run table (:class:`semtrace._recording.runs.RunTable`) and the LlamaIndex
integration's span table are both one of these: entries by id, in the order they
started; past ``max_open`` entries, or once the oldest is older than ``timeout_s``, the
oldest entries are evicted and handed back, so whatever they hold (an open span) can
be ended. Entries whose end never comes (an abandoned stream, a dropped task) cannot
grow memory.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Entry:
    ...     created: float
    >>> table = BoundedTable[str, Entry](max_open=1, timeout_s=60)
    >>> table.add("a", Entry(created=0.0))
    []
    >>> table.add("b", Entry(created=1.0))
    [Entry(created=0.0)]
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    """An entry knows when it was created (``time.monotonic()`` seconds)."""

    @property
    def created(self) -> float:
        """When the entry was created."""
        ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Timed)


class BoundedTable(Generic[K, V]):
    """Entries by key in insertion order; never more than ``max_open``; thread-safe.

    Args:
        max_open: Most entries held; adding one past it evicts the oldest.
        timeout_s: An entry older than this is evicted by the next :meth:`add`.

    Attributes:
        lock: Reentrant; held by every method, and free for subclasses to extend.
    """

    def __init__(self, max_open: int, timeout_s: float) -> None:
        self.lock = threading.RLock()
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._max_open = max_open
        self._timeout_s = timeout_s

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K | None) -> V | None:
        """The entry for ``key``, if it is in flight."""
        return None if key is None else self._entries.get(key)

    def add(self, key: K, entry: V) -> list[V]:
        """Store ``entry``; return the entries evicted to make room or timed out.

        An entry that :meth:`pinned` says must stay is skipped, however old.
        """
        with self.lock:
            entries = self._entries
            entries[key] = entry
            entries.move_to_end(key)
            if (
                len(entries) <= self._max_open
                and next(iter(entries.values())).created >= entry.created - self._timeout_s
            ):
                return []  # the common case, decided by the head alone (one add per run)
            return self._evict(entry)

    def _evict(self, newest: V) -> list[V]:
        """Remove and return what :meth:`add` of ``newest`` pushed out (under the lock)."""
        excess = len(self._entries) - self._max_open
        deadline = newest.created - self._timeout_s
        evicted: list[tuple[K, V]] = []
        # Insertion order is start order: only the head can be too old.
        for old_key, old in self._entries.items():
            if excess <= 0 and old.created >= deadline:
                break
            if not self.pinned(old):
                evicted.append((old_key, old))
                excess -= 1
        for old_key, _ in evicted:
            del self._entries[old_key]
        return [old for _, old in evicted]

    def replace(self, key: K, old: V, new: V) -> bool:
        """Put ``new`` in ``old``'s place (and order), if ``key`` still holds ``old``."""
        with self.lock:
            if self._entries.get(key) is not old:
                return False
            self._entries[key] = new  # an existing key keeps its position
            return True

    def pop(self, key: K) -> V | None:
        """Remove and return the entry for ``key``."""
        with self.lock:
            return self._entries.pop(key, None)

    def drain(self) -> list[V]:
        """Remove every entry and return them."""
        with self.lock:
            entries = list(self._entries.values())
            self._entries.clear()
        return entries

    def values(self) -> list[V]:
        """A snapshot of the entries, oldest first."""
        with self.lock:
            return list(self._entries.values())

    def pinned(self, entry: V) -> bool:
        """Whether ``entry`` must not be evicted; none is, unless a subclass says so."""
        return False
