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
import sys
import threading
import traceback
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
    if first and logger.isEnabledFor(logging.DEBUG):
        logger.debug("semtrace: instrumentation fault in %s (ignored)\n%s", site, _traceback())


def _traceback() -> str:
    """The exception being handled, as a traceback without the column markers.

    ``exc_info=True`` would have the logging handler format it with them, and on Python
    3.11 finding them parses source (``ast.parse``), which is not safe in two threads at
    once; faults are also counted on semtrace's worker thread.
    """
    error = sys.exc_info()[1]
    if error is None:
        return ""
    frames = [
        traceback.FrameSummary(f.filename, f.lineno, f.name, line=f.line)
        for f in traceback.extract_tb(error.__traceback__)
    ]
    return "".join(
        [
            "Traceback (most recent call last):\n",
            *traceback.StackSummary.from_list(frames).format(),
            *traceback.format_exception_only(type(error), error),
        ]
    )


def fault_count(site: str | None = None) -> int:
    """How many instrumentation faults were swallowed, in total or at one site."""
    with _lock:
        return _faults.get(site, 0) if site else sum(_faults.values())


def faults() -> dict[str, int]:
    """A copy of the fault counts by site."""
    with _lock:
        return dict(_faults)


def attempt(site: str, fn: Callable[..., object], *args: object) -> None:
    """Run one optional piece of work; a fault is counted under ``site`` and loses only it."""
    try:
        fn(*args)
    except Exception:
        record_fault(site)


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
