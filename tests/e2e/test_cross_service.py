"""One trace across two processes: examples/cross_service/{app,retrieval_service}.py into Phoenix.

The app (LangChain + semtrace_langchain + opentelemetry-instrumentation-httpx) calls the service
(stdlib http.server + semtrace_llamaindex, W3C trace context extracted by hand) over HTTP on
127.0.0.1. Both export over OTLP/HTTP to the same Phoenix project; the service is stopped with
SIGTERM, so its queued spans leave through the exit hook.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from backends import ManagedProcess, Phoenix, wait_until
from helpers import EXAMPLES, child_env, run_python, span_id, trace_id, tree_paths

APP = EXAMPLES / "cross_service" / "app.py"
SERVICE = EXAMPLES / "cross_service" / "retrieval_service.py"

#: app: chain, its retriever and chat, the httpx client span. service: the index build's
#: embeddings (its own trace), the SERVER span, the LlamaIndex retrieval and its query embedding.
APP_SPANS = 4
SERVICE_SPANS = 4


def _by_name(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, (name, [s["name"] for s in spans])
    return found[0]


def _ancestors(span: dict[str, Any], spans: list[dict[str, Any]]) -> list[str]:
    by_id = {span_id(s): s for s in spans}
    names = []
    parent = span.get("parent_id")
    while parent in by_id:
        names.append(by_id[parent]["name"])
        parent = by_id[parent].get("parent_id")
    return names


@pytest.fixture(scope="module")
def cross_service_spans(
    phoenix: Phoenix, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("cross-service")
    project = f"cross-service-{uuid.uuid4().hex[:8]}"
    common = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": phoenix.http_endpoint,
        "OTEL_METRICS_EXPORTER": "none",  # Phoenix takes traces only
        "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={project}",
    }
    service = ManagedProcess(
        "retrieval-service",
        [sys.executable, str(SERVICE), "--port", "0"],
        tmp / "service.log",
        env=child_env(**common),
    )
    try:
        url = wait_until(
            lambda: (
                (m := re.search(r"listening on (http://127\.0\.0\.1:\d+)", service.log_tail()))
                and m.group(1)
            ),
            120,
            what="the retrieval service to listen",
            proc=service,
        )
        app = run_python([str(APP), "--service-url", url], child_env(**common))
        assert "answer: It wraps a block with a context manager." in app.stdout
    finally:
        service.stop()  # SIGTERM: the service returns from main(), the exit hook exports
    assert service.popen.returncode == 0, service.log_tail()
    yield phoenix.wait_for_spans(project, APP_SPANS + SERVICE_SPANS, timeout=60)


def test_w3c_trace_context_crosses_the_http_call(cross_service_spans: list[dict[str, Any]]) -> None:
    spans = cross_service_spans
    assert len(spans) == APP_SPANS + SERVICE_SPANS, [s["name"] for s in spans]
    client = _by_name(spans, "POST")  # opentelemetry-instrumentation-httpx, in the app
    server = _by_name(spans, "POST /retrieve")  # the service's SERVER span
    retrieval = _by_name(spans, "retrieval SimpleVectorStore")  # semtrace_llamaindex
    status = client["attributes"]
    # httpx instrumentation: old HTTP semconv unless OTEL_SEMCONV_STABILITY_OPT_IN=http
    assert status.get("http.response.status_code", status.get("http.status_code")) == 200
    assert server["parent_id"] == span_id(client)
    assert trace_id(server) == trace_id(client)
    assert server["attributes"]["http.route"] == "/retrieve"
    assert server["attributes"]["http.response.status_code"] == 200
    assert retrieval["parent_id"] == span_id(server)
    assert trace_id(retrieval) == trace_id(client)
    a = retrieval["attributes"]
    assert a["gen_ai.operation.name"] == "retrieval"
    assert a["semtrace.framework"] == "llamaindex"
    assert a["semtrace.retrieval.document_count"] == 2
    assert "POST /retrieve > retrieval SimpleVectorStore > embeddings" in " | ".join(
        tree_paths(spans)
    )


def test_service_retrieval_is_a_descendant_of_the_app_chain_in_one_trace(
    cross_service_spans: list[dict[str, Any]],
) -> None:
    spans = cross_service_spans
    chain = _by_name(spans, "invoke_workflow RunnableSequence")
    retrieval = _by_name(spans, "retrieval SimpleVectorStore")
    assert trace_id(retrieval) == trace_id(chain)
    assert _ancestors(retrieval, spans) == [
        "POST /retrieve",
        "POST",
        "retrieval RetrievalServiceRetriever",
        "invoke_workflow RunnableSequence",
    ]
    # The whole request is one tree under the chain (the index build is its own trace).
    in_trace = [s for s in spans if trace_id(s) == trace_id(chain)]
    assert len(in_trace) == APP_SPANS + SERVICE_SPANS - 1


def test_app_spans_are_the_quickstart_shape(cross_service_spans: list[dict[str, Any]]) -> None:
    spans = cross_service_spans
    paths = tree_paths(spans)
    for path in (
        "invoke_workflow RunnableSequence > retrieval RetrievalServiceRetriever",
        "invoke_workflow RunnableSequence > chat gpt-4o-mini",
    ):
        assert path in paths, paths
    chat = _by_name(spans, "chat gpt-4o-mini")["attributes"]
    assert chat["gen_ai.usage.input_tokens"] == chat["llm.token_count.prompt"]
    # The documents the service returned are on the app's retrieval span.
    app_retrieval = _by_name(spans, "retrieval RetrievalServiceRetriever")["attributes"]
    assert app_retrieval["semtrace.retrieval.document_count"] == 2
