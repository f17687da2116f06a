"""The same RAG pipeline traced from LangChain and from LlamaIndex yields the same span shape.

Both pipelines: the same six documents in an in-memory vector store, embedded with the
same deterministic bag-of-words embedding; the same question; top-k = 2; a chat model
named ``gpt-4o-mini`` that gives the same answer. The traces are compared on what a
user of semtrace relies on: the ``gen_ai.operation.name`` sequence, span kinds, the
attribute keys of each operation, where token counts come from, and which content
attributes appear. Where the frameworks genuinely differ, :data:`ONLY_IN_LLAMAINDEX`
and :data:`KEYS_ONLY_IN_LLAMAINDEX` name the difference; anything else fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from langchain_core.documents import Document as LCDocument
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import Document, VectorStoreIndex
from opentelemetry.sdk.trace import ReadableSpan
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.corpus import FRANCE_ANSWER, FRANCE_DOCS, FRANCE_QUESTION
from tests.llamaindex.fakes import AnswerLLM
from tests.llamaindex.helpers import CONTENT_KEYS
from tests.retrieval_fakes import LangChainWords, LlamaIndexWords

DOCS, QUESTION, ANSWER = FRANCE_DOCS, FRANCE_QUESTION, FRANCE_ANSWER
MODEL = "gpt-4o-mini"
TOP_K = 2
SYSTEM = "Answer only from this context:\n{context}"
USAGE = {"input_tokens": 42, "output_tokens": 7}

# LlamaIndex reports the query's embedding call through its instrumentation events;
# LangChain has no embedding callbacks, so its trace has no span for it.
ONLY_IN_LLAMAINDEX = frozenset({"embeddings"})
MODEL_AND_RETRIEVAL_CONTENT = frozenset(
    {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.retrieval.documents"}
)
KEYS_ONLY_IN_LLAMAINDEX = {
    "retrieval": frozenset(
        {
            # LlamaIndex's retriever knows its top-k; LangChain's retriever callbacks
            # do not carry the search kwargs.
            "gen_ai.request.top_k",
            # LlamaIndex retrievers return NodeWithScore; LangChain's VectorStoreRetriever
            # returns documents without their similarity scores.
            "semtrace.retrieval.document_scores",
        }
    )
}


class NamedFakeChat(GenericFakeChatModel):
    """LangChain's fake chat model with a model name (read as ``ls_model_name``).

    Neither fake claims a real provider, so neither call is priced.
    """

    model_name: str = MODEL


@dataclass(frozen=True)
class Case:
    capture: bool
    provider_usage: bool


def run_langchain(telemetry: Telemetry, case: Case) -> list[ReadableSpan]:
    store = InMemoryVectorStore(LangChainWords())
    store.add_documents([LCDocument(page_content=d, id=f"doc-{i}") for i, d in enumerate(DOCS)])
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", "{question}")])
    reply = AIMessage(content=ANSWER)
    if case.provider_usage:
        reply = AIMessage(content=ANSWER, usage_metadata={**USAGE, "total_tokens": 49})
    model = NamedFakeChat(messages=iter([reply]))

    def join(found: list[LCDocument]) -> str:
        return "\n\n".join(d.page_content for d in found)

    retriever = store.as_retriever(search_kwargs={"k": TOP_K})
    chain = (
        {"context": retriever | join, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=case.capture,
    )
    assert chain.invoke(QUESTION, config={"callbacks": [handler]}) == ANSWER
    return sorted(telemetry.spans(), key=lambda s: s.start_time or 0)


def run_llamaindex(telemetry: Telemetry, case: Case) -> list[ReadableSpan]:
    index = VectorStoreIndex.from_documents(
        [Document(text=d) for d in DOCS], embed_model=LlamaIndexWords(model_name="words")
    )
    raw = {"usage": dict(USAGE)} if case.provider_usage else None
    llm = AnswerLLM(answer=ANSWER, model=MODEL, as_chat_model=True, raw=raw)
    engine = index.as_query_engine(llm=llm, similarity_top_k=TOP_K)
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=case.capture,
    )
    try:
        assert str(engine.query(QUESTION)) == ANSWER
    finally:
        instrumentor.uninstrument()
    return sorted(telemetry.spans(), key=lambda s: s.start_time or 0)


def operation(span: ReadableSpan) -> str:
    return str((span.attributes or {})["gen_ai.operation.name"])


def by_operation(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    found = {operation(s): s for s in spans}
    assert len(found) == len(spans), [s.name for s in spans]
    return found


CASES = [
    pytest.param(Case(capture=False, provider_usage=False), id="no-content-tiktoken"),
    pytest.param(Case(capture=True, provider_usage=False), id="content-tiktoken"),
    pytest.param(Case(capture=False, provider_usage=True), id="no-content-provider-usage"),
]


#: A case and each framework's spans by operation.
Traces = tuple[Case, dict[str, ReadableSpan], dict[str, ReadableSpan]]


@pytest.fixture(params=CASES)
def traces(request: pytest.FixtureRequest) -> Iterator[Traces]:
    case: Case = request.param
    lc_telemetry, li_telemetry = Telemetry(), Telemetry()
    lc = by_operation(run_langchain(lc_telemetry, case))
    li = by_operation(run_llamaindex(li_telemetry, case))
    yield case, lc, li
    for t in (lc_telemetry, li_telemetry):
        t.shutdown()
        t.assert_spans_well_formed()


def test_operation_sequence_is_workflow_retrieval_chat_in_both(traces: Traces) -> None:
    _, lc, li = traces
    assert list(lc) == ["invoke_workflow", "retrieval", "chat"]
    assert [op for op in li if op not in ONLY_IN_LLAMAINDEX] == list(lc)


def test_span_kinds_match(traces: Traces) -> None:
    _, lc, li = traces
    assert {op: s.kind for op, s in lc.items()} == {op: li[op].kind for op in lc}


def test_chat_span_names_match(traces: Traces) -> None:
    _, lc, li = traces
    assert lc["chat"].name == li["chat"].name == f"chat {MODEL}"


def test_attribute_keys_match_per_operation(traces: Traces) -> None:
    _, lc, li = traces
    for op, lc_span in lc.items():
        lc_keys = set(lc_span.attributes or {})
        li_keys = set(li[op].attributes or {}) - KEYS_ONLY_IN_LLAMAINDEX.get(op, frozenset())
        assert li_keys == lc_keys, (
            f"{op}: only LangChain {lc_keys - li_keys}, only LlamaIndex {li_keys - lc_keys}"
        )


def test_token_counts_come_from_the_same_source(traces: Traces) -> None:
    case, lc, li = traces
    expected = "provider" if case.provider_usage else "tiktoken"
    assert lc["chat"].attributes["semtrace.usage.source"] == expected  # type: ignore[index]
    assert li["chat"].attributes["semtrace.usage.source"] == expected  # type: ignore[index]


def test_content_keys_follow_the_capture_setting_in_both(traces: Traces) -> None:
    case, lc, li = traces
    for spans in (lc, li):
        found = {k for s in spans.values() for k in (s.attributes or {}) if k in CONTENT_KEYS}
        if case.capture:
            assert found >= MODEL_AND_RETRIEVAL_CONTENT
        else:
            assert not found
