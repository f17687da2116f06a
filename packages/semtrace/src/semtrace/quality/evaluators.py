"""User evaluators: add your own quality signal (embedding similarity, an LLM judge, a policy).

Example:
    >>> from semtrace.quality.evaluators import Sample
    >>> from semtrace import Evaluation
    >>> class MentionsSource:
    ...     name = "mentions_source"
    ...     background = False                     # cheap: runs inline at span end
    ...     operations = frozenset({"chat"})
    ...     def evaluate(self, sample: Sample) -> Evaluation | None:
    ...         ok = "source:" in (sample.answer or "")
    ...         return Evaluation(self.name, 1.0 if ok else 0.0, "pass" if ok else "fail")
    >>> # CallbackHandler(evaluators=[MentionsSource()])

An inline evaluator runs on the caller's path when the evaluated span ends; its result is
recorded exactly like a built-in signal (span attributes, a ``gen_ai.evaluation.result``
event, the ``semtrace.quality.score`` histogram). Anything slow sets ``background = True``:
it runs on one worker thread fed by a bounded queue. Its result lands after the evaluated
span has ended, so it is recorded on a short child span ``evaluate {name}`` of the evaluated
span, carrying the same ``gen_ai.evaluation.result`` event. A full queue drops the work and
counts it (:attr:`BackgroundEvaluations.dropped`); it never blocks or grows.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Final, Protocol, runtime_checkable

from opentelemetry.context import Context

from semtrace import _worker as worker
from semtrace.quality.types import Evaluation, Sample
from semtrace.safety import record_fault

logger = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE: Final = 1000


@runtime_checkable
class Evaluator(Protocol):
    """A user evaluator. ``evaluate`` returns an :class:`Evaluation`, or None to skip."""

    name: str
    background: bool
    operations: frozenset[str]

    def evaluate(self, sample: Sample) -> Evaluation | None:
        """Judge one sample."""
        ...


def validate(evaluators: Sequence[Evaluator]) -> tuple[Evaluator, ...]:
    """Check evaluators at configuration time.

    Raises:
        ValueError: If one lacks ``name``, ``background``, ``operations`` or ``evaluate``.
    """
    for evaluator in evaluators:
        if not isinstance(evaluator, Evaluator) or not isinstance(evaluator.name, str):
            raise ValueError(
                f"{evaluator!r} is not an evaluator: it needs a str `name`, a bool "
                "`background`, a frozenset `operations` and an `evaluate(sample)` method"
            )
    return tuple(evaluators)


Record = Callable[[Evaluation, Context, str], None]
_workers: weakref.WeakSet[BackgroundEvaluations] = weakref.WeakSet()


def wait_for_evaluations(timeout: float = 10.0) -> bool:
    """Wait until every background evaluation queue in the process is empty.

    Runs still being turned into telemetry on semtrace's worker may queue evaluations:
    they are waited for first.

    Returns:
        True if they all emptied within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    if not worker.drain(timeout):
        return False
    return all(w.wait(max(0.0, deadline - time.monotonic())) for w in list(_workers))


class BackgroundEvaluations:
    """One daemon thread that runs slow evaluators off the caller's path."""

    def __init__(self, record: Record, max_queue: int = DEFAULT_QUEUE_SIZE) -> None:
        self._record = record
        self._queue: queue.Queue[tuple[Evaluator, Sample, Context]] = queue.Queue(max_queue)
        self.dropped = 0
        self.done = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        _workers.add(self)

    def submit(self, evaluator: Evaluator, sample: Sample, parent: Context) -> None:
        """Queue one evaluation; drop it (and count) if the queue is full."""
        self._ensure_thread()
        try:
            self._queue.put_nowait((evaluator, sample, parent))
        except queue.Full:
            self.dropped += 1
            self._finished(parent)

    def _finished(self, parent: Context) -> None:
        """One evaluation is over: judged, without result, failed or dropped.

        Nothing by default; the verdicts for other instrumentations' spans
        (:mod:`semtrace.adopt`) count a trace's evaluations down with it.
        """

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the queue is empty (tests, flush at exit). True if it emptied.

        Runs semtrace's worker has not finished yet may still queue evaluations: they
        are waited for first.
        """
        deadline = time.monotonic() + timeout
        if not worker.drain(timeout):
            return False
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(max(0.0, deadline - time.monotonic()))

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="semtrace-evaluators", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            evaluator, sample, parent = self._queue.get()
            try:
                result = evaluator.evaluate(sample)
                if result is not None:
                    self._record(result, parent, sample.operation)
            except Exception:
                record_fault(f"evaluator {evaluator.name}")
            finally:
                self.done += 1
                try:
                    self._finished(parent)
                except Exception:
                    record_fault("BackgroundEvaluations.finished")
                self._queue.task_done()
