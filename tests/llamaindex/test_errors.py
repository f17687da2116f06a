"""Failures mark the failing span and its ancestors ERROR with error.type.

The error itself still reaches the caller.
"""

from __future__ import annotations

import pytest
from llama_index.core import VectorStoreIndex
from opentelemetry.trace import StatusCode
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import QUESTION, AnswerLLM
from tests.llamaindex.helpers import attrs, only


def test_llm_error_fails_the_completion_and_workflow_spans(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    with pytest.raises(RuntimeError, match="model down"):
        index.as_query_engine(llm=AnswerLLM(fail_with="model down")).query(QUESTION)
    for op in ("text_completion", "invoke_workflow"):
        span = only(telemetry, op)
        assert span.status.status_code is StatusCode.ERROR
        assert attrs(span)["error.type"] == "RuntimeError"
        assert "model down" in (span.status.description or "")


async def test_async_llm_error_fails_the_completion_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    with pytest.raises(RuntimeError):
        await index.as_query_engine(llm=AnswerLLM(fail_with="model down")).aquery(QUESTION)
    assert only(telemetry, "text_completion").status.status_code is StatusCode.ERROR


def test_error_while_streaming_fails_the_spans_of_the_stream(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    response = index.as_query_engine(llm=AnswerLLM(fail_with="stream broke"), streaming=True).query(
        QUESTION
    )
    with pytest.raises(RuntimeError, match="stream broke"):
        list(response.response_gen)
    for op in ("text_completion", "invoke_workflow"):
        assert only(telemetry, op).status.status_code is StatusCode.ERROR


def test_successful_spans_have_no_error_status(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    assert all(s.status.status_code is StatusCode.UNSET for s in telemetry.spans())
    assert not any("error.type" in attrs(s) for s in telemetry.spans())
