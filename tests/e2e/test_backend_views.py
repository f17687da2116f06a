"""Phoenix shows every semtrace span type with its kind, tokens and cost.

* Without a view, Phoenix derives its span kind from the GenAI conventions for chat (LLM),
  embeddings, retrieval, tools and agents, and leaves the ``invoke_workflow`` root, reranks,
  framework steps and a background evaluator's ``evaluate`` span UNKNOWN: those are what
  ``semtrace.views.phoenix`` names (CHAIN, RERANKER, CHAIN, EVALUATOR).
* A LangChain and a LlamaIndex RAG whose retrieval is a tool an agent calls reach Phoenix
  through the Phoenix view: each span's kind (CHAIN, AGENT, LLM, TOOL, RETRIEVER), the
  token counts Phoenix derives, and the cost Phoenix computes for the model calls, read
  from its REST and GraphQL APIs.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from backends import Phoenix
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from semtrace.export.views import ViewExporter
from semtrace.export.views.phoenix import phoenix_view

from tests.core.views_pipeline import run_pipeline

#: USD per million tokens: what the tests give semtrace for the fake models' names.
PRICES = {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}


def _project(what: str) -> str:
    return f"views-{what}-{uuid.uuid4().hex[:8]}"


def _resource(project: str) -> Resource:
    return Resource.create({"openinference.project.name": project, "service.name": project})


def _exporter(phoenix: Phoenix, view: bool) -> SpanExporter:
    exporter = OTLPSpanExporter(endpoint=phoenix.otlp_http_traces_endpoint, timeout=10)
    return ViewExporter(exporter, phoenix_view, "phoenix") if view else exporter


def _kinds(spans: Sequence[dict[str, Any]]) -> dict[str, str]:
    return {s["name"]: s["span_kind"] for s in spans}


def _graphql(phoenix: Phoenix, query: str, **variables: Any) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        f"{phoenix.http_endpoint}/graphql",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        reply = json.loads(response.read())
    assert not reply.get("errors"), reply
    return dict(reply["data"])


COST_QUERY = """
query ($id: ID!) {
  node(id: $id) {
    ... on Span { spanKind costSummary { total { cost tokens } } }
  }
}
"""


def _phoenix_cost(phoenix: Phoenix, span: dict[str, Any]) -> dict[str, Any] | None:
    node = _graphql(phoenix, COST_QUERY, id=span["id"])["node"]
    summary = node["costSummary"]
    return summary["total"] if summary else None


# ------------------------------------------------------------ each span type, with and without


@pytest.fixture(scope="module")
def span_types(phoenix: Phoenix) -> dict[str, dict[str, str]]:
    """How Phoenix classifies the core pipeline's span types, without and with the view."""
    out = {}
    for view in (False, True):
        project = _project("types-view" if view else "types-plain")
        run_pipeline(_exporter(phoenix, view), _resource(project))
        out["view" if view else "plain"] = _kinds(phoenix.wait_for_spans(project, 9, timeout=60))
    return out


def test_phoenix_derives_the_kind_of_conventional_spans(
    span_types: dict[str, dict[str, str]],
) -> None:
    assert span_types["plain"] == {
        "invoke_workflow rag": "UNKNOWN",
        "invoke_agent researcher": "AGENT",
        "embeddings text-embedding-3-small": "EMBEDDING",
        "retrieval docs": "RETRIEVER",
        "execute_tool search": "TOOL",
        "chat gpt-4o-mini": "LLM",
        "evaluate judge": "UNKNOWN",
        "rerank rerank-v1": "UNKNOWN",
        "parser": "UNKNOWN",
    }


def test_the_phoenix_view_names_the_kinds_phoenix_leaves_unknown(
    span_types: dict[str, dict[str, str]],
) -> None:
    assert span_types["view"] == {
        **span_types["plain"],
        "invoke_workflow rag": "CHAIN",
        "evaluate judge": "EVALUATOR",
        "rerank rerank-v1": "RERANKER",
        "parser": "CHAIN",
    }


# ------------------------------------------------------------- framework RAGs with a tool


def _provider(phoenix: Phoenix, project: str) -> TracerProvider:
    provider = TracerProvider(resource=_resource(project))
    provider.add_span_processor(BatchSpanProcessor(_exporter(phoenix, view=True)))
    return provider


def _check_tokens_and_cost(phoenix: Phoenix, spans: Sequence[dict[str, Any]]) -> None:
    """Phoenix's token counts and cost for every LLM span agree with semtrace's."""
    llm = [s for s in spans if s["span_kind"] == "LLM"]
    assert llm, _kinds(spans)
    for span in llm:
        a = span["attributes"]
        assert a["llm.token_count.prompt"] == a["gen_ai.usage.input_tokens"] > 0, a
        assert a["llm.token_count.completion"] == a["gen_ai.usage.output_tokens"], a
        ours = a["semtrace.usage.cost.amount"]
        assert ours > 0 and a["semtrace.usage.cost.currency"] == "USD", a
        theirs = _phoenix_cost(phoenix, span)
        assert theirs is not None, f"Phoenix shows no cost for {span['name']}"
        assert theirs["tokens"] == a["gen_ai.usage.input_tokens"] + a["gen_ai.usage.output_tokens"]
        assert theirs["cost"] == pytest.approx(ours, rel=1e-6), (span["name"], theirs, ours)


