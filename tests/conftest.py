"""Suite-wide set-up: an offline tiktoken cache, and the GenAI events routed to each test."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan
from semtrace import semconv_latest
from semtrace.testing import Telemetry, tiktoken_cache_from

from tests.conformance import schemas
from tests.kept_evaluations import Keeping

DATA = Path(__file__).parent / "data"

# Before anything imports tiktoken's loader: tests never touch the network.
_CACHE_ROOT = Path(tempfile.mkdtemp(prefix="semtrace-tiktoken-"))
atexit.register(shutil.rmtree, _CACHE_ROOT, ignore_errors=True)  # ~5 MB per test session
_CACHE = tiktoken_cache_from(DATA / "tiktoken", _CACHE_ROOT)
os.environ["TIKTOKEN_CACHE_DIR"] = str(_CACHE)
for _var in (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "SEMTRACE_COUNT_TOKENS",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
):
    os.environ.pop(_var, None)


class _ToTheRunningTest(LogRecordProcessor):
    """Hands every log record of the process's logger provider to the running test's Telemetry.

    Most tests give a handler their tracer provider only: its GenAI events go to the global
    logger provider, and through this to the ``telemetry`` fixture, which checks them.
    """

    target: Telemetry | None = None

    def on_emit(self, record: Any) -> None:
        target = self.target
        if target is not None:
            target.log_processor.on_emit(record)

    def emit(self, record: Any) -> None:  # the SDK's name for on_emit before 1.35
        target = self.target
        if target is not None:
            target.log_processor.emit(record)  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


_ROUTER = _ToTheRunningTest()
_GLOBAL_LOGS = LoggerProvider()
_GLOBAL_LOGS.add_log_record_processor(_ROUTER)
set_logger_provider(_GLOBAL_LOGS)


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Real SDK providers with in-memory exporters and the span checker.

    After the test, every span that started must have ended exactly once, before its
    trace's root, and every content attribute (on spans and their events) must be valid
    against the GenAI conventions' schemas: this runs for every test that records spans.
    So does every GenAI event the test emitted through the Logs API (its own logger
    provider's, and the global one's while the test runs).
    """
    t = Telemetry()
    _ROUTER.target = t
    try:
        yield t
    finally:
        _ROUTER.target = None
    t.shutdown()
    t.assert_spans_well_formed()
    assert_content_conforms(t.exporter.get_finished_spans(), t.events())


def assert_content_conforms(spans: Iterable[ReadableSpan], events: Iterable[Any] = ()) -> None:
    """Every content attribute of ``spans``, their events and the log ``events`` fits its schema."""
    found = []
    for span in spans:
        scope = span.instrumentation_scope
        latest = scope is not None and scope.schema_url == semconv_latest.SCHEMA_URL
        found += schemas.problems(span.name, span.attributes, latest=latest)
        for event in span.events:
            where = f"{span.name} > {event.name}"
            found += schemas.problems(where, event.attributes, latest=latest)
    for record in events:
        name = getattr(record, "event_name", None) or "log record"
        found += schemas.problems(f"log event {name}", record.attributes)
    if found:
        raise AssertionError("content outside the GenAI schemas:\n" + "\n".join(found[:20]))


@pytest.fixture
def sink() -> Iterator[Keeping]:
    """An evaluation sink in the hub while the test runs: what reaches the sinks."""
    from semtrace._telemetry import outbox

    keeping = Keeping()
    outbox.install([keeping])
    try:
        yield keeping
    finally:
        outbox.install([])
