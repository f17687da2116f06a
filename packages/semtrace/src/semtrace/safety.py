"""Instrumentation must never break the host application.

Every entry point that a framework calls is wrapped in :func:`never_raise`: an
exception inside semtrace is caught, logged once per site at DEBUG, and counted, and
the framework carries on as if semtrace were not there.

Example:
    >>> from semtrace.safety import never_raise, fault_count
    >>> @never_raise
    ... def on_event() -> None:
    ...     raise RuntimeError("bug")
    >>> on_event(); fault_count() >= 1
    True
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_faults: dict[str, int] = {}
_lock = threading.Lock()


def record_fault(site: str) -> None:
    """Count an instrumentation fault at ``site``; log it the first time only."""
    with _lock:
        first = site not in _faults
        _faults[site] = _faults.get(site, 0) + 1
    if first:
        logger.debug("semtrace: instrumentation fault in %s (ignored)", site, exc_info=True)


def fault_count(site: str | None = None) -> int:
    """How many instrumentation faults were swallowed, in total or at one site."""
    with _lock:
        return _faults.get(site, 0) if site else sum(_faults.values())


def faults() -> dict[str, int]:
    """A copy of the fault counts by site."""
    with _lock:
        return dict(_faults)


def never_raise(fn: Callable[P, R]) -> Callable[P, R | None]:
    """Wrap ``fn`` so that an ``Exception`` it raises is counted instead of propagated."""
    site = fn.__qualname__

    @functools.wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return fn(*args, **kwargs)
        except Exception:
            record_fault(site)
            return None

    return guarded
