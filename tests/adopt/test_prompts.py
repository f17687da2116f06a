"""Passages a model call's prompt carries when no retrieval with their text is in its trace.

LlamaIndex's question-answering template puts the retrieved passages and the query in the
prompt; the official LlamaIndex instrumentation records the retrieval elsewhere, without
text. semtrace.adopt reads the passages back from the template (semtrace.adopt.prompts).
"""

from __future__ import annotations

import json

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Settings, semconv
from semtrace.adopt import VerdictProcessor

from tests.adopt.cases import CONTEXT, FABRICATED, GOOD, QUESTION

GROUNDEDNESS = semconv.SEMTRACE_QUALITY_PREFIX + "groundedness.label"
LLAMAINDEX_QA = (
    "Context information is below.\n---------------------\n{context}\n---------------------\n"
    "Given the context information and not prior knowledge, answer the query.\n"
    "Query: {query}\nAnswer: "
)


def _chat(user: str, answer: str) -> dict[str, object]:
    exporter = InMemorySpanExporter()
    verdicts = VerdictProcessor(SimpleSpanProcessor(exporter), settings=Settings())
    provider = TracerProvider()
    provider.add_span_processor(verdicts)
    messages = [{"role": "user", "parts": [{"type": "text", "content": user}]}]
    output = [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
    with provider.get_tracer("provider.instrumentation").start_as_current_span(
        "chat gpt-4o-mini",
        attributes={
            semconv.GEN_AI_OPERATION_NAME: "chat",
            semconv.GEN_AI_PROVIDER_NAME: "openai",
            semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            semconv.GEN_AI_INPUT_MESSAGES: json.dumps(messages),
            semconv.GEN_AI_OUTPUT_MESSAGES: json.dumps(output),
        },
    ):
        pass
    verdicts.force_flush()
    [span] = exporter.get_finished_spans()
    return dict(span.attributes or {})


def test_llamaindex_qa_prompt_passages_ground_the_answer() -> None:
    prompt = LLAMAINDEX_QA.format(context="\n\n".join(CONTEXT), query=QUESTION)
    assert _chat(prompt, GOOD)[GROUNDEDNESS] == "pass"
    assert _chat(prompt, FABRICATED)[GROUNDEDNESS] == "fail"


def test_a_prompt_in_another_template_gets_no_groundedness() -> None:
    prompt = f"Here is some text:\n{CONTEXT[0]}\n\nQuestion: {QUESTION}"
    assert GROUNDEDNESS not in _chat(prompt, FABRICATED)
