"""Telemetry work done off the caller's thread: one bounded worker, and waits for readiness.

The caller's thread only records facts (ids, timestamps, the records); turning them into
telemetry (content JSON, token counts, cost, signals, checks, metric points and the span's
end with its true end time) is handed here, so an application thread waiting on a model
pays for none of it.

* :func:`submit` queues work for the worker thread. At most :data:`MAX_QUEUED` pieces
  wait; past that (or if no thread can be started, as at interpreter exit) it declines
  and the caller runs the work itself: nothing is ever dropped.
* The worker works while the app waits. Python runs one thread at a time: a worker that
  took its turns while the app's thread computes would only slow it down. So the worker
  starts when the app has been quiet (no run started or ended) for :data:`QUIET_S`, the
  sign that it waits on a model or the network, and gives way again when it is not. It
  never waits longer than :data:`MAX_DELAY_S`, so an app that never waits still gets its
  telemetry.
* :func:`defer` runs work once something it needs is ready, on the thread that readies
  it: a model call counted before its tiktoken encoding has loaded waits for the load
  this way, on no thread at all. Bounded by :data:`MAX_PENDING` the same way.

One worker, first in first out: a trace's runs end in the order they ended on the
caller's side, so a root still ends after its children. Work names its trace, so that
a span semtrace did not make (the app's request span around a chain) can wait for the
trace's work before it is exported (:func:`after_trace`). :func:`drain` waits for all of
it: ``semtrace.flush()``, the shutdown of a provider ``configure()`` set up, the
in-memory test helpers and interpreter exit call it.

Example:
    >>> from semtrace import deferred
    >>> deferred.submit(lambda: print("done off the caller's thread"))
    True
    >>> deferred.drain(5.0)
    done off the caller's thread
    True
"""

from __future__ import annotations

import atexit
import collections
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Final

from semtrace.safety import record_fault

# Each waiting piece holds one run (its span, start and end records): bounded like the runs.
MAX_QUEUED: Final = 1024
MAX_PENDING: Final = 1024
# Longest interpreter exit waits for deferred span ends (a local encoding loads in ~1 s).
EXIT_WAIT_S: Final = 10.0
# How long without a run starting or ending means the app waits (a model answers in tens
# of milliseconds at the least; callbacks come every fraction of a millisecond).
QUIET_S: Final = 0.005
# Longest a piece of work waits for the app to be quiet.
MAX_DELAY_S: Final = 0.25

Work = Callable[[], None]
Register = Callable[[Callable[[], None]], bool]
"""Arranges for a callback to run once something is ready; False if it is ready already."""

_lock = threading.Condition(threading.Lock())
# Each piece: the work, its trace id, and when it was queued.
_queue: collections.deque[tuple[Work, int, float]] = collections.deque()
_waiting = 0  # pieces handed to defer() whose readiness has not come yet
_running = 0  # pieces the worker has taken off the queue and not finished
_worker: threading.Thread | None = None
_exit_hooked = False
_active_at = 0.0  # perf_counter() of the app's last run start or end
_draining = 0  # threads in drain(): the worker does not wait for quiet then
_by_trace: dict[int, int] = {}  # trace id -> pieces of its work not done yet
_after: dict[int, list[Work]] = {}  # trace id -> what runs once they are


def submit(work: Work, trace_id: int = 0) -> bool:
    """Queue ``work`` for the worker thread.

    Args:
        work: What to run; a fault in it is counted, never raised.
        trace_id: The trace the work belongs to, for :func:`after_trace` (0: none).

    Returns:
        True if queued; False if the caller must run it itself (the queue is full, or no
        thread can be started).
    """
    global _worker, _active_at
    _active_at = now = time.perf_counter()
    if sys.is_finalizing():
        return False  # the worker may be gone already: the caller ends its own runs
    with _lock:
        if len(_queue) >= MAX_QUEUED:
            return False
        if _worker is None:
            try:
                _worker = _start_worker()
            except RuntimeError:  # "can't create new thread at interpreter shutdown"
                return False
        _queue.append(_piece(work, trace_id, now))
        if len(_queue) == 1:
            _lock.notify_all()  # the worker sleeps only on an empty queue
    _hook_exit()
    return True


def note_activity() -> None:
    """Note that the app is busy (a run started): the worker gives way for a moment."""
    global _active_at
    _active_at = time.perf_counter()


def defer(register: Register, work: Work, trace_id: int = 0) -> bool:
    """Run ``work`` once what ``register`` waits for is ready, on the thread that readies it.

    Args:
        register: Called with a callback; arranges for it to run once ready and returns
            True, or returns False if it is ready already (the callback will not run).
        work: What to run then; a fault in it is counted, never raised.
        trace_id: The trace the work belongs to, for :func:`after_trace` (0: none).

    Returns:
        True if ``work`` was deferred (or already ran); False if the caller must run it:
        nothing to wait for, or too much work already waiting.
    """
    global _waiting
    with _lock:
        if _waiting >= MAX_PENDING:
            return False
        _waiting += 1
        _note(trace_id)
    _hook_exit()

    def run() -> None:
        _run(work, "deferred work")
        _settle(trace_id, waiting=True)

    try:
        if register(run):
            return True
    except Exception:
        record_fault("deferred register")
    _settle(trace_id, waiting=True)
    return False


