"""An HTTP client instrumentation's span of a model call nests under its chat span."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from langchain_core.documents import Document
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.retrievers import BaseRetriever
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/chat"
    server.shutdown()


class HttpChat(BaseChatModel):
    """A chat model that makes a real HTTP request, as provider SDKs do."""

    url: str
    model_name: str = "http-model"

    @property
    def _llm_type(self) -> str:
        return "http-chat"

    def _generate(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        with httpx.Client() as client:
            client.get(self.url)
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])

    async def _agenerate(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        async with httpx.AsyncClient() as client:
            await client.get(self.url)
            await asyncio.sleep(0.001)
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok"))])


@pytest.fixture
def httpx_instrumented(telemetry: Telemetry) -> Iterator[None]:
    HTTPXClientInstrumentor().instrument(tracer_provider=telemetry.tracer_provider)
    yield
    HTTPXClientInstrumentor().uninstrument()


def http_parents(telemetry: Telemetry) -> list[str]:
    http = [s for s in telemetry.spans() if s.name.startswith("GET")]
    assert http, "no HTTP span was recorded"
    return [telemetry.parent_of(s).name for s in http]


def test_sync_http_span_nests_under_chat(
    telemetry: Telemetry,
    handler: CallbackHandler,
    server_url: str,
    httpx_instrumented: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    HttpChat(url=server_url).invoke("hi", config={"callbacks": [handler]})
    assert http_parents(telemetry) == ["chat http-model"]
    assert "Failed to detach context" not in caplog.text


async def test_gathered_async_http_spans_nest_under_their_own_chat(
    telemetry: Telemetry,
    handler: CallbackHandler,
    server_url: str,
    httpx_instrumented: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    model = HttpChat(url=server_url)
    await asyncio.gather(
        *(model.ainvoke(f"q{i}", config={"callbacks": [handler]}) for i in range(8))
    )
    http = [s for s in telemetry.spans() if s.name.startswith("GET")]
    assert len(http) == 8
    for span in http:
        parent = telemetry.parent_of(span)
        assert parent is not None and parent.name == "chat http-model"
        assert parent.context.trace_id == span.context.trace_id
    assert len({telemetry.parent_of(s).context.span_id for s in http}) == 8
    assert "Failed to detach context" not in caplog.text


def test_batch_http_spans_nest_under_their_own_chat(
    telemetry: Telemetry, handler: CallbackHandler, server_url: str, httpx_instrumented: None
) -> None:
    HttpChat(url=server_url).batch(["a", "b", "c"], config={"callbacks": [handler]})
    http = [s for s in telemetry.spans() if s.name.startswith("GET")]
    assert len({telemetry.parent_of(s).context.span_id for s in http}) == 3


class HttpRetriever(BaseRetriever):
    """A retriever that calls a search service over HTTP, as remote vector stores do."""

    url: str

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        with httpx.Client() as client:
            client.get(self.url)
        return [Document(page_content="found", id="d1")]

    async def _aget_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        async with httpx.AsyncClient() as client:
            await client.get(self.url)
        return [Document(page_content="found", id="d1")]


def test_retriever_http_span_nests_under_retrieval(
    telemetry: Telemetry,
    handler: CallbackHandler,
    server_url: str,
    httpx_instrumented: None,
    no_current_span: None,
) -> None:
    HttpRetriever(url=server_url).invoke("q", config={"callbacks": [handler]})
    assert http_parents(telemetry) == ["retrieval HttpRetriever"]


async def test_gathered_async_retriever_http_spans_nest_under_their_retrieval(
    telemetry: Telemetry, handler: CallbackHandler, server_url: str, httpx_instrumented: None
) -> None:
    retriever = HttpRetriever(url=server_url)
    await asyncio.gather(
        *(retriever.ainvoke(f"q{i}", config={"callbacks": [handler]}) for i in range(6))
    )
    http = [s for s in telemetry.spans() if s.name.startswith("GET")]
    assert len(http) == 6
    assert {telemetry.parent_of(s).name for s in http} == {"retrieval HttpRetriever"}
    assert len({telemetry.parent_of(s).context.span_id for s in http}) == 6
