"""semtrace's verdicts become span annotations in a real Phoenix, on the spans they judge.

A LangChain and a LlamaIndex RAG whose model answers from outside its context, with an LLM
judge (a fake model that says UNSUPPORTED) and a user's feedback afterwards, export their
spans to Phoenix over OTLP and their verdicts through :class:`PhoenixSink`. Read back from
Phoenix's REST API (``GET /v1/projects/{project}/span_annotations``):

* the chat span: ``groundedness`` (CODE, fail, with its score and explanation),
  ``groundedness_judge`` and ``groundedness_final`` (LLM, fail);
* the root span: ``diagnosis`` (CODE, the label its ``semtrace.diagnosis`` attribute has:
  ``unsupported_answer`` for LangChain, ``retrieval_miss`` for LlamaIndex, whose mock
  embedding retrieves off-topic passages) and ``user_feedback`` (HUMAN, the user's score,
  label and comment).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import semtrace
from backends import Phoenix, http_get_json
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from semtrace.export.evaluations import PhoenixSink
from semtrace.export.evaluations import registry as sinks
from semtrace.export.views import ViewExporter
from semtrace.export.views.phoenix import phoenix_view
from semtrace.quality.evaluators import wait_for_evaluations
from semtrace.quality.judge import GroundednessJudge, JudgeReply

from tests.corpus import WITH_UNSUPPORTED

Annotations = dict[tuple[str, str], dict[str, Any]]  # (span name, annotation name) -> it


def _provider(phoenix: Phoenix, project: str) -> TracerProvider:
    resource = Resource.create({"openinference.project.name": project, "service.name": project})
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=phoenix.otlp_http_traces_endpoint, timeout=10)
    provider.add_span_processor(BatchSpanProcessor(ViewExporter(exporter, phoenix_view, "phoenix")))
    return provider


def _judge() -> GroundednessJudge:
    return GroundednessJudge(lambda prompt: JudgeReply("UNSUPPORTED"))


@pytest.fixture
def sink(phoenix: Phoenix) -> Iterator[PhoenixSink]:
    """A Phoenix sink installed for the test (as configure() would), removed afterwards."""
    sink = PhoenixSink(phoenix.http_endpoint)
    sinks.start([sink])
    try:
        yield sink
    finally:
        sinks.start([])


def _annotations(
    phoenix: Phoenix, project: str, spans: list[dict[str, Any]], expected: int
) -> Annotations:
    """The project's annotations by span name, once ``expected`` of them are there."""
    names = {s["context"]["span_id"]: s["name"] for s in spans}
    query = urllib.parse.urlencode([("span_ids", i) for i in names] + [("limit", "1000")])
    url = f"{phoenix.http_endpoint}/v1/projects/{urllib.parse.quote(project)}/span_annotations"
    deadline = time.monotonic() + 60
    while True:
        found = http_get_json(f"{url}?{query}")["data"]
        if len(found) >= expected or time.monotonic() > deadline:
            return {(names[a["span_id"]], a["name"]): a for a in found}
        time.sleep(0.5)


def _finish(
    phoenix: Phoenix, provider: TracerProvider, sink: PhoenixSink, project: str, spans: int
) -> list[dict[str, Any]]:
    assert wait_for_evaluations(30)
    provider.force_flush()
    assert sink.flush(30)
    assert sink.sent > 0 and not sink.dropped, (sink.sent, sink.dropped, sink.last_error)
    found = phoenix.wait_for_spans(project, spans, timeout=60)
    provider.shutdown()
    return found


def _check(annotations: Annotations, spans: list[dict[str, Any]], chat: str) -> None:
    [root_span] = [s for s in spans if not s["parent_id"]]
    root = root_span["name"]
    grounded = annotations[(chat, "groundedness")]
    assert grounded["annotator_kind"] == "CODE"
    assert grounded["result"]["label"] == "fail"
    assert 0.0 <= grounded["result"]["score"] < 0.5
    assert grounded["result"]["explanation"]
    for name in ("groundedness_judge", "groundedness_final"):
        judged = annotations[(chat, name)]
        assert judged["annotator_kind"] == "LLM"
        assert judged["result"]["label"] == "fail"
    diagnosis = annotations[(root, "diagnosis")]
    assert diagnosis["annotator_kind"] == "CODE"
    # The same verdict as the root span's attributes, where Phoenix shows it raw.
    said = root_span["attributes"]
    assert diagnosis["result"]["label"] == said["semtrace.diagnosis"] != "none"
    assert diagnosis["metadata"]["semtrace.diagnosis.signal"] == said["semtrace.diagnosis.signal"]
    feedback = annotations[(root, "user_feedback")]
    assert feedback["annotator_kind"] == "HUMAN"
    assert feedback["result"] == {
        "label": "wrong",
        "score": 0.0,
        "explanation": "The docs say it wraps a block in a context manager.",
    }


def test_langchain_verdicts_are_phoenix_annotations_on_their_spans(
    phoenix: Phoenix, sink: PhoenixSink
) -> None:
    from semtrace_langchain import CallbackHandler

    from tests.langchain.pipelines import QUESTION, fake_chat, rag_chain

    project = f"sinks-langchain-{uuid.uuid4().hex[:8]}"
    provider = _provider(phoenix, project)
    handler = CallbackHandler(tracer_provider=provider, evaluators=[_judge()])
    run_id = uuid.uuid4()
    rag_chain(fake_chat(WITH_UNSUPPORTED)).invoke(
        QUESTION, config={"callbacks": [handler], "run_id": run_id}
    )
    assert semtrace.feedback(
        run_id, 0.0, label="wrong", comment="The docs say it wraps a block in a context manager."
    )
    spans = _finish(phoenix, provider, sink, project, 3)
    _check(_annotations(phoenix, project, spans, 7), spans, "chat gpt-4o-mini")
    [root] = [s for s in spans if not s["parent_id"]]
    assert root["attributes"]["semtrace.diagnosis"] == "unsupported_answer"


def test_llamaindex_verdicts_are_phoenix_annotations_on_their_spans(
    phoenix: Phoenix, sink: PhoenixSink
) -> None:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from semtrace_llamaindex import LlamaIndexInstrumentor

    from tests.corpus import WITH_DOCS, WITH_QUESTION
    from tests.llamaindex.fakes import AnswerLLM

    project = f"sinks-llamaindex-{uuid.uuid4().hex[:8]}"
    provider = _provider(phoenix, project)
    embed = MockEmbedding(embed_dim=8)
    index = VectorStoreIndex.from_documents(
        [Document(text=t) for t in WITH_DOCS], embed_model=embed
    )
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=provider, evaluators=[_judge()])
    try:
        engine = index.as_query_engine(
            llm=AnswerLLM(answer=WITH_UNSUPPORTED, as_chat_model=True), similarity_top_k=2
        )
        with semtrace.trace_capture() as captured:
            asyncio.run(engine.aquery(WITH_QUESTION))
    finally:
        instrumentor.uninstrument()
    assert semtrace.feedback(
        captured.ref,
        0.0,
        label="wrong",
        comment="The docs say it wraps a block in a context manager.",
    )
    spans = _finish(phoenix, provider, sink, project, 3)
    [chat] = [s["name"] for s in spans if s["name"].startswith("chat ")]
    _check(_annotations(phoenix, project, spans, 7), spans, chat)
