"""Real pipelines of both frameworks, over fake models, for the hardening suites.

Each :class:`Scenario` runs one application call and returns what the application
sees (its result, or the exception it got, as a comparable value), so a suite can
check that instrumentation, whatever happens inside it, never changes that.

LangChain pipelines reuse ``tests.langchain.pipelines``; LlamaIndex ones reuse the
fakes of ``tests.llamaindex.fakes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from semtrace import CaptureMode, Settings
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER as LC_ANSWER
from tests.langchain.pipelines import DOCS as LC_DOCS
from tests.langchain.pipelines import QUESTION as LC_QUESTION
from tests.langchain.pipelines import FakeChat, fake_chat
from tests.llamaindex.fakes import DOCS as LI_DOCS
from tests.llamaindex.fakes import QUESTION as LI_QUESTION
from tests.llamaindex.fakes import AnswerLLM, ReverseReranker, ToolCallingLLM

# --- what the application sees ---


@dataclass(frozen=True)
class Raised:
    """The application got an exception: its type and message."""

    type: str
    message: str


def outcome(call: Callable[[], Any]) -> Any:
    """The call's result, or :class:`Raised` for the exception it raised."""
    try:
        return call()
    except Exception as error:
        return Raised(type(error).__name__, str(error))


# --- LangChain pipelines ---


@tool
def lookup(topic: str) -> str:
    """Look a topic up in the glossary."""
    return f"glossary: {topic[:30]}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def broken_tool(x: str) -> str:
    """Always fails."""
    raise RuntimeError("tool broke")


class FailingChat(FakeChat):
    """A chat model whose provider is down."""

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model down")

    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model down")


def tool_calls(*calls: tuple[str, dict[str, Any], str]) -> AIMessage:
    """An AI message asking for tool calls ``(name, args, id)``."""
    return AIMessage(content="", tool_calls=[{"name": n, "args": a, "id": i} for n, a, i in calls])


@functools.cache
def _retriever(docs: tuple[str, ...] = tuple(LC_DOCS)) -> Any:
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=32))
    store.add_documents([LCDocument(page_content=d, id=f"doc-{i}") for i, d in enumerate(docs)])
    return store.as_retriever(search_kwargs={"k": 2})


def rag_tool_chain(model: Any, docs: Sequence[str] = LC_DOCS) -> Runnable[Any, Any]:
    """Retriever, tool and chat model in one chain: every LangChain callback family."""
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer only from this context:\n{context}\n{glossary}"),
            ("human", "{question}"),
        ]
    )

    def join(found: list[LCDocument]) -> str:
        return "\n\n".join(d.page_content for d in found)

    return (
        {
            "context": _retriever(tuple(docs)) | join,
            "question": RunnablePassthrough(),
            "glossary": RunnableLambda(lambda q: {"topic": str(q)}) | lookup,
        }
        | prompt
        | model
        | StrOutputParser()
    )


class BrokenRetriever(BaseRetriever):
    """A retriever whose index is offline."""

    def _get_relevant_documents(self, query: str, *, run_manager: Any = None) -> list[LCDocument]:
        raise RuntimeError("index offline")


def completion_chain(answer: str = LC_ANSWER) -> Runnable[Any, Any]:
    """A prompt and a text-completion model (``on_llm_start``)."""
    return PromptTemplate.from_template("Question: {q}\nAnswer:") | FakeListLLM(responses=[answer])


def lc_config(handler: BaseCallbackHandler) -> dict[str, Any]:
    return {"callbacks": [handler]}


def _lc_rag(h: Any) -> Any:
    return rag_tool_chain(fake_chat(LC_ANSWER)).invoke(LC_QUESTION, config=lc_config(h))


async def _lc_arag(h: Any) -> Any:
    return await rag_tool_chain(fake_chat(LC_ANSWER)).ainvoke(LC_QUESTION, config=lc_config(h))


def _lc_stream(h: Any) -> Any:
    return "".join(rag_tool_chain(fake_chat(LC_ANSWER)).stream(LC_QUESTION, config=lc_config(h)))


async def _lc_astream(h: Any) -> Any:
    chain = rag_tool_chain(fake_chat(LC_ANSWER))
    return "".join([c async for c in chain.astream(LC_QUESTION, config=lc_config(h))])


