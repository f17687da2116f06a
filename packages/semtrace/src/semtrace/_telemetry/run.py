"""A run in flight, and the state of its trace: what the caller hands the worker.

The recorder creates a :class:`Run` when a framework run starts and hands it to the worker
when it ends (:mod:`semtrace._telemetry.ending`); :class:`OpenTrace` is what one trace in
flight has seen so far, shared by its runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from opentelemetry.context import Context
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from semtrace.quality.checks import TraceChecks
from semtrace.records import Document, Start

#: Chunk gaps one streamed call keeps for ``gen_ai.client.operation.time_per_output_chunk``
#: (the points of a longer stream past these are not recorded).
MAX_CHUNK_GAPS: Final = 4096

#: How much retrieved text a trace keeps for the groundedness check.
MAX_CONTEXT_CHARS: Final = 40_000


@dataclass(slots=True)
class OpenTrace:
    """What one trace in flight has seen so far, for the quality signals and roll-ups.

    Not OpenTelemetry's W3C ``TraceState``: this never leaves the process.
    """

    question: str | None = None
    contexts: list[str] = field(default_factory=list)
    #: user/session/conversation/tags set on every span of the trace
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    #: the prompt template (name, version) the next model call of this trace uses
    prompt: tuple[str, str | None] | None = None
    #: recorded runs of this trace not yet ended
    open_runs: int = 0
    #: the root's span and end time, when the root ended before some of its runs
    pending_root: tuple[Span, int] | None = None
    #: roll-ups for the root span
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    currency: str | None = None
    #: the checks' per-trace state (created on first use)
    checks: TraceChecks | None = None

    def note_retrieval(self, query: str | None, documents: Sequence[Document]) -> None:
        """Remember a retrieval's query (the trace's question, if none yet) and its texts."""
        if self.question is None and query:
            self.question = query
        kept = sum(len(c) for c in self.contexts)
        for document in documents:
            if kept >= MAX_CONTEXT_CHARS:
                break
            if document.content:
                self.contexts.append(document.content[: MAX_CONTEXT_CHARS - kept])
                kept += len(self.contexts[-1])


@dataclass(slots=True)
class Run:
    """A run recorded as a span."""

    span: Span
    #: The OpenTelemetry context holding ``span``, the parent of its children's spans.
    otel_context: Context
    start: Start
    started_ns: int
    trace: OpenTrace
    recording: bool
    is_root: bool = False
    created: float = field(default_factory=time.monotonic)
    first_chunk_ns: int | None = None
    last_chunk_ns: int = 0
    #: nanoseconds between consecutive chunks after the first (at most MAX_CHUNK_GAPS)
    chunk_gaps: list[int] | None = None

    def note_chunk(self, now_ns: int) -> None:
        """A streamed chunk arrived: the first one's time, then the gap since the last."""
        if self.first_chunk_ns is None:
            self.first_chunk_ns = now_ns
        else:
            gaps = self.chunk_gaps
            if gaps is None:
                gaps = self.chunk_gaps = []
            if len(gaps) < MAX_CHUNK_GAPS:  # bounded: a stream of any length keeps these
                gaps.append(now_ns - self.last_chunk_ns)
        self.last_chunk_ns = now_ns
