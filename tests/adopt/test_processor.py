"""The VerdictProcessor itself, on spans written in the GenAI conventions by a plain tracer.

What a source's spans carry is tested per source (test_official_langchain.py, ...); here:
where verdicts go, content stripping, tail sampling by outcome, the caller's thread, bounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Settings, semconv
from semtrace.adopt import Verdict, VerdictProcessor
from semtrace.adopt import processor as processor_module
from semtrace.sampling import Policy, TailSamplingProcessor

from tests.adopt.cases import CONTEXT, FABRICATED, GOOD, QUESTION, outcome
from tests.kept_evaluations import Keeping

GROUNDEDNESS = semconv.SEMTRACE_QUALITY_PREFIX + "groundedness"


def _messages(*pairs: tuple[str, str]) -> str:
    return json.dumps([{"role": r, "parts": [{"type": "text", "content": c}]} for r, c in pairs])


def rag_trace(provider: TracerProvider, answer: str) -> None:
    """A workflow, a retrieval with its documents' text, and a chat call, as the conventions say."""
    tracer = provider.get_tracer("some.other.instrumentation")
    with tracer.start_as_current_span(
        "invoke_workflow rag", attributes={semconv.GEN_AI_OPERATION_NAME: "invoke_workflow"}
    ):
        with tracer.start_as_current_span(
            "retrieval",
            attributes={
                semconv.GEN_AI_OPERATION_NAME: "retrieval",
                semconv.GEN_AI_RETRIEVAL_QUERY_TEXT: QUESTION,
                semconv.GEN_AI_RETRIEVAL_DOCUMENTS: json.dumps(
                    [{"id": "d0", "content": CONTEXT[0]}]
                ),
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            attributes={
                semconv.GEN_AI_OPERATION_NAME: "chat",
                semconv.GEN_AI_PROVIDER_NAME: "openai",
                semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                semconv.GEN_AI_USAGE_INPUT_TOKENS: 120,
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 20,
                semconv.GEN_AI_INPUT_MESSAGES: _messages(
                    ("system", "Use this context:\n" + CONTEXT[0]), ("user", QUESTION)
                ),
                semconv.GEN_AI_OUTPUT_MESSAGES: _messages(("assistant", answer)),
            },
        ):
            pass


WRITTEN: dict[str, dict[str, Any]] = {}


class _Remember(SimpleSpanProcessor):
    """Notes each span's attributes as its instrumentation wrote them."""

    def __init__(self) -> None:
        super().__init__(InMemorySpanExporter())

    def on_end(self, span: ReadableSpan) -> None:
        WRITTEN[span.name] = dict(span.attributes or {})


def _provider(*processors: Any) -> TracerProvider:
    provider = TracerProvider()
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def test_copies_exported_carry_the_verdicts_and_the_root_the_diagnosis() -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    rag_trace(_provider(verdicts), FABRICATED)
    verdicts.force_flush()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    chat = spans["chat gpt-4o-mini"].attributes or {}
    assert chat[GROUNDEDNESS + ".label"] == "fail"
    assert any(e.name == semconv.EVENT_EVALUATION_RESULT for e in spans["chat gpt-4o-mini"].events)
    root = spans["invoke_workflow rag"].attributes or {}
    assert root[semconv.SEMTRACE_DIAGNOSIS] == "unsupported_answer"
    assert root[semconv.SEMTRACE_DIAGNOSIS_SPAN_ID] == format(
        spans["chat gpt-4o-mini"].context.span_id, "016x"
    )
    assert root[semconv.SEMTRACE_TRACE_COST_AMOUNT] > 0  # type: ignore[operator]


def test_the_sources_own_attributes_are_kept_as_they_were() -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    rag_trace(_provider(_Remember(), verdicts), GOOD)
    verdicts.force_flush()
    for span in exporter.get_finished_spans():
        original = WRITTEN[span.name]
        added = {k: v for k, v in (span.attributes or {}).items() if k not in original}
        assert {k: (span.attributes or {})[k] for k in original} == original
        assert added and all(k.startswith("semtrace.") for k in added), added


def test_alone_it_emits_each_verdict_as_a_child_of_the_judged_span() -> None:
    exporter = InMemorySpanExporter()
    provider = _provider(SimpleSpanProcessor(exporter))
    verdicts = VerdictProcessor(tracer_provider=provider, settings=Settings())
    provider.add_span_processor(verdicts)
    rag_trace(provider, FABRICATED)
    verdicts.force_flush()
    spans = exporter.get_finished_spans()
    chat = next(s for s in spans if s.name == "chat gpt-4o-mini")
    assert GROUNDEDNESS not in (chat.attributes or {})  # exported before it was judged
    [child] = [s for s in spans if s.name == "evaluate chat gpt-4o-mini"]
    assert child.parent is not None and child.parent.span_id == chat.context.span_id
    assert (child.attributes or {})[GROUNDEDNESS + ".label"] == "fail"
    assert [e.name for e in child.events] == [semconv.EVENT_EVALUATION_RESULT]
    diagnosed = [s for s in spans if semconv.SEMTRACE_DIAGNOSIS in (s.attributes or {})]
    assert [s.name for s in diagnosed] == ["evaluate invoke_workflow rag"]


def test_emit_can_be_pointed_elsewhere() -> None:
    seen: list[Verdict] = []
    verdicts = VerdictProcessor(settings=Settings(), emit=lambda tracer, v: seen.append(v))
    rag_trace(_provider(verdicts), FABRICATED)
    verdicts.force_flush()
    assert {v.name for v in seen} >= {"chat gpt-4o-mini", "invoke_workflow rag"}


def test_strip_content_exports_verdicts_without_the_text() -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(
        SimpleSpanProcessor(exporter), settings=Settings(), strip_content=True
    )
    rag_trace(_provider(verdicts), FABRICATED)
    verdicts.force_flush()
    spans = exporter.get_finished_spans()
    text = json.dumps([dict(s.attributes or {}) for s in spans])
    assert FABRICATED not in text and CONTEXT[0] not in text and QUESTION not in text
    assert outcome(spans).labels["groundedness"] == "fail"


def test_tail_sampling_downstream_keeps_the_failed_trace_and_drops_the_healthy_one() -> None:
    exporter = InMemorySpanExporter()
    sampler = TailSamplingProcessor(SimpleSpanProcessor(exporter), Policy(base_rate=0.0))
    verdicts = VerdictProcessor(sampler, settings=Settings())
    provider = _provider(verdicts)
    rag_trace(provider, GOOD)
    rag_trace(provider, FABRICATED)
    verdicts.force_flush()
    kept = {s.context.trace_id for s in exporter.get_finished_spans()}
    assert len(kept) == 1
    assert outcome(exporter.get_finished_spans()).diagnosis == "unsupported_answer"


def test_the_callers_thread_only_notes_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[Callable[[], None]] = []
    monkeypatch.setattr(
        processor_module.worker, "submit", lambda work, trace_id=0: queued.append(work) or True
    )
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    rag_trace(_provider(verdicts), FABRICATED)
    assert exporter.get_finished_spans() == ()  # held, not judged: the trace is queued
    [work] = queued
    work()  # what the worker runs
    assert outcome(exporter.get_finished_spans()).diagnosis == "unsupported_answer"


def test_past_max_traces_the_oldest_trace_is_exported_unjudged() -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings(), max_traces=1)
    tracer = _provider(verdicts).get_tracer("other")
    first = tracer.start_span("first root")
    child = tracer.start_span("first child", context=_in(first))
    child.end()  # held: its root is still open
    second = tracer.start_span("second root")
    tracer.start_span("second child", context=_in(second)).end()  # a second trace: over the bound
    assert [s.name for s in exporter.get_finished_spans()] == ["first child"]
    first.end()
    second.end()
    verdicts.force_flush()