def after_trace(trace_id: int, work: Work) -> bool:
    """Run ``work`` once every piece of trace ``trace_id``'s work is done.

    Returns:
        True if it will (on the thread that finishes the last piece); False if the trace
        has no work left, and the caller may go on at once.
    """
    with _lock:
        if not _by_trace.get(trace_id):
            return False
        _after.setdefault(trace_id, []).append(work)
        return True


def pending() -> int:
    """Pieces of work not done yet: queued, running, or waiting for their readiness."""
    return len(_queue) + _running + _waiting


def drain(timeout_s: float = 30.0) -> bool:
    """Wait until no deferred work is left, at most ``timeout_s``.

    Called on the worker thread itself (by work that flushes), it returns at once rather
    than wait for itself.

    Returns:
        True if nothing is left.
    """
    global _draining
    if threading.current_thread() is _worker:
        return pending() == 0
    deadline = time.monotonic() + max(0.0, timeout_s)
    with _lock:
        _draining += 1
        _lock.notify_all()  # the worker may be waiting for the app to be quiet
        try:
            return _lock.wait_for(lambda: pending() == 0, max(0.0, deadline - time.monotonic()))
        finally:
            _draining -= 1


def _start_worker() -> threading.Thread:
    thread = threading.Thread(target=_work, name="semtrace-telemetry", daemon=True)
    thread.start()
    return thread


def _work() -> None:
    """The worker: runs the queued work in order, one piece at a time, when the app waits."""
    while True:
        work, trace_id = _next()
        _run(work, "background work")
        del work  # a finished run's records are freed now, not at the next piece
        _settle(trace_id, waiting=False)


def _next() -> tuple[Work, int]:
    """The oldest piece of work, once there is one and the app is quiet."""
    global _running
    with _lock:
        while not _queue:
            _lock.wait()
        queued_at = _queue[0][2]
    _wait_for_quiet(queued_at)
    with _lock:
        _running += 1
        work, trace_id, _ = _queue.popleft()
        return work, trace_id


def _wait_for_quiet(queued_at: float) -> None:
    """Sleep (the GIL free for the app) until the app is quiet, or the work waited enough.

    An app that is never quiet (many threads, or no waits at all) has each piece done
    :data:`MAX_DELAY_S` after it was queued: late, but at the rate it comes.
    """
    while True:
        now = time.perf_counter()
        quiet_for = now - _active_at
        waited = now - queued_at
        if quiet_for >= QUIET_S or waited >= MAX_DELAY_S or _draining:
            return
        if len(_queue) >= MAX_QUEUED // 2:
            return
        with _lock:  # drain() wakes it
            _lock.wait(min(QUIET_S - quiet_for, MAX_DELAY_S - waited))


def _piece(work: Work, trace_id: int, now: float) -> tuple[Work, int, float]:
    """A queued piece; noted under its trace (called with the lock held)."""
    _note(trace_id)
    return work, trace_id, now


def _note(trace_id: int) -> None:
    if trace_id:
        _by_trace[trace_id] = _by_trace.get(trace_id, 0) + 1


def _settle(trace_id: int, *, waiting: bool) -> None:
    """One piece done: run what waited for its trace, then count it done."""
    global _waiting, _running
    after: list[Work] = []
    with _lock:
        if trace_id:
            left = _by_trace.pop(trace_id, 1) - 1
            if left:
                _by_trace[trace_id] = left
            else:
                after = _after.pop(trace_id, [])
    for work in after:  # before the count: drain() returns only once these ran too
        _run(work, "after trace")
    with _lock:
        if waiting:
            _waiting -= 1
        else:
            _running -= 1
        if pending() == 0:
            _lock.notify_all()


def _run(work: Work, site: str) -> None:
    try:
        work()
    except Exception:
        record_fault(site)


def _hook_exit() -> None:
    """Drain at exit; hooked at the first use, so after the app's providers were made.

    ``atexit`` runs the last hook registered first: this one runs before the SDK's own
    provider shutdown, whose exporters then still take the spans ended here.
    """
    global _exit_hooked
    if not _exit_hooked:
        _exit_hooked = True
        atexit.register(drain, EXIT_WAIT_S)


def _after_fork_in_child() -> None:
    """A forked child has no worker thread, and the parent's queued work is the parent's."""
    global _lock, _queue, _waiting, _running, _worker, _by_trace, _after, _draining
    _lock = threading.Condition(threading.Lock())
    _queue = collections.deque()
    _waiting = _running = _draining = 0
    _worker = None
    _by_trace, _after = {}, {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
