"""The one delivery machine every evaluation sink shares: queue, batch, send, retry, count.

A backend's sink only says how records become requests (:meth:`EvaluationSink.requests`)
and how to check the backend without writing to it (:meth:`EvaluationSink.probes`). The
rest is here:

* :meth:`~EvaluationSink.offer` (the caller's or the worker's thread) puts the record on a
  bounded queue and returns; a full queue drops it, counted as ``queue full``.
* One daemon thread per sink takes what is queued (up to ``max_batch`` records at a time),
  builds the requests and sends them with the standard library, instrumentation
  suppressed so that an app's HTTP client instrumentation records no span for them.
* 429, 408, 5xx and network errors are retried with exponential backoff (``Retry-After``
  honoured up to ``max_backoff_s``), at most ``max_attempts`` times, then dropped as
  ``gave up``; any other status drops the batch as ``refused``.
* :meth:`~EvaluationSink.flush` waits for the queue to empty, at most its timeout;
  :meth:`~EvaluationSink.shutdown` flushes, then gives up on what is left.

Nothing raises out of a sink: a fault is counted (:func:`semtrace.fault_count`) and
costs its batch, counted as ``failed``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from semtrace._telemetry.outbox import EvaluationRecord
from semtrace.safety import record_fault

logger = logging.getLogger(__name__)

#: Drop reasons, as counted in :attr:`EvaluationSink.dropped`.
QUEUE_FULL: Final = "queue full"
REFUSED: Final = "refused"
GAVE_UP: Final = "gave up"
FAILED: Final = "failed"
SHUT_DOWN: Final = "shut down"

DEFAULT_MAX_QUEUE: Final = 2048
DEFAULT_MAX_BATCH: Final = 100
DEFAULT_TIMEOUT_S: Final = 10.0
DEFAULT_MAX_ATTEMPTS: Final = 5
DEFAULT_BACKOFF_S: Final = 0.5
DEFAULT_MAX_BACKOFF_S: Final = 30.0
#: Most bytes of a response read (and thrown away) or kept for a log line.
_MAX_RESPONSE_BYTES: Final = 4096


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request a sink sends, and how many records it carries."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    records: int = 0


@dataclass(frozen=True)
class HttpResponse:
    """A status (None: no answer at all), a few bytes of the body, and ``Retry-After``."""

    status: int | None
    body: bytes = b""
    retry_after_s: float | None = None
    error: str = ""


class EvaluationSink:
    """Base of the sinks: a bounded queue drained by one daemon thread.

    Args:
        max_queue: Records waiting at most; more are dropped (``queue full``).
        max_batch: Records per batch handed to :meth:`requests`.
        timeout_s: Timeout of one HTTP request.
        max_attempts: Tries per request before it is dropped (``gave up``).
        backoff_s: First wait before a retry; doubles each time.
        max_backoff_s: Longest wait before a retry (``Retry-After`` included).
    """

    #: The name ``configure(evaluation_sinks=...)`` and the doctor use.
    name: str = "sink"

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_batch: int = DEFAULT_MAX_BATCH,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_s: float = DEFAULT_BACKOFF_S,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
    ) -> None:
        if max_queue < 1 or max_batch < 1 or max_attempts < 1:
            raise ValueError("max_queue, max_batch and max_attempts must be at least 1")
        self._max_queue = max_queue
        self._queue: queue.Queue[EvaluationRecord] = queue.Queue(max_queue)
        self._max_batch = max_batch
        self.timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._cond = threading.Condition()
        self._counts = threading.Lock()
        self._pending = 0  # offered and not yet sent or dropped
        self._thread: threading.Thread | None = None
        self._closed = False
        self._give_up = threading.Event()
        #: Records the backend accepted.
        self.sent = 0
        #: Records dropped, by reason (:data:`QUEUE_FULL`, :data:`REFUSED`, ...).
        self.dropped: Counter[str] = Counter()
        #: The last refusal or failure, for the doctor and the logs (no credentials).
        self.last_error = ""
        _sinks.add(self)

    # --- what a backend's sink says ---

    def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
        """The requests that deliver ``batch`` (each request says how many records it holds)."""
        raise NotImplementedError

    def probes(self) -> list[tuple[str, HttpRequest]]:
        """Read-only requests that check the backend is there and takes the credentials.

        Each is ``(what it checks, request)``; none writes anything.
        """
        return []

    def target(self) -> str:
        """Where the evaluations go, for the doctor and the logs (no credentials)."""
        return ""

    # --- the caller's side ---

    def offer(self, record: EvaluationRecord) -> None:
        """Queue ``record``; never blocks, never raises (a full queue drops it, counted)."""
        if self._closed:
            self._count_drop(SHUT_DOWN, 1)
            return
        with self._cond:
            try:
                self._queue.put_nowait(record)
            except queue.Full:
                full = True
            else:
                full = False
                self._pending += 1
                if self._thread is None:
                    self._start()
        if full:
            self._count_drop(QUEUE_FULL, 1)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued record was sent or dropped; False if time ran out."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Refuse new records, flush within ``timeout_s``, then give up on the rest."""
        self._closed = True
        done = self.flush(timeout_s)
        self._give_up.set()  # a retry still waiting stops waiting, and drops its batch
        return done

    # --- the sink's thread ---

    def _after_fork_in_child(self) -> None:
        """A forked child has no sink thread, and what the parent queued is the parent's."""
        self._cond = threading.Condition()
        self._counts = threading.Lock()
        self._queue = queue.Queue(self._max_queue)
        self._pending = 0
        self._thread = None

    def _start(self) -> None:
        thread = threading.Thread(target=self._drain, name=f"semtrace-{self.name}", daemon=True)
        self._thread = thread
        thread.start()

    def _drain(self) -> None:
        from opentelemetry.instrumentation.utils import suppress_instrumentation

        with suppress_instrumentation():
            while True:
                batch = [self._queue.get()]
                while len(batch) < self._max_batch:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                try:
                    self._deliver(batch)
                except Exception:
                    record_fault(f"evaluation sink {self.name}")
                    self._count_drop(FAILED, len(batch))
                finally:
                    with self._cond:
                        self._pending -= len(batch)
                        self._cond.notify_all()

    def _deliver(self, batch: list[EvaluationRecord]) -> None:
        if self._give_up.is_set():
            self._count_drop(GAVE_UP, len(batch))
            return
        requests = self.requests(batch)
        unsent = len(batch) - sum(r.records for r in requests)
        if unsent > 0:  # records the backend has no place for (the sink said so)
            self._count_drop(REFUSED, unsent)
        for request in requests:
            self._send_with_retries(request)

    def _send_with_retries(self, request: HttpRequest) -> None:
        attempt = 0
        while True:
            attempt += 1
            response = self._send(request)
            status = response.status
            if status is not None and 200 <= status < 300:
                with self._counts:
                    self.sent += request.records
                return
            if not _retryable(status):
                self._refused(request, response)
                return
            self.last_error = _describe(response)
            if attempt >= self._max_attempts or self._give_up.is_set():
                logger.debug("%s: gave up after %d tries: %s", self.name, attempt, self.last_error)
                self._count_drop(GAVE_UP, request.records)
                return
            delay = min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1))
            if response.retry_after_s is not None:
                delay = min(self._max_backoff_s, max(0.0, response.retry_after_s))
            if self._give_up.wait(delay):
                self._count_drop(GAVE_UP, request.records)
                return

    def _refused(self, request: HttpRequest, response: HttpResponse) -> None:
        self.last_error = _describe(response)
        logger.debug("%s refused %d evaluations: %s", self.name, request.records, self.last_error)
        self._count_drop(REFUSED, request.records)

    def _send(self, request: HttpRequest) -> HttpResponse:
        return send(request, self.timeout_s)

    def _count_drop(self, reason: str, count: int) -> None:
        if count > 0:
            with self._counts:
                self.dropped[reason] += count


_sinks: weakref.WeakSet[EvaluationSink] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for sink in list(_sinks):
        sink._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def send(request: HttpRequest, timeout_s: float) -> HttpResponse:
    """Send one request with ``urllib``; every outcome is a response, none an exception."""
    http = urllib.request.Request(
        request.url, data=request.body, headers=dict(request.headers), method=request.method
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout_s) as answer:
            return HttpResponse(answer.status, answer.read(_MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(_MAX_RESPONSE_BYTES)
        except Exception:
            body = b""
        return HttpResponse(exc.code, body, _retry_after(exc.headers.get("Retry-After")))
    except Exception as exc:  # refused, unreachable, timed out, bad URL, TLS
        return HttpResponse(None, error=f"{type(exc).__name__}: {exc}")


def _retryable(status: int | None) -> bool:
    return status is None or status in (408, 429) or status >= 500


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the date form is not worth parsing here: None)."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _describe(response: HttpResponse) -> str:
    if response.status is None:
        return response.error or "no answer"
    text = response.body[:200].decode("utf-8", "replace").strip()
    return f"HTTP {response.status}" + (f": {text}" if text else "")