@pytest.fixture(scope="module")
def langchain_spans(phoenix: Phoenix) -> Iterator[list[dict[str, Any]]]:
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage
    from langchain_core.runnables import RunnableLambda
    from langchain_core.tools import tool
    from semtrace_langchain import CallbackHandler

    from tests.langchain.pipelines import QUESTION, fake_chat, rag_chain

    project = _project("langchain")
    provider = _provider(phoenix, project)
    handler = CallbackHandler(tracer_provider=provider, prices=PRICES)
    rag = rag_chain(fake_chat("The with statement wraps a block in a context manager."))

    @tool
    def search_docs(question: str) -> str:
        """Answer a Python question from the documentation."""
        return str(rag.invoke(question))

    call = AIMessage(
        content="",
        tool_calls=[{"name": "search_docs", "args": {"question": QUESTION}, "id": "call_1"}],
    )
    agent = create_agent(
        fake_chat(call, "It runs a block inside a context manager."),
        tools=[search_docs],
        name="docs_agent",
    )
    pipeline = RunnableLambda(lambda q: {"messages": [("user", q)]}) | agent
    pipeline.invoke(QUESTION, config={"callbacks": [handler]})
    provider.force_flush()
    yield phoenix.wait_for_spans(project, 7, timeout=60)
    provider.shutdown()


def test_langchain_rag_with_a_tool_shows_each_kind_in_phoenix(
    langchain_spans: list[dict[str, Any]],
) -> None:
    kinds = _kinds(langchain_spans)
    assert {"CHAIN", "AGENT", "LLM", "TOOL", "RETRIEVER"} <= set(kinds.values()), kinds
    assert "UNKNOWN" not in kinds.values(), kinds
    assert kinds["execute_tool search_docs"] == "TOOL"
    assert kinds["invoke_agent docs_agent"] == "AGENT"


def test_langchain_rag_tokens_and_cost_in_phoenix(
    phoenix: Phoenix, langchain_spans: list[dict[str, Any]]
) -> None:
    _check_tokens_and_cost(phoenix, langchain_spans)


@pytest.fixture(scope="module")
def llamaindex_spans(phoenix: Phoenix) -> Iterator[list[dict[str, Any]]]:
    import asyncio

    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.tools import QueryEngineTool
    from llama_index.core.workflow import StartEvent, StopEvent, Workflow, step
    from semtrace_llamaindex import LlamaIndexInstrumentor

    from tests.llamaindex.fakes import ANSWER, DOCS, QUESTION, AnswerLLM, ToolCallingLLM

    embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)
    project = _project("llamaindex")
    provider = _provider(phoenix, project)
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=provider, prices=PRICES)
    try:
        engine = index.as_query_engine(llm=AnswerLLM(model="gpt-4o-mini"), similarity_top_k=2)
        docs_tool = QueryEngineTool.from_defaults(
            engine, name="search_docs", description="Answer questions about French cities."
        )
        agent = FunctionAgent(
            name="docs_agent",
            description="Answers from the documents.",
            tools=[docs_tool],
            llm=ToolCallingLLM(
                model="gpt-4o-mini",
                tool="search_docs",
                arguments={"input": QUESTION},
                final=ANSWER,
            ),
        )

        class DocsQA(Workflow):
            """The application's workflow: it hands the question to the agent."""

            @step
            async def ask(self, ev: StartEvent) -> StopEvent:
                return StopEvent(result=str(await agent.run(ev.question)))

        async def run() -> object:
            return await DocsQA().run(question=QUESTION)  # a handler needs a running loop

        assert asyncio.run(run()) == ANSWER
    finally:
        instrumentor.uninstrument()
    provider.force_flush()
    yield phoenix.wait_for_spans(project, 7, timeout=60)
    provider.shutdown()


def test_llamaindex_rag_with_a_tool_shows_each_kind_in_phoenix(
    llamaindex_spans: list[dict[str, Any]],
) -> None:
    kinds = _kinds(llamaindex_spans)
    assert {"CHAIN", "AGENT", "LLM", "TOOL", "RETRIEVER"} <= set(kinds.values()), kinds
    assert "UNKNOWN" not in kinds.values(), kinds
    assert kinds["execute_tool search_docs"] == "TOOL"
    assert kinds["invoke_agent docs_agent"] == "AGENT"


def test_llamaindex_rag_tokens_and_cost_in_phoenix(
    phoenix: Phoenix, llamaindex_spans: list[dict[str, Any]]
) -> None:
    _check_tokens_and_cost(phoenix, llamaindex_spans)
