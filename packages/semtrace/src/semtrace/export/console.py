"""A span exporter that prints each finished trace as a tree in the terminal.

Example:
    >>> import io
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    >>> from semtrace.export.console import ConsoleTreeExporter
    >>> out = io.StringIO()
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter(out)))
    >>> tracer = provider.get_tracer("demo")
    >>> with tracer.start_as_current_span("invoke_workflow demo"):
    ...     with tracer.start_as_current_span("chat gpt-4o-mini") as span:
    ...         span.set_attribute("gen_ai.usage.input_tokens", 812)
    >>> print(out.getvalue())  # doctest: +SKIP
    invoke_workflow demo  0.1 ms
    └── chat gpt-4o-mini  0.0 ms  tokens=812→?

Finished spans are held per trace until the trace's *local root* ends: a span with no
parent, or whose parent came from another process (``span.parent.is_remote``). The tree
is then written in one ``write`` call. The buffer is bounded (oldest trace, then oldest
span, dropped first), so a root that never ends cannot grow memory without limit.
Children are ordered by start time. A span whose parent never arrived (dropped, or
still open) is printed under the root, marked ``(parent not seen)``.

To show another attribute, add a row to :data:`SUMMARY_FIELDS`.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode
from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace.export.processors import is_local_root

__all__ = ["DEFAULT_MAX_SPANS", "DEFAULT_MAX_TRACES", "SUMMARY_FIELDS", "ConsoleTreeExporter"]

_logger = logging.getLogger(__name__)

#: Most traces whose root has not ended yet that are held at once.
DEFAULT_MAX_TRACES = 256
#: Most finished spans held, over all traces, while they wait for their root.
DEFAULT_MAX_SPANS = 10_000

#: Attributes whose key starts with this are shown as ``quality.<name>=<value>``.
QUALITY_PREFIX = semconv.SEMTRACE_QUALITY_PREFIX

_MAX_VALUE_CHARS = 60

Formatter = Callable[[Sequence[AttributeValue | None]], "str | None"]


def _fmt_value(value: AttributeValue | None) -> str:
    """Short, single-line text for one attribute value."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    elif isinstance(value, (list, tuple)):
        text = ",".join(_fmt_value(v) for v in value)
    else:
        text = str(value)
    return _one_line(text)


def _one_line(text: str, limit: int = _MAX_VALUE_CHARS) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt_tokens(values: Sequence[AttributeValue | None]) -> str | None:
    input_tokens, output_tokens, source = values
    if input_tokens is None and output_tokens is None:
        return None
    text = f"{_fmt_value(input_tokens) if input_tokens is not None else '?'}→"
    text += _fmt_value(output_tokens) if output_tokens is not None else "?"
    if source == semconv.USAGE_SOURCE_TIKTOKEN:
        text += f" ({source})"
    return text


def _fmt_first(values: Sequence[AttributeValue | None]) -> str | None:
    for value in values:
        if value is not None and value != () and value != []:
            return _fmt_value(value)
    return None


#: One row per summary item, shown in this order: (label, attribute keys, formatter).
#: The formatter gets the keys' values (``None`` when absent) and returns the text to
#: show after ``label=``, or ``None`` to show nothing.
SUMMARY_FIELDS: tuple[tuple[str, tuple[str, ...], Formatter], ...] = (
    (
        "tokens",
        (
            semconv.GEN_AI_USAGE_INPUT_TOKENS,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
            semconv.SEMTRACE_USAGE_SOURCE,
        ),
        _fmt_tokens,
    ),
    ("finish", (semconv.GEN_AI_RESPONSE_FINISH_REASONS,), _fmt_first),
    ("docs", (semconv.SEMTRACE_RETRIEVAL_DOCUMENT_COUNT,), _fmt_first),
)


def _error_text(span: ReadableSpan) -> str | None:
    if span.status.status_code is not StatusCode.ERROR:
        return None
    attrs = span.attributes or {}
    kind = attrs.get(semconv.ERROR_TYPE)
    if kind is None:
        for event in span.events:
            if event.name == "exception" and event.attributes:
                kind = event.attributes.get("exception.type")
                break
    if kind is None:
        kind = span.status.description or "error"
    return f"ERROR: {_fmt_value(kind)}"


