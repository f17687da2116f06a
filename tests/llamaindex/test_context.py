"""While a LlamaIndex span's code runs it is the current OpenTelemetry span, and never after."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from llama_index.core import VectorStoreIndex
from llama_index.core.base.llms.types import CompletionResponse
from llama_index.core.llms.callbacks import llm_completion_callback
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from pydantic import PrivateAttr
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import ANSWER, QUESTION, AnswerLLM
from tests.llamaindex.helpers import only, parent_name


def _reply(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"text": ANSWER})


class HttpLLM(AnswerLLM):
    """An LLM that calls its provider over (mocked) HTTP, like real provider packages."""

    _client: httpx.Client = PrivateAttr()
    _aclient: httpx.AsyncClient = PrivateAttr()

    def __init__(self, tracer_provider: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = httpx.Client(transport=httpx.MockTransport(_reply))
        self._aclient = httpx.AsyncClient(transport=httpx.MockTransport(_reply))
        HTTPXClientInstrumentor.instrument_client(self._client, tracer_provider=tracer_provider)
        HTTPXClientInstrumentor.instrument_client(self._aclient, tracer_provider=tracer_provider)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        text = self._client.post("https://model.test/v1/completions").json()["text"]
        return CompletionResponse(text=text)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        response = await self._aclient.post("https://model.test/v1/completions")
        return CompletionResponse(text=response.json()["text"])


def _http_span(telemetry: Telemetry) -> Any:
    found = [s for s in telemetry.spans() if s.name == "POST"]
    assert len(found) == 1, [s.name for s in telemetry.spans()]
    return found[0]


def test_http_client_span_of_a_model_call_nests_under_its_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    index.as_query_engine(llm=HttpLLM(telemetry.tracer_provider)).query(QUESTION)
    assert parent_name(telemetry, _http_span(telemetry)) == "text_completion gpt-4o-mini"
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_async_http_client_span_nests_under_its_span(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    await index.as_query_engine(llm=HttpLLM(telemetry.tracer_provider)).aquery(QUESTION)
    assert parent_name(telemetry, _http_span(telemetry)) == "text_completion gpt-4o-mini"
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_query_inside_an_application_span_joins_its_trace(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle request") as request:
        index.as_query_engine(llm=AnswerLLM()).query(QUESTION)
    root = only(telemetry, "invoke_workflow")
    assert root.parent is not None and root.parent.span_id == request.get_span_context().span_id


def test_no_span_is_current_after_a_failed_query(
    telemetry: Telemetry, index: VectorStoreIndex, instrument: Instrument
) -> None:
    instrument()
    with contextlib.suppress(RuntimeError):
        index.as_query_engine(llm=AnswerLLM(fail_with="down")).query(QUESTION)
    assert trace.get_current_span() is trace.INVALID_SPAN