def _lc_abandoned_stream(h: Any) -> Any:
    stream = rag_tool_chain(fake_chat(LC_ANSWER)).stream(LC_QUESTION, config=lc_config(h))
    chunks = [next(stream), next(stream)]
    stream.close()
    return chunks


async def _lc_abandoned_astream(h: Any) -> Any:
    stream = rag_tool_chain(fake_chat(LC_ANSWER)).astream(LC_QUESTION, config=lc_config(h))
    chunks = [await stream.__anext__(), await stream.__anext__()]
    await stream.aclose()
    await asyncio.sleep(0.01)  # LangChain delivers the GeneratorExit callbacks a tick later
    return chunks


def _lc_completion(h: Any) -> Any:
    return completion_chain().invoke({"q": LC_QUESTION}, config=lc_config(h))


def _lc_error(h: Any) -> Any:
    return rag_tool_chain(FailingChat(messages=iter([]))).invoke(LC_QUESTION, config=lc_config(h))


async def _lc_aerror(h: Any) -> Any:
    chain = rag_tool_chain(FailingChat(messages=iter([])))
    return await chain.ainvoke(LC_QUESTION, config=lc_config(h))


def _lc_retriever_error(h: Any) -> Any:
    chain = {"context": BrokenRetriever(), "question": RunnablePassthrough()} | RunnableLambda(str)
    return chain.invoke(LC_QUESTION, config=lc_config(h))


def _lc_agent(h: Any) -> Any:
    from langchain.agents import create_agent

    model = fake_chat(tool_calls(("add", {"a": 1, "b": 2}, "call_1")), "It is 3.")
    agent = create_agent(model, tools=[add], name="calculator")
    result = agent.invoke({"messages": [("user", "1+2?")]}, config=lc_config(h))
    return result["messages"][-1].content


async def _lc_react_agent(h: Any) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        agent = create_react_agent(
            fake_chat(tool_calls(("add", {"a": 2, "b": 2}, "c1")), "4"), tools=[add]
        )
    result = await agent.ainvoke({"messages": [("user", "2+2?")]}, config=lc_config(h))
    return result["messages"][-1].content


def _lc_agent_tool_error(h: Any) -> Any:
    from langchain.agents import create_agent

    model = fake_chat(tool_calls(("broken_tool", {"x": "a"}, "c1")), "sorry")
    agent = create_agent(model, tools=[broken_tool])
    return agent.invoke({"messages": [("user", "go")]}, config=lc_config(h))


# --- LlamaIndex pipelines ---