def summarize(span: ReadableSpan) -> str:
    """The one-line text shown for a span: name, duration and key attributes.

    Args:
        span: A finished span.

    Returns:
        For example ``"chat gpt-4o-mini  8.0 ms  tokens=812→46 (tiktoken)  finish=stop"``.
    """
    attrs: Mapping[str, AttributeValue] = span.attributes or {}
    parts = [_one_line(span.name, 120) or "(unnamed)"]
    if span.start_time is not None and span.end_time is not None:
        parts.append(f"{(span.end_time - span.start_time) / 1e6:.1f} ms")
    for label, keys, fmt in SUMMARY_FIELDS:
        text = fmt([attrs.get(key) for key in keys])
        if text is not None:
            parts.append(f"{label}={text}")
    parts.extend(_quality_texts(attrs))
    found = attrs.get(semconv.SEMTRACE_DIAGNOSIS)
    if found is not None:
        signal = attrs.get(semconv.SEMTRACE_DIAGNOSIS_SIGNAL)
        parts.append(f"diagnosis={_fmt_value(found)}" + (f" ({signal})" if signal else ""))
    error = _error_text(span)
    if error is not None:
        parts.append(error)
    return "  ".join(parts)


def _quality_texts(attrs: Mapping[str, AttributeValue]) -> list[str]:
    """Scores as ``groundedness=0.82`` (``✗`` failing, ``?`` uncertain); flags when raised."""
    texts = []
    for key in sorted(k for k in attrs if k.startswith(QUALITY_PREFIX)):
        if key.endswith((".label", ".kind")):
            continue
        name, value = key[len(QUALITY_PREFIX) :], attrs[key]
        mark = _VERDICT_MARKS.get(str(attrs.get(key + ".label")), "")
        if isinstance(value, bool):
            if value:
                texts.append(f"⚠ {name}")
        else:
            texts.append(f"{name}={_fmt_value(value)}{mark}")
    return texts


_VERDICT_MARKS: Final = {"fail": "✗", "uncertain": "?"}


def _sort_key(span: ReadableSpan) -> tuple[int, int, str]:
    return (span.start_time or 0, span.end_time or 0, span.name)


@dataclass
class _Pending:
    spans: list[ReadableSpan] = field(default_factory=list)
    dropped: int = 0


_UNICODE = ("├── ", "└── ", "│   ", "    ")
_ASCII = ("|-- ", "`-- ", "|   ", "    ")


def render_tree(
    root: ReadableSpan,
    others: Sequence[ReadableSpan],
    dropped: int = 0,
    *,
    incomplete: bool = False,
    ascii_only: bool = False,
) -> str:
    """Text of one trace as a tree, ending with a newline.

    Args:
        root: The span printed at the top.
        others: Other finished spans of the trace. Those whose parent is among
            ``root`` and ``others`` are nested under it; the rest are printed under
            ``root`` marked ``(parent not seen)``.
        dropped: How many spans of this trace the buffer had to drop; noted at the end.
        incomplete: ``root`` is not the trace's root (which never ended); say so.
        ascii_only: Draw with ``|--`` instead of box-drawing characters.

    Returns:
        The tree, one span a line.
    """
    tee, elbow, pipe, blank = _ASCII if ascii_only else _UNICODE
    by_id = {root.context.span_id: root}
    for span in others:
        by_id.setdefault(span.context.span_id, span)
    children: dict[int, list[ReadableSpan]] = {}
    orphans: list[ReadableSpan] = []
    for span in others:
        if span is root:
            continue
        parent_id = span.parent.span_id if span.parent is not None else None
        if parent_id is not None and parent_id in by_id and parent_id != span.context.span_id:
            children.setdefault(parent_id, []).append(span)
        else:
            orphans.append(span)
    for group in children.values():
        group.sort(key=_sort_key)
    orphan_ids = {id(s) for s in orphans}
    top = sorted(children.pop(root.context.span_id, []) + orphans, key=_sort_key)

    lines = [summarize(root) + ("  (parent not seen)" if incomplete else "")]
    pointer = (root.attributes or {}).get(semconv.SEMTRACE_DIAGNOSIS_SPAN_ID)
    seen = {root.context.span_id}
    # Iterative depth-first walk: deep chains cannot hit the recursion limit.
    stack: list[tuple[ReadableSpan, str, bool]] = [
        (span, "", i == len(top) - 1 and not dropped) for i, span in reversed(list(enumerate(top)))
    ]
    while stack:
        span, prefix, last = stack.pop()
        if span.context.span_id in seen:
            continue
        seen.add(span.context.span_id)
        text = summarize(span)
        if pointer is not None and format(span.context.span_id, "016x") == pointer:
            text += "  <- diagnosis" if ascii_only else "  ◀ diagnosis"
        if id(span) in orphan_ids:
            text += "  (parent not seen)"
        lines.append(f"{prefix}{elbow if last else tee}{text}")
        kids = children.get(span.context.span_id, [])
        child_prefix = prefix + (blank if last else pipe)
        for i in range(len(kids) - 1, -1, -1):
            stack.append((kids[i], child_prefix, i == len(kids) - 1))
    if dropped:
        lines.append(f"{elbow}… {dropped} more span(s) dropped (console buffer full)")
    return "\n".join(lines) + "\n"


