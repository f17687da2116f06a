"""Work that waits for something off the caller's thread: a span's end deferred until it can.

A model call that ends before the tiktoken encoding has loaded (the first calls after
start-up), or before the background count of its long prompt is done, cannot be counted
yet. Rather than make the caller wait, the recorder hands the rest of the run's end
(counts, cost, metric points, signals, and the span's end with its true end time) to
:func:`defer`, which runs it on whichever thread makes the awaited thing ready.

Bounded: at most :data:`MAX_PENDING` pieces of work wait at once; past that,
:func:`defer` declines and the caller does the work itself, waiting as before, so nothing
is ever dropped. :func:`drain` waits for all of it: ``semtrace.flush()``, the shutdown of a
provider ``configure()`` set up, the in-memory test helpers and interpreter exit call it.

Example:
    >>> import threading
    >>> from semtrace import deferred
    >>> ready = threading.Event()
    >>> waiters = []
    >>> deferred.defer(lambda cb: waiters.append(cb) or True, lambda: print("ended"))
    True
    >>> for cb in waiters:
    ...     cb()
    ended
    >>> deferred.drain(1.0)
    True
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable
from typing import Final

from semtrace.safety import record_fault

# Each waiting piece holds one run (its span, start and end records): bounded like the runs.
MAX_PENDING: Final = 1024
# Longest interpreter exit waits for deferred span ends (a local encoding loads in ~1 s).
EXIT_WAIT_S: Final = 10.0

Register = Callable[[Callable[[], None]], bool]
"""Arranges for a callback to run once something is ready; False if it is ready already."""

_ready = threading.Condition()
_pending = 0
_exit_hooked = False


def defer(register: Register, work: Callable[[], None]) -> bool:
    """Run ``work`` once what ``register`` waits for is ready, on the thread that readies it.

    Args:
        register: Called with a callback; arranges for it to run once ready and returns
            True, or returns False if it is ready already (the callback will not run).
        work: What to run then; a fault in it is counted, never raised.

    Returns:
        True if ``work`` was deferred (or already ran); False if the caller must run it:
        nothing to wait for, or too much work already waiting.
    """
    global _pending
    with _ready:
        if _pending >= MAX_PENDING:
            return False
        _pending += 1
    _hook_exit()

    def run() -> None:
        try:
            work()
        except Exception:
            record_fault("deferred work")
        finally:
            _done()

    try:
        if register(run):
            return True
    except Exception:
        record_fault("deferred register")
    _done()
    return False


def pending() -> int:
    """Pieces of work waiting."""
    return _pending


def drain(timeout_s: float = 30.0) -> bool:
    """Wait until no deferred work is left, at most ``timeout_s``.

    Returns:
        True if nothing is left waiting.
    """
    deadline = time.monotonic() + max(0.0, timeout_s)
    with _ready:
        return _ready.wait_for(lambda: _pending == 0, max(0.0, deadline - time.monotonic()))


def _done() -> None:
    global _pending
    with _ready:
        _pending -= 1
        if _pending == 0:
            _ready.notify_all()


def _hook_exit() -> None:
    """Drain at exit; hooked at the first deferral, so after the app's providers were made.

    ``atexit`` runs the last hook registered first: this one runs before the SDK's own
    provider shutdown, whose exporters then still take the spans ended here.
    """
    global _exit_hooked
    if not _exit_hooked:
        _exit_hooked = True
        atexit.register(drain, EXIT_WAIT_S)
