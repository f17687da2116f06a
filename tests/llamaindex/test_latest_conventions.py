"""A LlamaIndex query engine under the newest GenAI conventions (the opt-in).

The integration writes the 1.41 names; the recorder puts them under the newest ones when
``latest_conventions`` is on (``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``).
"""

from __future__ import annotations

import json

from llama_index.core import VectorStoreIndex
from llama_index.core.prompts import PromptTemplate
from semtrace import semconv, semconv_latest
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import QUESTION, AnswerLLM
from tests.llamaindex.helpers import attrs, only

QA = "Context: {context_str}\nQuestion: {query_str}\nAnswer:"


def test_a_query_engine_writes_the_newest_names(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(latest_conventions=True, capture_content=True)
    engine = index.as_query_engine(llm=AnswerLLM(), similarity_top_k=2)
    named = PromptTemplate(QA, metadata={"prompt_name": "support-answer", "prompt_version": "7"})
    engine.update_prompts({"response_synthesizer:text_qa_template": named})
    engine.query(QUESTION)

    completion = attrs(only(telemetry, "text_completion"))
    assert completion[semconv_latest.GEN_AI_PROMPT_VERSION] == "7"
    assert semconv.SEMTRACE_PROMPT_VERSION not in completion

    retrieval = attrs(only(telemetry, "retrieval"))
    assert retrieval[semconv_latest.GEN_AI_RETRIEVAL_TOP_K] == 2
    assert semconv.GEN_AI_REQUEST_TOP_K not in retrieval
    documents = json.loads(retrieval[semconv.GEN_AI_RETRIEVAL_DOCUMENTS])
    assert len(documents) == 2 and all("id" in d and "score" in d for d in documents)
    assert semconv.SEMTRACE_RETRIEVAL_DOCUMENT_IDS not in retrieval

    workflow = attrs(only(telemetry, "invoke_workflow"))
    (message,) = json.loads(workflow[semconv.GEN_AI_INPUT_MESSAGES])
    assert QUESTION in message["parts"][0]["content"]
    assert semconv.SEMTRACE_INPUT_VALUE not in workflow

    assert telemetry.metric_points(semconv_latest.METRIC_INFERENCE_DURATION)
    assert telemetry.metric_points(semconv_latest.METRIC_EMBEDDINGS_DURATION)
    assert telemetry.metric_points(semconv.METRIC_OPERATION_DURATION) == []
    scopes = {s.instrumentation_scope.schema_url for s in telemetry.spans()}  # type: ignore[union-attr]
    assert scopes == {semconv_latest.SCHEMA_URL}