class ConsoleTreeExporter(SpanExporter):
    """Writes each finished trace to a text stream as an indented tree.

    Meant for a :class:`~opentelemetry.sdk.trace.export.SimpleSpanProcessor`, which
    hands over spans one at a time as they end. Never raises: a failure is logged at
    DEBUG and the export reported as failed.

    Args:
        file: Where to write. ``None`` means whatever ``sys.stderr`` is at write time.
        max_traces: Most unfinished traces held at once; the oldest is dropped past it.
        max_spans: Most spans held over all unfinished traces; oldest dropped past it.
    """

    def __init__(
        self,
        file: TextIO | None = None,
        *,
        max_traces: int = DEFAULT_MAX_TRACES,
        max_spans: int = DEFAULT_MAX_SPANS,
    ) -> None:
        if max_traces < 1 or max_spans < 1:
            raise ValueError("max_traces and max_spans must be at least 1")
        self._file = file
        self._max_traces = max_traces
        self._max_spans = max_spans
        self._pending: OrderedDict[int, _Pending] = OrderedDict()
        self._span_count = 0
        self._lock = threading.Lock()  # guards the buffer
        self._write_lock = threading.Lock()  # keeps two trees from interleaving
        self._shutdown = False

    @property
    def buffered_spans(self) -> int:
        """How many finished spans are waiting for their trace's root to end."""
        return self._span_count

    @property
    def buffered_traces(self) -> int:
        """How many traces have spans waiting for their root to end."""
        return len(self._pending)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Buffer the spans; print the tree of each trace whose local root is among them.

        Args:
            spans: Finished spans.

        Returns:
            ``SUCCESS``, or ``FAILURE`` after shutdown or when writing failed.
        """
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            trees: list[tuple[ReadableSpan, list[ReadableSpan], int]] = []
            with self._lock:
                for span in spans:
                    trace_id = span.context.trace_id
                    if is_local_root(span):
                        pending = self._pending.pop(trace_id, None)
                        if pending is None:
                            trees.append((span, [], 0))
                        else:
                            self._span_count -= len(pending.spans)
                            trees.append((span, pending.spans, pending.dropped))
                    else:
                        self._add(trace_id, span)
            for root, others, dropped in trees:
                self._write(root, others, dropped)
            return SpanExportResult.SUCCESS
        except Exception:  # an exporter must never break the instrumented app
            _logger.debug("console tree export failed", exc_info=True)
            return SpanExportResult.FAILURE

    def _add(self, trace_id: int, span: ReadableSpan) -> None:
        pending = self._pending.get(trace_id)
        if pending is None:
            pending = self._pending[trace_id] = _Pending()
        pending.spans.append(span)
        self._span_count += 1
        while len(self._pending) > self._max_traces:
            _, evicted = self._pending.popitem(last=False)
            self._span_count -= len(evicted.spans)
            _logger.debug("console tree buffer full: dropped %d span(s)", len(evicted.spans))
        while self._span_count > self._max_spans:
            oldest_id, oldest = next(iter(self._pending.items()))
            if oldest is pending and len(self._pending) == 1:
                oldest.spans.pop(0)  # one huge trace: drop its oldest span
                oldest.dropped += 1
                self._span_count -= 1
            else:
                del self._pending[oldest_id]
                self._span_count -= len(oldest.spans)
            _logger.debug("console tree buffer full: dropped spans of the oldest trace")

    def _write(
        self,
        root: ReadableSpan,
        others: Sequence[ReadableSpan],
        dropped: int,
        *,
        incomplete: bool = False,
    ) -> None:
        out = self._file if self._file is not None else sys.stderr
        if out is None:  # e.g. pythonw, where there is no stderr
            return
        text = render_tree(root, others, dropped, incomplete=incomplete)
        with self._write_lock:
            try:
                out.write(text)
            except UnicodeEncodeError:  # e.g. a cp1252 console: draw with ASCII only
                text = render_tree(root, others, dropped, incomplete=incomplete, ascii_only=True)
                out.write(text.replace("→", "->").encode("ascii", "replace").decode("ascii"))
            out.flush()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Nothing to flush: a tree is written as soon as its root ends.

        Args:
            timeout_millis: Unused.

        Returns:
            Always ``True``.
        """
        return True

    def shutdown(self) -> None:
        """Print what is still buffered (traces whose root never ended) and stop."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            with self._lock:
                leftovers = list(self._pending.values())
                self._pending.clear()
                self._span_count = 0
            for pending in leftovers:
                if pending.spans:
                    # The root never ended: the earliest span stands in for it.
                    ids = {s.context.span_id for s in pending.spans}
                    tops = [
                        s for s in pending.spans if s.parent is None or s.parent.span_id not in ids
                    ]
                    top = min(tops, key=lambda s: (s.start_time or 0, -(s.end_time or 0)))
                    self._write(top, pending.spans, pending.dropped, incomplete=True)
        except Exception:
            _logger.debug("console tree shutdown failed", exc_info=True)
