"""The life of each dispatcher span: what it is, when it starts, what holds it open.

The span handler (:mod:`semtrace_llamaindex.handler`) and the event handler
(:mod:`semtrace_llamaindex.events`) both report here; this module decides, per span,
which :class:`~semtrace.Recorder` call to make. It holds no span logic of its own:
records come from :mod:`semtrace_llamaindex.translate`, spans from the recorder.

* A structural span (engine, retriever, tool, agent, workflow) starts when it enters.
* A provider-call candidate (a span on an LLM, embedding model or postprocessor) is
  PENDING until its start event arrives (``recorder.start`` then gets the span's real
  start time); if a child span or its exit comes first, it was plumbing.
* Plumbing is never shown to the recorder unless ``trace_all_runs`` makes it a step:
  a recorded span is started under its nearest recorded ancestor (its ``anchor``),
  which the tracker already knows, so the recorder needs no ``skip`` entries.
* A span ends when its holds reach zero: its call returning, plus a stream it returned
  (see :mod:`semtrace_llamaindex.streams`) or a chat stream's writer thread.
* While a recorded span's own code runs, its context is the current OpenTelemetry
  context, attached in the frame that runs it and detached when it returns.
* The span at the top of a trace carries the run's ids (``instrument_tags``, the
  memory's key; see :func:`semtrace_llamaindex.translate.run_context`), which the
  recorder puts on every span of the trace. A prompt template named in its metadata
  is noted on the span that formats it (``predict``) and reaches the model calls below.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse
from llama_index.core.chat_engine.types import StreamingAgentChatResponse
from llama_index.core.instrumentation.span import active_span_id
from opentelemetry.util.types import AttributeValue
from semtrace.integration import (
    End,
    LazyEnd,
    ModelEnd,
    ModelStart,
    Recorder,
    RetrievalEnd,
    Settings,
    Start,
    StepStart,
    StreamSummary,
    ValueEnd,
    current_context,
    never_raise,
    record_fault,
    semconv,
)

from semtrace_llamaindex import classify, streams, structured, translate
from semtrace_llamaindex.classify import RECORDED, Kind, Op
from semtrace_llamaindex.table import OpenSpan, SpanTable

try:  # LlamaIndex's per-call tags: ``with instrument_tags({"user_id": ...}):``
    from llama_index.core.instrumentation.dispatcher import (  # type: ignore[attr-defined]
        active_instrument_tags,
    )
except ImportError:  # pragma: no cover - cores without instrument tags
    active_instrument_tags = None  # type: ignore[assignment]

_STREAMING_RESPONSES = (StreamingResponse, AsyncStreamingResponse)
# An LLM's entry points: a failure in one before its start event is still a model call.
_MODEL_METHODS = frozenset(
    {
        "chat",
        "achat",
        "stream_chat",
        "astream_chat",
        "complete",
        "acomplete",
        "stream_complete",
        "astream_complete",
    }
)
# ``Op.X`` and ``Kind.X`` are metaclass lookups (about 0.1 us each on Python 3.11): the
# per-span paths read these module globals instead.
_PENDING, _SKIP, _STEP, _MODEL, _TOOL = Op.PENDING, Op.SKIP, Op.STEP, Op.MODEL, Op.TOOL
_EMBEDDING, _AGENT, _RETRIEVALS = Op.EMBEDDING, Op.AGENT, frozenset({Op.RETRIEVAL, Op.RERANK})
_LLM, _STREAM_WRITER = Kind.LLM, Kind.STREAM_WRITER
_NO_ATTACH = frozenset({Kind.WORKFLOW, Kind.AGENT})  # they attach in their own frames


class Tracker:
    """Turns dispatcher spans and events into recorder calls.

    Args:
        recorder: Where spans go.
        settings: The recorder's settings (capture, ``trace_all_runs``, bounds).
    """

    def __init__(self, recorder: Recorder, settings: Settings) -> None:
        self.recorder = recorder
        self.capture = settings.capture.enabled
        self._trace_all = settings.trace_all_runs
        self._table = SpanTable(settings.max_open_runs, settings.run_timeout_s)
        self._find = self._table.find
        #: Whether :meth:`close` was called: nothing more is recorded. A plain attribute,
        #: not a property: the span handler reads it after every span's exit.
        self.closed = False
        self._draining: dict[str, OpenSpan] = {}

    @property
    def draining(self) -> bool:
        """Closed, but spans still running hold an attached context only their exit can detach."""
        return bool(self._draining)

    @property
    def open_spans(self) -> int:
        """Dispatcher spans in flight (bounded by ``settings.max_open_runs``)."""
        return len(self._table)

    # --- from the span handler ---

    def enter(self, span_id: str, parent_id: str | None, instance: Any, bound_args: Any) -> None:
        """A dispatcher span started."""
        if self.closed:
            return
        name, method, kind = classify.identify(span_id, instance)
        parent = self._find(parent_id)
        if parent is None:
            outer = anchor = None
        else:
            if not parent.settled:
                self._settle(parent)
            outer, anchor = parent.scope()
        owner = id(instance) if kind is _LLM else None
        streaming = None
        if owner is not None:
            streaming = self._table.awaiting(self._table.stream_key(owner, anchor))
        if streaming is not None:
            # An LLM stream calling its own LLM to make its first chunk (CustomLLM's
            # astream_* run the sync stream_*): part of that call, not a second one.
            parent_id, outer, anchor = streaming, _MODEL, streaming
        tool_step = instance is None and classify.is_tool_call_step(bound_args)
        op = classify.op_for(kind, outer, tool_step)
        if op is _SKIP and self._trace_all:
            op = _STEP
        span = OpenSpan(span_id, parent_id, name, method, kind, op, outer, anchor, time.time_ns())
        span.owner = owner
        if op is _PENDING:
            span.instance, span.args = instance, bound_args
        elif op is _SKIP:
            span.settled = True  # plumbing: nothing to start, ever
        if kind is _STREAM_WRITER and parent is not None:
            self._hold_for_writer(parent, span)
        evicted = self._table.add(span.id, span)
        for gone in evicted:
            if gone is not span:
                self._abandon(gone)
        if evicted and span in evicted:  # no room even for it: every other span is running
            return
        if op in RECORDED:
            record = self._start_record(span, instance, bound_args, tool_step)
            context = self._run_context(instance, bound_args) if span.anchor is None else None
            self._start(span, record, kind not in _NO_ATTACH, context)

    def exit(self, span_id: str, result: Any) -> None:
        """A dispatcher span's method returned ``result``."""
        span = self._find(span_id)
        if span is None:
            self._undrain(span_id)
            return
        if span.attachment is not None:
            self._detach(span)
        op = span.op
        if op is _SKIP:  # plumbing (most spans): only a chat stream's writer may hold it
            if isinstance(result, StreamingAgentChatResponse):
                self._hold_for_result(span, result)
            if self._table.release(span) and span.holder is not None:
                self._finish(span)  # not recorded: only the span it holds open to release
            return
        if op is _PENDING:
            if not self._trace_all:
                self._table.pop(span_id)  # plumbing nobody needed to know about
                return
            self._settle(span)
        self._hold_for_result(span, result)
        if span.op in RECORDED and span.end is None and not span.stream_open:
            span.end = self._end_record(span, result)
        if span.op is _TOOL:
            span.error = translate.tool_failure(result)
        self._release(span)

    def drop(self, span_id: str, error: BaseException | None) -> None:
        """A dispatcher span's method raised ``error``."""
        span = self._find(span_id)
        if span is None:
            self._undrain(span_id)
            return
        if span.attachment is not None:
            self._detach(span)
        if span.op is Op.PENDING:
            if self._failed_before_start(span, error):
                pass  # now a model span, failed below
            elif not self._trace_all:
                self._table.pop(span_id)
                return
            else:
                self._settle(span)
        if error is None or translate.is_cancellation(error):
            span.cancelled = True
        else:
            span.error = error
        self._release(span)

    def _failed_before_start(self, span: OpenSpan, error: BaseException | None) -> bool:
        """A model call that failed before its start event: record it as a model span.

        llama-index-llms-ollama asks the server about the model (``/api/show``) inside
        ``chat()`` before LlamaIndex sends the start event; a provider error there would
        otherwise leave no span at all.
        """
        if (
            error is None
            or translate.is_cancellation(error)
            or span.kind is not Kind.LLM
            or span.outer is Op.MODEL  # part of a model call that reports it
            or span.method not in _MODEL_METHODS
        ):
            return False
        try:
            record = translate.failed_call_start(span.instance, span.args, span.method)
        except Exception:
            record_fault("Tracker.failed_before_start")
            return False
        span.op, span.instance, span.args = Op.MODEL, None, None
        context = self._run_context(None, None) if span.anchor is None else None
        self._start(span, record, False, context)
        return True

    def close(self) -> None:
        """Stop: end every open span (children first), then close the recorder.

        Spans whose method is still running keep their attached context until they
        return (see :attr:`draining`): detaching it from here would corrupt the context
        of the thread or task running them.
        """
        self.closed = True
        spans = self._table.drain()
        self._draining = {s.id: s for s in spans if s.attachment is not None}
        for span in reversed(spans):
            if span.recorded:
                self.recorder.cancel(span.id)
        self.recorder.close()

    def _undrain(self, span_id: str) -> None:
        span = self._draining.pop(span_id, None) if self._draining else None
        if span is not None:
            self._detach(span)

    # --- from the event handler ---

    def resolve(self, span_id: str | None, op: Op, build: Callable[[OpenSpan], Start]) -> None:
        """A provider call's start event: its PENDING span becomes ``op``, built by ``build``."""
        span = self._find(span_id)
        if (
            span is None
            or span.op is not Op.PENDING
            or classify.CANDIDATES.get(span.kind) is not op
        ):
            return
        if span.outer is op:  # e.g. CustomLLM.chat running self.complete: one call
            self._settle(span)
            return
        record = build(span)
        if op is Op.MODEL and isinstance(record, ModelStart):
            structured.apply(record, self._table, span)
        span.op, span.instance, span.args = op, None, None
        context = self._run_context(None, None) if span.anchor is None else None
        if op is Op.MODEL:
            context = self._use_prompt(span, context)
        self._start(span, record, True, context)

    def note_prompt(self, span_id: str | None, ref: tuple[str, str | None] | None) -> None:
        """A prompt template named ``ref`` is formatted in span ``span_id`` (``predict``)."""
        span = self._find(span_id)
        if span is not None and ref is not None:
            span.prompt = ref

    def note_output_schema(self, span_id: str | None, schema: Any) -> None:
        """A ``structured_predict`` for output schema ``schema`` runs in span ``span_id``."""
        span = self._find(span_id)
        if span is not None and schema is not None:
            span.output_schema = schema

    def chunk(self, span_id: str | None, response: Any = None) -> None:
        """A model span streamed a chunk (``response``: the in-progress event's).

        Every chunk is read: providers put the finish reason, usage, id and model on
        different chunks (see :class:`semtrace.normalize.StreamSummary`).
        """
        span = self._find(span_id)
        if span is None or span.op is not Op.MODEL:
            return
        if response is not None:
            self._summarize(span, response)
        if span.chunked:
            return
        span.chunked = True
        self._table.first_chunk_arrived(span)
        self.recorder.chunk(span.id)

    @never_raise
    def _summarize(self, span: OpenSpan, response: Any) -> None:
        if span.stream is None:
            span.stream = StreamSummary()
        span.stream.add(*translate.payloads(response))

    def set_end(self, span_id: str | None, build: Callable[[], End], final: bool = False) -> None:
        """An end event: what the span returned. ``final`` ends a model's stream."""
        span = self._find(span_id)
        if span is None or not span.recorded:
            return
        if span.stream is None:
            span.end = LazyEnd(build)  # read on the worker, off the caller's thread
        else:
            end = build()
            if isinstance(end, ModelEnd):
                end = span.stream.fill(end)  # what the last chunk alone does not say
            span.end = end
        if final:
            self._close_stream(span)

    def fail(self, span_id: str | None, error: BaseException) -> None:
        """An exception event (a stream raised or was closed early)."""
        span = self._find(span_id)
        if span is None:
            return
        if translate.is_cancellation(error):
            span.cancelled = True
        else:
            span.error = error
        self._close_stream(span)

    def cancelled(self, span_id: str | None) -> None:
        """A workflow or step was cancelled: it ends without error."""
        span = self._find(span_id)
        if span is not None:
            span.cancelled = True

    @never_raise
    def stream_done(
        self, span_id: str, error: BaseException | None, cancelled: bool, text: str | None
    ) -> None:
        """A wrapped response stream ended (see :mod:`semtrace_llamaindex.streams`)."""
        span = self._find(span_id)
        if span is None or not span.stream_open:
            return
        for below in self._table.streaming_under(span_id):  # abandoned with it: end first
            self.fail(below.id, GeneratorExit() if error is None else error)
        if error is not None:
            self.fail(span_id, error)
            return
        if cancelled:
            span.cancelled = True
        elif text is not None:
            span.end = ValueEnd(text)
        self._close_stream(span)

    # --- lifecycle ---

    def _settle(self, span: OpenSpan) -> None:
        """Decide what a pending ``span`` is (a child needs it, or it ends as a step).

        A candidate with a child is plumbing, or a step with ``trace_all_runs`` (the
        recorder then starts it); plumbing is never shown to the recorder.
        """
        if span.settled:
            return
        with self._table.lock:
            if span.settled:
                return
            if span.op is Op.PENDING:
                span.op = Op.STEP if self._trace_all else Op.SKIP
                span.instance = span.args = None
            if span.op is Op.STEP:
                context = self._run_context(None, None) if span.anchor is None else None
                self._start(span, StepStart(span.name), False, context)
            else:
                span.settled = True

    def _start(
        self,
        span: OpenSpan,
        record: Start,
        attach: bool,
        context: dict[str, AttributeValue] | None = None,
    ) -> None:
        # Under its nearest recorded ancestor: the plumbing in between is not recorded.
        self.recorder.start(
            span.id, span.anchor, record, start_time_ns=span.start_ns, attributes=context
        )
        span.settled = True
        if attach and active_span_id.get() == span.id:
            self._attach(span)

    @staticmethod
    def _run_context(instance: Any, bound_args: Any) -> dict[str, AttributeValue] | None:
        """The ids of a run at the top of a trace (see ``translate.run_context``).

        A fault loses the ids, never the span.
        """
        try:
            tags = active_instrument_tags.get() if active_instrument_tags is not None else None
            has_conversation = semconv.GEN_AI_CONVERSATION_ID in current_context()
            return translate.run_context(tags, instance, bound_args, has_conversation)
        except Exception:
            record_fault("Tracker.run_context")
            return None

    def _use_prompt(
        self, span: OpenSpan, context: dict[str, AttributeValue] | None
    ) -> dict[str, AttributeValue] | None:
        """Name the prompt template of the model call ``span`` about to start.

        The template was noted on a span above it (``predict``, ``structured_predict``),
        below its nearest recorded ancestor. Inside a trace the recorder hands it to the
        next model call (``use_prompt``, as for LangChain); a model call at the top of a
        trace has no span below it, so the name goes in its own start ``context``. A
        fault loses the name, never the span.
        """
        try:
            holder = None
            for above in self._table.above(span):
                if above.prompt is not None:
                    holder = above
                    break
                if above.recorded and above.op is not Op.STEP:
                    return context  # past the nearest recorded ancestor: not this call's
            if holder is None or holder.prompt is None:
                return context
            if span.anchor is not None:  # the recorder keeps it for the anchor's trace
                self.recorder.use_prompt(span.anchor, *holder.prompt)
                return context
            return {**(context or {}), **translate.prompt_attributes(holder.prompt)}
        except Exception:
            record_fault("Tracker.use_prompt")
            return context

    def _start_record(
        self, span: OpenSpan, instance: Any, bound_args: Any, tool_step: bool
    ) -> Start:
        op, kind = span.op, span.kind
        if op is Op.WORKFLOW:
            if kind in (Kind.QUERY_ENGINE, Kind.CHAT_ENGINE):
                return translate.engine_start(instance, bound_args)
            return translate.workflow_start(instance, bound_args)
        if op is Op.AGENT:
            return translate.agent_start(instance, bound_args)
        if op is Op.RETRIEVAL:
            return translate.retrieval_start(instance, bound_args)
        if op is Op.TOOL:
            if tool_step:
                return translate.tool_call_start(translate.argument(bound_args, "ev"))
            return translate.tool_start(instance, bound_args)
        return StepStart(span.name)

    def _end_record(self, span: OpenSpan, result: Any) -> End | None:
        op = span.op
        if op is _MODEL:
            return translate.model_end(result)
        if op in _RETRIEVALS:
            return RetrievalEnd(translate.documents(result))
        if op is _EMBEDDING:
            return translate.embedding_end(result)
        # An agent's output is needed for the no_final_answer check, capture or not.
        if self.capture or op is _AGENT:
            return ValueEnd(translate.output(result))
        return None

    def _hold_for_result(self, span: OpenSpan, result: Any) -> None:
        """Keep ``span`` open while what it returned is still streaming."""
        if span.op is _MODEL and span.end is None and _is_stream(result):
            self._open_stream(span)
            if not span.chunked and span.owner is not None:
                key = self._table.stream_key(span.owner, span.anchor)
                self._table.await_first_chunk(span, key)
        elif span.op in RECORDED and isinstance(result, _STREAMING_RESPONSES):
            self._open_stream(span)
            wrapped = False
            try:
                wrapped = streams.wrap(result, self, span.id)
            finally:
                if not wrapped:
                    self._close_stream(span)
        if isinstance(result, StreamingAgentChatResponse) and (
            result.write_response_to_history_thread is not None
            or result.awrite_response_to_history_task is not None
        ):
            with self._table.lock:
                if not span.writer_seen:  # reserve a hold for the writer not started yet
                    span.awaiting_writer = True
                    span.holds += 1

    def _hold_for_writer(self, parent: OpenSpan, writer: OpenSpan) -> None:
        """A chat stream's writer started: its engine call stays open until it ends."""
        with self._table.lock:
            if self._find(parent.id) is not parent:
                return
            parent.writer_seen = True
            if parent.awaiting_writer:
                parent.awaiting_writer = False
            else:
                parent.holds += 1
            writer.holder = parent.id

    def _open_stream(self, span: OpenSpan) -> None:
        with self._table.lock:
            span.stream_open = True
            span.holds += 1

    def _close_stream(self, span: OpenSpan) -> None:
        with self._table.lock:
            if not span.stream_open:
                return
            span.stream_open = False
        self._release(span)

    def _release(self, span: OpenSpan) -> None:
        if self._table.release(span):
            self._finish(span)

    def _finish(self, span: OpenSpan) -> None:
        if span.op in RECORDED:
            if span.error is not None:
                self.recorder.fail(span.id, span.error, span.end)
            elif span.cancelled:
                self.recorder.cancel(span.id)
            else:
                self.recorder.end(span.id, span.end)
        if span.holder is not None:
            holder = self._find(span.holder)
            if holder is not None:
                self._release(holder)

    def _abandon(self, span: OpenSpan) -> None:
        """An evicted span: never ended by LlamaIndex within the bounds."""
        if span.recorded:
            self.recorder.cancel(span.id)

    # --- the current OpenTelemetry context ---

    @never_raise
    def _attach(self, span: OpenSpan) -> None:
        span.attachment = self.recorder.attach(span.id)

    @never_raise
    def _detach(self, span: OpenSpan) -> None:
        attachment, span.attachment = span.attachment, None
        self.recorder.detach(attachment)


def _is_stream(result: Any) -> bool:
    return inspect.isgenerator(result) or inspect.isasyncgen(result)