@functools.lru_cache(maxsize=1)
def li_index() -> Any:
    """An in-memory vector index over the LlamaIndex test documents (built once, uninstrumented)."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import TextNode

    embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")
    # Fixed node ids: the mock embeds every text alike, so ties are broken by id, and
    # random ids would retrieve different documents (and signals) from run to run.
    nodes = [TextNode(text=t, id_=f"node-{n}") for n, t in enumerate(LI_DOCS)]
    return VectorStoreIndex(nodes, embed_model=embed)


def _nodes(nodes: Sequence[Any]) -> list[tuple[str, float | None]]:
    return [(n.node.get_content(), n.score) for n in nodes]


def _answer(response: Any) -> tuple[str, list[tuple[str, float | None]]]:
    return str(response), _nodes(response.source_nodes)


def _embed_model() -> Any:
    from llama_index.core.embeddings import MockEmbedding

    return MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")


def _li_query(_: Any) -> Any:
    return _answer(
        li_index().as_query_engine(llm=AnswerLLM(), similarity_top_k=2).query(LI_QUESTION)
    )


async def _li_aquery(_: Any) -> Any:
    engine = li_index().as_query_engine(llm=AnswerLLM(as_chat_model=True), similarity_top_k=2)
    return _answer(await engine.aquery(LI_QUESTION))


def _li_rerank(_: Any) -> Any:
    engine = li_index().as_query_engine(
        llm=AnswerLLM(), similarity_top_k=3, node_postprocessors=[ReverseReranker(top_n=1)]
    )
    return _answer(engine.query(LI_QUESTION))


def _li_stream(_: Any) -> Any:
    response = li_index().as_query_engine(llm=AnswerLLM(), streaming=True).query(LI_QUESTION)
    return "".join(response.response_gen)


async def _li_astream(_: Any) -> Any:
    engine = li_index().as_query_engine(llm=AnswerLLM(), streaming=True)
    response = await engine.aquery(LI_QUESTION)
    return "".join([t async for t in response.async_response_gen()])


def _li_abandoned_stream(_: Any) -> Any:
    response = li_index().as_query_engine(llm=AnswerLLM(), streaming=True).query(LI_QUESTION)
    stream = response.response_gen
    chunks = [next(stream), next(stream)]
    del response, stream  # dropped: its spans end as cancelled (refcounting, no gc needed)
    return chunks


def _li_error(_: Any) -> Any:
    return li_index().as_query_engine(llm=AnswerLLM(fail_with="model down")).query(LI_QUESTION)


async def _li_aerror(_: Any) -> Any:
    engine = li_index().as_query_engine(llm=AnswerLLM(fail_with="model down"))
    return await engine.aquery(LI_QUESTION)


def _li_chat(_: Any) -> Any:
    engine = li_index().as_chat_engine(chat_mode="context", llm=AnswerLLM(as_chat_model=True))
    return str(engine.chat(LI_QUESTION))


async def _li_achat(_: Any) -> Any:
    engine = li_index().as_chat_engine(chat_mode="context", llm=AnswerLLM(as_chat_model=True))
    return str(await engine.achat(LI_QUESTION))


def _li_stream_chat(_: Any) -> Any:
    engine = li_index().as_chat_engine(chat_mode="simple", llm=AnswerLLM(as_chat_model=True))
    response = engine.stream_chat(LI_QUESTION)
    text = "".join(response.response_gen)
    thread = response.write_response_to_history_thread
    if thread is not None:
        thread.join(5)
    return text


def _li_retrieve(_: Any) -> Any:
    return _nodes(li_index().as_retriever(similarity_top_k=2).retrieve(LI_QUESTION))


async def _li_aretrieve(_: Any) -> Any:
    return _nodes(await li_index().as_retriever(similarity_top_k=2).aretrieve(LI_QUESTION))


def _li_embed(_: Any) -> Any:
    return _embed_model().get_text_embedding_batch(["hello world", "good morning"])


async def _li_aembed(_: Any) -> Any:
    return await _embed_model().aget_query_embedding("hello world")


def _add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _explode(a: int, b: int) -> int:
    """Always fails."""
    raise ValueError("tool exploded")


async def _li_agent(_: Any) -> Any:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    agent = FunctionAgent(
        name="calculator",
        description="Adds numbers.",
        tools=[FunctionTool.from_defaults(_add, name="add")],
        llm=ToolCallingLLM(),
    )
    return str(await agent.run("What is 2 + 3?"))


async def _li_agent_tool_error(_: Any) -> Any:
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    agent = FunctionAgent(
        name="calculator",
        tools=[FunctionTool.from_defaults(_explode, name="add")],
        llm=ToolCallingLLM(),
        streaming=False,
    )
    return str(await agent.run("What is 2 + 3?"))


async def _li_workflow_cancelled(_: Any) -> Any:
    from workflows import Workflow, step
    from workflows.events import StartEvent, StopEvent

    class Waits(Workflow):
        @step
        async def wait(self, ev: StartEvent) -> StopEvent:
            await asyncio.sleep(30)
            return StopEvent(result="late")

    handler = Waits().run()
    await asyncio.sleep(0.02)
    await handler.cancel_run()
    return await handler


def _li_tool(_: Any) -> Any:
    from llama_index.core.tools import FunctionTool

    return FunctionTool.from_defaults(_add, name="add").call(a=2, b=3).content


async def _li_llm_astream(_: Any) -> Any:
    from llama_index.core.base.llms.types import ChatMessage

    llm = AnswerLLM(as_chat_model=True)
    stream = await llm.astream_chat([ChatMessage(role="user", content=LI_QUESTION)])
    return [r.delta async for r in stream]


# --- the catalogue ---


@dataclass(frozen=True)
class Scenario:
    """One application call: ``run(handle)``, sync or async, of one framework."""

    id: str
    framework: str  # "langchain" | "llamaindex"
    run: Callable[[Any], Any]
    streams: bool = False

    def __call__(self, handle: Any) -> Any:
        """What the application sees (result or :class:`Raised`)."""
        if asyncio.iscoroutinefunction(self.run):
            return outcome(lambda: asyncio.run(self.run(handle)))
        return outcome(lambda: self.run(handle))


LANGCHAIN: tuple[Scenario, ...] = (
    Scenario("lc-rag-tool", "langchain", _lc_rag),
    Scenario("lc-rag-tool-async", "langchain", _lc_arag),
    Scenario("lc-stream", "langchain", _lc_stream, streams=True),
    Scenario("lc-astream", "langchain", _lc_astream, streams=True),
    Scenario("lc-abandoned-stream", "langchain", _lc_abandoned_stream, streams=True),
    Scenario("lc-abandoned-astream", "langchain", _lc_abandoned_astream, streams=True),
    Scenario("lc-completion", "langchain", _lc_completion),
    Scenario("lc-model-error", "langchain", _lc_error),
    Scenario("lc-model-error-async", "langchain", _lc_aerror),
    Scenario("lc-retriever-error", "langchain", _lc_retriever_error),
    Scenario("lc-agent", "langchain", _lc_agent),
    Scenario("lc-react-agent-async", "langchain", _lc_react_agent),
    Scenario("lc-agent-tool-error", "langchain", _lc_agent_tool_error),
)
LLAMAINDEX: tuple[Scenario, ...] = (
    Scenario("li-query", "llamaindex", _li_query),
    Scenario("li-query-async", "llamaindex", _li_aquery),
    Scenario("li-query-rerank", "llamaindex", _li_rerank),
    Scenario("li-query-stream", "llamaindex", _li_stream, streams=True),
    Scenario("li-query-astream", "llamaindex", _li_astream, streams=True),
    Scenario("li-abandoned-stream", "llamaindex", _li_abandoned_stream, streams=True),
    Scenario("li-model-error", "llamaindex", _li_error),
    Scenario("li-model-error-async", "llamaindex", _li_aerror),
    Scenario("li-chat", "llamaindex", _li_chat),
    Scenario("li-chat-async", "llamaindex", _li_achat),
    Scenario("li-stream-chat", "llamaindex", _li_stream_chat, streams=True),
    Scenario("li-retrieve", "llamaindex", _li_retrieve),
    Scenario("li-retrieve-async", "llamaindex", _li_aretrieve),
    Scenario("li-embed", "llamaindex", _li_embed),
    Scenario("li-embed-async", "llamaindex", _li_aembed),
    Scenario("li-agent-tool-call", "llamaindex", _li_agent),
    Scenario("li-agent-tool-error", "llamaindex", _li_agent_tool_error),
    Scenario("li-workflow-cancelled", "llamaindex", _li_workflow_cancelled),
    Scenario("li-tool", "llamaindex", _li_tool),
    Scenario("li-llm-astream", "llamaindex", _li_llm_astream, streams=True),
)
SCENARIOS: tuple[Scenario, ...] = LANGCHAIN + LLAMAINDEX


# --- instrumentation ---

#: Everything on: content on spans and events, tiktoken counts, quality signals.
EVERYTHING = Settings(capture=CaptureMode.SPAN_AND_EVENT, count_tokens=True, quality_signals=True)


@contextlib.contextmanager
def instrumented(
    framework: str, telemetry: Telemetry, settings: Settings = EVERYTHING
) -> Iterator[Any]:
    """Instrument ``framework`` into ``telemetry``; yield the handle scenarios take.

    On exit everything still open is ended, as an application's shutdown would:
    the LangChain handler's recorder is closed, LlamaIndex is uninstrumented.
    """
    if framework == "langchain":
        handler = CallbackHandler(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            settings=settings,
        )
        try:
            yield handler
        finally:
            handler.recorder.close()
    else:
        from semtrace_llamaindex import LlamaIndexInstrumentor

        li_index()  # built before instrumenting: its spans are not part of any scenario
        instrumentor = LlamaIndexInstrumentor()
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            settings=settings,
        )
        try:
            yield instrumentor
        finally:
            instrumentor.uninstrument()


@functools.cache
def baseline(scenario_id: str) -> Any:
    """What the application sees with no instrumentation at all."""
    scenario = next(s for s in SCENARIOS if s.id == scenario_id)
    if scenario.framework == "langchain":
        return scenario(BaseCallbackHandler())  # a handler that does nothing
    li_index()
    return scenario(None)
