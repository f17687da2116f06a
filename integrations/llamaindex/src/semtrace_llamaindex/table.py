"""The dispatcher spans in flight: what each one is and what still holds it open.

A span normally ends when its method returns. Some stay open longer, held by what
they returned: an LLM's stream until its end event, a query engine's streaming
response until it is consumed or dropped, a chat engine's stream until the thread
writing it to memory finishes. ``holds`` counts these reasons.

Bounded like the core's run table (both are a :class:`semtrace._recording.bounded.BoundedTable`):
past ``max_open`` spans, or once a span is older than ``timeout_s``, the oldest spans
are evicted and handed back to be ended, so spans whose end never comes (an abandoned
stream still referenced somewhere, a dropped task) cannot grow memory. Spans whose
method is still running with an attached context are the exception: their end is
certain, and only it may detach that context.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from semtrace.integration import Attachment, BoundedTable, End, LazyEnd, StreamSummary

from semtrace_llamaindex.classify import RECORDED, Kind, Op

_MAX_DEPTH = 256
#: How far above a model call the span that announced its prompt or its output class may
#: be (``structured_predict`` > ``predict_and_call`` > ``chat``).
ANCESTOR_DEPTH: Final = 8
_STEP = Op.STEP  # a module global: ``Op.STEP`` is a slow metaclass lookup on Python 3.11


@dataclass(slots=True, eq=False)
class OpenSpan:
    """One dispatcher span between its start and its end.

    Attributes:
        id: LlamaIndex's span id (``"Class.method-uuid"``), also the recorder's run id.
        parent: The parent span id given to the recorder.
        name: ``"Class.method"``.
        method: The method name.
        kind: The family of the instance the method ran on.
        op: What the span is recorded as (PENDING until its start event for candidates).
        outer: The op of the nearest recorded ancestor (None at the top of a trace).
        anchor: The id of the nearest recorded ancestor.
        start_ns: Wall-clock start, for starts deferred to an event.
        instance: The instance, kept only while the span is PENDING.
        args: The bound arguments, kept only while the span is PENDING.
        owner: ``id()`` of the LLM instance, for stream delegation (see Tracker).
        first_chunk_key: Its key in the table's first-chunk index, while indexed.
        settled: Whether its op is final: a recorded span has started in the recorder,
            plumbing is known to be plumbing.
        holds: Reasons the span is still open; it ends when this reaches zero.
        end: What the span returned, as a record.
        error: The failure it ended with.
        cancelled: Whether its caller abandoned or cancelled it.
        stream_open: A stream it returned has not finished yet.
        chunked: A streamed chunk has arrived.
        awaiting_writer: A hold is reserved for a stream writer not started yet.
        writer_seen: A stream writer started under this span.
        holder: The span this one holds open (a stream writer holds its engine call).
        attachment: The recorder's handle of the context attached while the span's code runs.
        prompt: The name and version of a prompt template formatted in this span.
        stream: What a model's streamed chunks said (finish reason, usage, id, model).
        output_schema: The output schema of a ``structured_predict`` call in this span.
    """

    id: str
    parent: str | None
    name: str
    method: str
    kind: Kind
    op: Op
    outer: Op | None
    anchor: str | None
    start_ns: int
    instance: Any = None
    args: Any = None
    owner: int | None = None
    first_chunk_key: Hashable | None = None
    settled: bool = False
    holds: int = 1
    end: End | LazyEnd | None = None
    error: BaseException | None = None
    cancelled: bool = False
    stream_open: bool = False
    chunked: bool = False
    awaiting_writer: bool = False
    writer_seen: bool = False
    holder: str | None = None
    attachment: Attachment | None = None
    prompt: tuple[str, str | None] | None = None
    stream: StreamSummary | None = None
    #: The JSON Schema of a ``structured_predict`` output class run in this span.
    output_schema: Any = None
    created: float = field(default_factory=time.monotonic)

    @property
    def recorded(self) -> bool:
        """Whether the span is a span in the trace (not plumbing, not pending)."""
        return self.op in RECORDED

    def scope(self) -> tuple[Op | None, str | None]:
        """``(outer, anchor)`` as this span's children see them.

        A step is transparent to ``outer``: ``trace_all_runs`` shows more spans but
        changes nothing about what the others are.
        """
        op = self.op
        if op is _STEP:
            return self.outer, self.id
        if op in RECORDED:
            return op, self.id
        return self.outer, self.anchor


class SpanTable(BoundedTable[str, OpenSpan]):
    """Spans in flight by id, plus the index of LLM streams awaiting their first chunk.

    Thread-safe. ``lock`` (reentrant) also guards the ``holds`` and flags of its spans.
    """

    def __init__(self, max_open: int, timeout_s: float) -> None:
        super().__init__(max_open, timeout_s)
        self._first_chunk: dict[Hashable, str] = {}
        #: :meth:`get` as one C call, without a Python frame (a None id finds nothing, as
        #: there): read several times per dispatcher span. The dict is only ever cleared,
        #: never replaced, so this stays bound to it.
        self.find: Callable[[Any], OpenSpan | None] = self._entries.get

    def pinned(self, entry: OpenSpan) -> bool:
        """A span whose method is running with its context attached is never evicted.

        Its exit is certain, and only its exit, in its own frame, can detach that context.
        """
        return entry.attachment is not None

    def _evict(self, newest: OpenSpan) -> list[OpenSpan]:
        """The base's eviction (under the lock); evicted spans leave the first-chunk index."""
        evicted = super()._evict(newest)
        for gone in evicted:
            self._unindex(gone)
        return evicted

    def pop(self, key: str) -> OpenSpan | None:
        """Remove and return a span."""
        with self.lock:  # once per span: the base's pop would take the lock again
            span = self._entries.pop(key, None)
            if span is not None and span.first_chunk_key is not None:
                self._unindex(span)
            return span

    def release(self, span: OpenSpan) -> bool:
        """Drop one hold on ``span``; True when that was its last and it left the table.

        One lock and one frame for what every span does once at its end.
        """
        with self.lock:
            span.holds -= 1
            if span.holds > 0:
                return False
            gone = self._entries.pop(span.id, None)
            if gone is None:
                return False
            if gone.first_chunk_key is not None:
                self._unindex(gone)
            return True

    def drain(self) -> list[OpenSpan]:
        """Remove every span and return them."""
        with self.lock:
            self._first_chunk.clear()
            return super().drain()

    def above(self, span: OpenSpan, depth: int = ANCESTOR_DEPTH) -> Iterator[OpenSpan]:
        """The spans above ``span`` by dispatcher parent, nearest first, at most ``depth``.

        The one walk up the dispatcher's tree: what a span above a model call announced
        (its prompt template, its structured output class) is found through it.
        """
        holder = self.find(span.parent)
        for _ in range(depth):
            if holder is None:
                return
            yield holder
            holder = self.find(holder.parent)

    def streaming_under(self, span_id: str) -> list[OpenSpan]:
        """The spans with an open stream below ``span_id`` (through recorded ancestors)."""
        with self.lock:
            candidates = [s for s in self._entries.values() if s.stream_open and s.id != span_id]
        below = []
        for span in candidates:
            anchor, depth = span.anchor, 0
            while anchor is not None and anchor != span_id and depth < _MAX_DEPTH:
                parent = self.get(anchor)
                anchor, depth = (parent.anchor if parent is not None else None), depth + 1
            if anchor == span_id:
                below.append(span)
        return below

    # --- LLM streams awaiting their first chunk ---

    def stream_key(self, owner: int, anchor: str | None) -> Hashable:
        """The first-chunk index key of a call on LLM ``owner`` under span ``anchor``.

        Steps are skipped, so that the key is the same with ``trace_all_runs`` on.
        """
        depth = 0
        span = self.find(anchor)
        while span is not None and span.op is _STEP and depth < _MAX_DEPTH:
            anchor, depth = span.anchor, depth + 1
            span = self.find(anchor)
        return (owner, anchor)

    def await_first_chunk(self, span: OpenSpan, key: Hashable) -> None:
        """Note that ``span`` returned a stream that has produced nothing yet."""
        with self.lock:
            if span.id in self._entries:
                self._first_chunk[key] = span.id
                span.first_chunk_key = key

    def awaiting(self, key: Hashable) -> str | None:
        """The span whose stream, keyed by ``key``, awaits its first chunk."""
        return self._first_chunk.get(key)

    def first_chunk_arrived(self, span: OpenSpan) -> None:
        """Forget ``span`` in the first-chunk index."""
        with self.lock:
            self._unindex(span)

    def _unindex(self, span: OpenSpan) -> None:
        key = span.first_chunk_key
        if key is not None:
            span.first_chunk_key = None
            if self._first_chunk.get(key) == span.id:
                del self._first_chunk[key]
