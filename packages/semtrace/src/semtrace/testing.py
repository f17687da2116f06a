"""Test helpers: real OpenTelemetry SDK providers with in-memory exporters.

Example:
    >>> from semtrace.testing import Telemetry
    >>> telemetry = Telemetry()
    >>> # pass telemetry.tracer_provider / telemetry.meter_provider to a handler, run, then:
    >>> telemetry.spans()
    ()
    >>> telemetry.events()  # the GenAI events, as log records through the Logs API
    ()
    >>> # or record runs directly, as an integration would:
    >>> recorder = telemetry.recorder(count_tokens=False)
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs import export as log_export
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from semtrace import _worker as worker
from semtrace import semconv
from semtrace._recording.recorder import Recorder
from semtrace.config import Settings
from semtrace.cost import PriceTable
from semtrace.private_apis import tiktoken_download_url
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.signals import Thresholds


class _EndedTwiceLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "ended span" in message:
            self.seen.append(message)


class SpanChecker(SpanProcessor):
    """Fails loudly on a span that never ends, ends twice, or ends after its trace's root.

    A span that ends after the local root of its trace has ended would be exported after
    the rest of its trace, by then flushed. The deliberate exceptions: the
    ``evaluate {name}`` spans of background evaluators and feedback spans, which carry
    ``gen_ai.evaluation.name`` and are documented to arrive late; and roots semtrace did
    not make.
    """

    def __init__(self) -> None:
        # The SDK ignores a second end() with a warning and never tells processors:
        # listen for that warning instead.
        self._double_ends = _EndedTwiceLog()
        logging.getLogger("opentelemetry.sdk.trace").addHandler(self._double_ends)
        self._open: dict[int, str] = {}
        self._ended_roots: set[int] = set()
        self._lock = threading.Lock()
        self.violations: list[str] = []
        self.started = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Note the span as open."""
        with self._lock:
            self.started += 1
            self._open[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        """Check the span was open and its trace's root has not ended yet."""
        late = semconv.GEN_AI_EVALUATION_NAME in (span.attributes or {})
        with self._lock:
            if self._open.pop(span.context.span_id, None) is None:
                self.violations.append(f"{span.name}: ended twice or never started")
            if span.context.trace_id in self._ended_roots and not late:
                self.violations.append(f"{span.name}: ended after its trace's root")
            if (span.parent is None or span.parent.is_remote) and _ours(span) and not late:
                # A late span (feedback, a background evaluation) is a root of its own
                # that may come before the rest of its trace has ended. An app's span
                # around a chain ends as the app says; semtrace's processors keep it
                # after the rest of its trace (semtrace.export.processors).
                self._ended_roots.add(span.context.trace_id)

    def all_violations(self) -> list[str]:
        """Violations seen by the processor and by the SDK's double-end warning."""
        logging.getLogger("opentelemetry.sdk.trace").removeHandler(self._double_ends)
        return self.violations + [f"{m} (span ended twice)" for m in self._double_ends.seen]

    def open_spans(self) -> list[str]:
        """Names of spans started and not ended."""
        with self._lock:
            return sorted(self._open.values())


def _ours(span: ReadableSpan) -> bool:
    scope = span.instrumentation_scope
    return scope is not None and scope.name.startswith("semtrace")


class Telemetry:
    """Tracer, meter and logger providers that keep everything in memory, with a span checker."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.checker = SpanChecker()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(self.checker)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        #: The GenAI events (log records); pass ``logger_provider`` to a handler to get them.
        self.log_exporter = _in_memory_log_exporter()
        self.logger_provider = LoggerProvider()
        self.log_processor = log_export.SimpleLogRecordProcessor(self.log_exporter)
        self.logger_provider.add_log_record_processor(self.log_processor)

    def recorder(
        self,
        *,
        thresholds: Thresholds | None = None,
        evaluators: Sequence[Evaluator] = (),
        prices: PriceTable | None = None,
        framework: str | None = None,
        **settings: Any,
    ) -> Recorder:
        """A :class:`~semtrace.Recorder` on these providers, with ``Settings(**settings)``.

        The settings are exactly the ones given, on top of :class:`~semtrace.Settings`'
        defaults: no environment variable is read, so a test states what it depends on.

        Args:
            thresholds: The quality signals' thresholds (None: the defaults).
            evaluators: Evaluators run on each ended run.
            prices: The price table (None: the built-in one).
            framework: Recorded as ``semtrace.framework`` on root spans.
            **settings: Fields of :class:`~semtrace.Settings`, e.g. ``count_tokens=False``
                or ``background=False`` (no worker: every run ends on the caller's thread).

        Example:
            >>> recorder = Telemetry().recorder(count_tokens=False, background=False)
            >>> recorder.settings.background
            False
        """
        return Recorder(
            Settings(**settings),
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            logger_provider=self.logger_provider,
            thresholds=thresholds,
            evaluators=evaluators,
            prices=prices,
            framework=framework,
        )

    def spans(self) -> tuple[ReadableSpan, ...]:
        """Finished spans, in the order they ended (deferred span ends are waited for)."""
        worker.drain()
        return tuple(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        """The one finished span called ``name``."""
        found = [s for s in self.spans() if s.name == name]
        if len(found) != 1:
            names = [s.name for s in self.spans()]
            raise AssertionError(f"expected one span {name!r}, found {len(found)} in {names}")
        return found[0]

    def by_operation(self, operation: str) -> list[ReadableSpan]:
        """Finished spans with ``gen_ai.operation.name == operation``, in start order."""
        found = [
            s
            for s in self.spans()
            if (s.attributes or {}).get(semconv.GEN_AI_OPERATION_NAME) == operation
        ]
        return sorted(found, key=lambda s: s.start_time or 0)

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        """The finished span that is ``span``'s parent, if any."""
        if span.parent is None:
            return None
        for candidate in self.spans():
            if candidate.context.span_id == span.parent.span_id:
                return candidate
        return None

    def tree(self) -> list[str]:
        """The span names as an indented tree (children by start time), for readable asserts."""
        spans = self.spans()
        ids = {s.context.span_id for s in spans}
        lines: list[str] = []

        def walk(parent_id: int | None, depth: int) -> None:
            children = [
                s
                for s in spans
                if (s.parent.span_id if s.parent and s.parent.span_id in ids else None) == parent_id
            ]
            for child in sorted(children, key=lambda s: s.start_time or 0):
                lines.append("  " * depth + child.name)
                walk(child.context.span_id, depth + 1)

        walk(None, 0)
        return lines

    def events(self, name: str | None = None) -> tuple[Any, ...]:
        """The log records emitted so far (all, or those with event name ``name``).

        Each is the SDK's log record: ``event_name``, ``attributes``, ``body``,
        ``trace_id`` and ``span_id`` (the span it belongs to), ``severity_number``.
        """
        worker.drain()
        records = (each.log_record for each in self.log_exporter.get_finished_logs())
        return tuple(r for r in records if name is None or getattr(r, "event_name", None) == name)

    def metric_points(self, name: str) -> list[Any]:
        """Data points of metric ``name`` collected so far (deferred ones included)."""
        worker.drain()
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def assert_spans_well_formed(self) -> None:
        """Every span started has ended, once, before its trace's root ended."""
        worker.drain()
        problems = self.checker.all_violations()
        problems += [f"{name}: never ended" for name in self.checker.open_spans()]
        if problems:
            raise AssertionError("span lifecycle violations:\n" + "\n".join(problems))

    def clear(self) -> None:
        """Forget the finished spans and log records."""
        self.exporter.clear()
        self.log_exporter.clear()

    def shutdown(self) -> None:
        """Shut the providers down, after the deferred span ends."""
        worker.drain()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def _in_memory_log_exporter() -> Any:
    """The SDK's in-memory log exporter, by its name in the installed SDK (it was renamed)."""
    cls = getattr(log_export, "InMemoryLogRecordExporter", None)
    return (cls or log_export.InMemoryLogExporter)()


def tiktoken_cache_from(source: Path, dest: Path) -> Path:
    """Lay out BPE rank files (``*.tiktoken`` or ``*.tiktoken.gz``) as tiktoken's cache.

    tiktoken names a cached file by the sha1 of the URL it would download it from; the
    URLs are read from the installed ``tiktoken_ext.openai_public``. Point
    ``TIKTOKEN_CACHE_DIR`` at the returned folder to count offline.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for path in _bpe_files(source):
        url = tiktoken_download_url(path.name.removesuffix(".gz"))
        if url is None:
            continue
        target = dest / hashlib.sha1(url.encode()).hexdigest()
        # Written aside, then renamed: a process reading the folder meanwhile (tests or
        # benchmarks in parallel) sees the old file or the new one, never half of one.
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as src, open(partial, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            shutil.copyfile(path, partial)
        os.replace(partial, target)
    return dest


def _bpe_files(source: Path) -> Iterator[Path]:
    yield from sorted(source.glob("*.tiktoken"))
    yield from sorted(source.glob("*.tiktoken.gz"))
