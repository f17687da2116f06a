"""The evaluation sink's delivery: off the caller's thread, batched, bounded, retried, counted.

Every test sends to a real HTTP server on 127.0.0.1 (tests/core/evaluation_servers.py)
through a minimal sink that posts each batch as a JSON list.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from semtrace import fault_count
from semtrace._telemetry import outbox
from semtrace.export.evaluations import EvaluationRecord, EvaluationSink, HttpRequest
from semtrace.export.evaluations.sink import GAVE_UP, QUEUE_FULL, REFUSED, SHUT_DOWN

from tests.core.evaluation_servers import backend, record


class ListSink(EvaluationSink):
    """Posts a batch as ``[name, ...]`` to ``url``; no backoff wait unless asked."""

    name = "list"

    def __init__(self, url: str, **options: Any) -> None:
        options.setdefault("backoff_s", 0.0)
        super().__init__(**options)
        self.url = url
        self.threads: list[str] = []

    def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
        self.threads.append(threading.current_thread().name)
        body = json.dumps([r.name for r in batch]).encode()
        return [
            HttpRequest("POST", self.url, {"content-type": "application/json"}, body, len(batch))
        ]


class HeldSink(ListSink):
    """Holds its first batch until ``release`` is set: what is offered meanwhile queues up."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self.holding = threading.Event()
        self.release = threading.Event()

    def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
        self.holding.set()
        self.release.wait(30)
        return super().requests(batch)


def test_records_are_sent_from_the_sinks_own_thread() -> None:
    with backend() as server:
        sink = ListSink(server.url)
        sink.offer(record("groundedness"))
        assert sink.flush(10)
    assert sink.sent == 1 and not sink.dropped
    assert server.posts()[0].json() == ["groundedness"]
    assert sink.threads == ["semtrace-list"]


def test_what_queues_while_a_batch_is_sent_goes_in_the_next_batch() -> None:
    with backend() as server:
        sink = HeldSink(server.url)
        sink.offer(record("first"))
        assert sink.holding.wait(10)
        for name in ("a", "b", "c"):
            sink.offer(record(name))
        sink.release.set()
        assert sink.flush(10)
    assert [r.json() for r in server.posts()] == [["first"], ["a", "b", "c"]]


def test_batches_hold_at_most_max_batch_records() -> None:
    with backend() as server:
        sink = HeldSink(server.url, max_batch=2)
        sink.offer(record("first"))
        assert sink.holding.wait(10)
        for name in ("a", "b", "c"):
            sink.offer(record(name))
        sink.release.set()
        assert sink.flush(10)
    assert [r.json() for r in server.posts()] == [["first"], ["a", "b"], ["c"]]


def test_a_full_queue_drops_the_record_counted_and_never_blocks() -> None:
    with backend() as server:
        sink = HeldSink(server.url, max_queue=2)
        sink.offer(record("first"))
        assert sink.holding.wait(10)  # taken off the queue: two places are free
        for name in ("a", "b", "c", "d"):
            sink.offer(record(name))
        assert sink.dropped == {QUEUE_FULL: 2}
        sink.release.set()
        assert sink.flush(10)
    assert sink.sent == 3


@pytest.mark.parametrize("status", [429, 500, 502, 503, 408])
def test_throttling_and_server_errors_are_retried_until_accepted(status: int) -> None:
    with backend([status, status, 200]) as server:
        sink = ListSink(server.url)
        sink.offer(record())
        assert sink.flush(10)
    assert sink.sent == 1 and not sink.dropped
    assert len(server.posts()) == 3


def test_retry_after_is_honoured_up_to_the_longest_backoff() -> None:
    # Retry-After says an hour; max_backoff_s caps the wait, so the retry comes at once.
    with backend([429, 200], headers={"Retry-After": "3600"}) as server:
        sink = ListSink(server.url, max_backoff_s=0.0)
        sink.offer(record())
        assert sink.flush(10)
    assert sink.sent == 1 and len(server.posts()) == 2


def test_retries_give_up_after_max_attempts_counted() -> None:
    with backend([503]) as server:
        sink = ListSink(server.url, max_attempts=3)
        sink.offer(record())
        sink.offer(record())
        assert sink.flush(10)
    assert sink.sent == 0
    assert sink.dropped[GAVE_UP] == 2
    assert "HTTP 503" in sink.last_error


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_refusal_drops_the_batch_counted_without_retrying(status: int) -> None:
    with backend([status]) as server:
        sink = ListSink(server.url)
        sink.offer(record())
        assert sink.flush(10)
    assert sink.dropped == {REFUSED: 1}
    assert len(server.posts()) == 1
    assert f"HTTP {status}" in sink.last_error


def test_an_unreachable_backend_is_retried_then_given_up_never_raised() -> None:
    with backend() as server:
        url = server.url  # the server is gone once the block ends: nothing listens there
    sink = ListSink(url, max_attempts=2)
    sink.offer(record())
    assert sink.flush(10)
    assert sink.dropped == {GAVE_UP: 1}
    assert sink.last_error


def test_shutdown_waits_at_most_its_timeout_then_gives_up_on_the_rest() -> None:
    with backend([503]) as server:
        sink = ListSink(server.url, backoff_s=3600.0, max_backoff_s=3600.0)
        sink.offer(record())
        assert sink.shutdown(0.1) is False  # the retry would wait an hour: not waited for
        assert sink.flush(10)  # giving up wakes the retry, which drops its batch
    assert sink.dropped == {GAVE_UP: 1}


def test_a_shut_down_sink_drops_new_records_counted() -> None:
    with backend() as server:
        sink = ListSink(server.url)
        assert sink.shutdown(1)
        sink.offer(record())
    assert sink.dropped == {SHUT_DOWN: 1} and not server.requests


def test_a_sink_whose_requests_fail_loses_the_batch_counted() -> None:
    class Broken(ListSink):
        def requests(self, batch: Sequence[EvaluationRecord]) -> list[HttpRequest]:
            raise RuntimeError("bug")

    before = fault_count("evaluation sink list")
    sink = Broken("http://127.0.0.1:9")
    sink.offer(record())
    assert sink.flush(10)
    assert sink.dropped == {"failed": 1}
    assert fault_count("evaluation sink list") == before + 1


def test_a_receiver_that_raises_never_reaches_the_app() -> None:
    class Raising:
        name = "raising"

        def offer(self, record: EvaluationRecord) -> None:
            raise RuntimeError("bug")

    got: list[EvaluationRecord] = []

    class Keeping:
        name = "keeping"

        def offer(self, record: EvaluationRecord) -> None:
            got.append(record)

    outbox.install([Raising(), Keeping()])
    try:
        outbox.feedback(1, 2, 1.0, "good", None)
    finally:
        outbox.install([])
    assert [r.name for r in got] == ["user_feedback"]  # the other sink still got its copy
    assert fault_count("evaluation sink raising") >= 1


def test_bad_queue_options_raise_at_construction() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ListSink("http://127.0.0.1:9", max_queue=0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_sends_its_own_records_from_its_own_thread() -> None:
    with backend() as server:
        sink = ListSink(server.url)
        sink.offer(record("parent"))
        assert sink.flush(10)
        pid = os.fork()
        if pid == 0:  # the child: the parent's thread is not here; a new one must start
            sink.offer(record("child"))
            os._exit(0 if sink.flush(10) and sink.sent == 2 else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [r.json() for r in server.posts()] == [["parent"], ["child"]]
