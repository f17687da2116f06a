"""Prompt, document and answer text is recorded only when content capture is on."""

from __future__ import annotations

from llama_index.core import VectorStoreIndex
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import ANSWER, DOCS, QUESTION, AnswerLLM
from tests.llamaindex.helpers import CONTENT_KEYS, attrs, only


def _all_text(telemetry: Telemetry) -> str:
    return "\n".join(str(v) for s in telemetry.spans() for v in attrs(s).values())


def test_no_content_is_recorded_by_default(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM(as_chat_model=True)).query(QUESTION)
    assert not any(CONTENT_KEYS & attrs(s).keys() for s in telemetry.spans())
    text = _all_text(telemetry)
    assert QUESTION not in text and ANSWER not in text
    assert not any(doc in text for doc in DOCS)


def test_content_is_recorded_when_capture_is_on(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    index.as_query_engine(llm=AnswerLLM(as_chat_model=True), similarity_top_k=2).query(QUESTION)
    workflow, retrieval, chat = (
        attrs(only(telemetry, op)) for op in ("invoke_workflow", "retrieval", "chat")
    )
    assert workflow["semtrace.input.value"] == QUESTION
    assert workflow["semtrace.output.value"] == ANSWER
    assert retrieval["gen_ai.retrieval.query.text"] == QUESTION
    assert any(doc in retrieval["gen_ai.retrieval.documents"] for doc in DOCS)
    assert QUESTION in chat["gen_ai.input.messages"]
    assert "gen_ai.system_instructions" in chat
    assert ANSWER in chat["gen_ai.output.messages"]


def test_streamed_answer_is_recorded_on_the_workflow_when_capture_is_on(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    response = index.as_query_engine(llm=AnswerLLM(), streaming=True).query(QUESTION)
    list(response.response_gen)
    assert attrs(only(telemetry, "invoke_workflow"))["semtrace.output.value"] == ANSWER


def test_redact_hook_sees_every_recorded_text(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument(capture_content=True, redact=lambda text: text.replace("France", "[COUNTRY]"))
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert "France" not in _all_text(telemetry)