def test_a_bad_bound_is_refused_when_built() -> None:
    with pytest.raises(ValueError):
        VerdictProcessor(max_traces=0)


def _in(span: Any) -> Any:
    from opentelemetry import trace

    return trace.set_span_in_context(span)


def _names(spans: tuple[ReadableSpan, ...]) -> list[str]:
    return [s.name for s in spans]


def test_malformed_attributes_never_break_the_export() -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    tracer = _provider(verdicts).get_tracer("sloppy")
    with tracer.start_as_current_span("root"):
        for value in ("not json", "[1, 2, {}]", '[{"role": 3, "parts": "x"}]', "{" * 5000):
            tracer.start_span(
                "chat",
                attributes={
                    semconv.GEN_AI_OPERATION_NAME: "chat",
                    semconv.GEN_AI_INPUT_MESSAGES: value,
                    semconv.GEN_AI_OUTPUT_MESSAGES: value,
                    semconv.GEN_AI_RETRIEVAL_DOCUMENTS: value,
                    semconv.GEN_AI_USAGE_INPUT_TOKENS: -5,
                    "openinference.span.kind": "LLM" if value == "not json" else "RETRIEVER",
                    "llm.input_messages.0.message.role": 7,
                },
            ).end()
    assert verdicts.force_flush()
    assert len(exporter.get_finished_spans()) == 5  # every span exported


def test_verdicts_of_foreign_spans_reach_the_evaluation_sinks_with_their_span_ids(
    sink: Keeping,
) -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    rag_trace(_provider(verdicts), FABRICATED)
    verdicts.force_flush()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    chat, root = spans["chat gpt-4o-mini"].context, spans["invoke_workflow rag"].context
    grounded = [r for r in sink.records if r.name == "groundedness"]
    assert [(r.trace_id, r.span_id, r.label) for r in grounded] == [
        (chat.trace_id, chat.span_id, "fail")
    ]
    diagnosis = [r for r in sink.records if r.name == "diagnosis"]
    assert [(r.span_id, r.label) for r in diagnosis] == [(root.span_id, "unsupported_answer")]


def test_verdicts_of_foreign_spans_are_log_events_of_their_spans(telemetry: Any) -> None:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    rag_trace(_provider(verdicts), FABRICATED)
    verdicts.force_flush()
    chat = next(s for s in exporter.get_finished_spans() if s.name == "chat gpt-4o-mini")
    found = [
        r
        for r in telemetry.events(semconv.EVENT_EVALUATION_RESULT)
        if (r.attributes or {}).get(semconv.GEN_AI_EVALUATION_NAME) == "groundedness"
    ]
    assert [(r.trace_id, r.span_id) for r in found] == [
        (chat.context.trace_id, chat.context.span_id)
    ]
