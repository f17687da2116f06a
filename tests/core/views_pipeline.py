"""One run of every semtrace span type, recorded by the real Recorder into a real SDK pipeline.

The tracer provider exports through ``SimpleSpanProcessor(exporter)``: pass a
``ViewExporter`` to see a backend view's output, or a bare in-memory exporter for the
spans as recorded. The run:

    invoke_workflow rag                       (root; user, session, tags; prompt "qa" v3)
    ├── invoke_agent researcher
    │   ├── embeddings text-embedding-3-small (5 tokens, priced)
    │   ├── retrieval docs
    │   ├── rerank rerank-v1
    │   ├── execute_tool search
    │   └── chat gpt-4o-mini                  (streamed; 1000 in of which 400 cached and
    │       └── evaluate judge                 100 written, 50 out; priced)
    └── parser                                (a framework step, as with trace_all_runs)
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import semtrace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Evaluation, Recorder, Settings
from semtrace.cost import PriceTable
from semtrace.quality.evaluators import wait_for_evaluations
from semtrace.quality.types import Sample
from semtrace.records import (
    AgentStart,
    Document,
    EmbeddingEnd,
    EmbeddingStart,
    Message,
    ModelEnd,
    ModelStart,
    RerankStart,
    RetrievalEnd,
    RetrievalStart,
    StepStart,
    TextPart,
    ToolStart,
    Usage,
    ValueEnd,
    WorkflowStart,
)

#: USD per million tokens. chat: 1000 in (400 cached, 100 written), 50 out.
PRICES = {
    "gpt-4o-mini": {"input": 0.15, "output": 0.6, "cache_read": 0.075, "cache_write": 0.3},
    "text-embedding-3-small": {"input": 0.02, "output": 0},
}
CHAT_USAGE = Usage(
    input_tokens=1000,
    output_tokens=50,
    cache_read_input_tokens=400,
    cache_creation_input_tokens=100,
)
CHAT_COST = (500 * 0.15 + 400 * 0.075 + 100 * 0.3 + 50 * 0.6) / 1e6
EMBEDDING_COST = 5 * 0.02 / 1e6
TTFC_S = 0.05


class Judge:
    """A background evaluator: its result is recorded on an ``evaluate judge`` span."""

    name = "judge"
    background = True
    operations = frozenset({"chat"})

    def evaluate(self, sample: Sample) -> Evaluation | None:
        return Evaluation(self.name, 0.9, "pass")


def price_table() -> PriceTable:
    return PriceTable.load(PRICES, include_defaults=False)


def run_pipeline(exporter: SpanExporter, resource: Resource | None = None) -> None:
    """Record the run above; every span is exported through ``exporter`` once it ends."""
    provider = TracerProvider(resource=resource or Resource.create())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = Recorder(
        Settings(count_tokens=False, quality_signals=False),
        tracer_provider=provider,
        framework="test",
        evaluators=[Judge()],
        prices=price_table(),
    )
    with semtrace.context(user_id="u-1", session_id="s-1", tags=["beta", "rag"]):
        recorder.start("wf", None, WorkflowStart(name="rag", input="What is semtrace?"))
        recorder.use_prompt("wf", "qa", "3")
        recorder.start("agent", "wf", AgentStart(name="researcher"))
        recorder.start(
            "emb", "agent", EmbeddingStart("openai", "text-embedding-3-small", ["semtrace"])
        )
        recorder.end("emb", EmbeddingEnd(dimension=3, usage=Usage(input_tokens=5)))
        recorder.start("ret", "agent", RetrievalStart(query="semtrace", data_source="docs"))
        recorder.end("ret", RetrievalEnd([Document("semtrace traces pipelines", "d1", 0.9)]))
        recorder.start("rerank", "agent", RerankStart(query="semtrace", model="rerank-v1", top_n=1))
        recorder.end("rerank", RetrievalEnd([Document("semtrace traces pipelines", "d1", 0.9)]))
        recorder.start("tool", "agent", ToolStart(name="search", call_id="call-1"))
        recorder.end("tool", ValueEnd(output="3 results"))
        question = [Message("user", [TextPart("What is semtrace?")])]
        recorder.start("chat", "agent", ModelStart("openai", "gpt-4o-mini", question, stream=True))
        time.sleep(TTFC_S)
        recorder.chunk("chat")
        answer = [Message("assistant", [TextPart("A tracer.")])]
        recorder.end("chat", ModelEnd(answer, usage=CHAT_USAGE, response_model="gpt-4o-mini"))
        recorder.end("agent", ValueEnd(output="A tracer."))
        recorder.start("parser", "wf", StepStart(name="parser"))
        recorder.end("parser", ValueEnd(output="A tracer."))
        recorder.end("wf", ValueEnd(output="A tracer."))
    assert wait_for_evaluations(10)
    provider.shutdown()


def recorded_spans() -> Sequence[ReadableSpan]:
    """The run's spans as recorded, with no view."""
    exporter = InMemorySpanExporter()
    run_pipeline(exporter)
    return exporter.get_finished_spans()
