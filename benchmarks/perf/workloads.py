"""Deterministic, offline workloads: real framework pipelines over fake models.

Every workload exposes the same three calls, each taking the invocation index ``i``
(it picks the question) and the LangChain callbacks of the variant (ignored by
LlamaIndex, whose variants register on the dispatcher):

* ``invoke(i, callbacks)``   one synchronous invocation
* ``ainvoke(i, callbacks)``  one asynchronous invocation (the bench gathers 8)
* ``stream(i, callbacks)``   one streamed invocation, consumed to the end

Every invocation asks a new question (as in production: prompts never repeat whole,
retrieved documents do). The fake models never report token usage (so semtrace's tiktoken
fallback runs), answer from the retrieved context (so the quality signals have real work),
and can sleep to simulate model latency. Everything async is natively async: no framework
thread-pool hop hides inside a workload.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

_TOPICS_TEXT = """context managers, generators, decorators, list comprehensions, exceptions,
iterators, dataclasses, type hints, async functions, closures, modules, packages, slots,
descriptors, metaclasses, properties, lambdas, f-strings, the garbage collector,
the import system, virtual environments, unit tests, logging, pathlib, the GIL"""
_VOCABULARY = """python object method function value call return state scope name binding loop
resource file lock memory thread process result error handler class instance attribute module
package import cache buffer stream socket request response iterator sequence mapping key index
slice string byte integer float list tuple dictionary set frozen mutable immutable reference
count cycle collector runtime interpreter bytecode compile execute evaluate assign update delete
create close open read write flush wrap unwrap enter exit raise catch retry timeout schedule"""
TOPICS = tuple(t.strip() for t in _TOPICS_TEXT.replace("\n", " ").split(","))
_WORDS = tuple(_VOCABULARY.split())


def _sentence(rng: random.Random, topic: str) -> str:
    words = rng.sample(_WORDS, 9)
    return (
        f"In Python, {topic} {words[0]} the {words[1]} {words[2]} of each {words[3]} "
        f"so that the {words[4]} {words[5]} can {words[6]} its {words[7]} {words[8]}."
    )


def documents(n: int = 50, sentences: int = 4, seed: int = 7) -> list[str]:
    """``n`` short deterministic documents about Python topics."""
    rng = random.Random(seed)
    return [
        " ".join(_sentence(rng, TOPICS[i % len(TOPICS)]) for _ in range(sentences))
        for i in range(n)
    ]


def long_chunks(n: int = 16, tokens: int = 2000, seed: int = 11) -> list[str]:
    """``n`` chunks of roughly ``tokens`` o200k tokens each (about 5.4 characters a token)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        parts, size = [], 0
        while size < tokens * 5.4:
            parts.append(_sentence(rng, TOPICS[(i + len(parts)) % len(TOPICS)]))
            size += len(parts[-1]) + 1
        out.append(f"[chunk {i}] " + " ".join(parts))
    return out


def question(i: int) -> str:
    """The ``i``-th question: eight topics, but every request's text is new, as in production."""
    return f"What does Python do with {TOPICS[i % 8]}? (request {i})"


class Gate:
    """Holds every async model call until released: the bench measures runs in flight."""

    def __init__(self, n: int) -> None:
        self.n, self.entered = n, 0
        self.all_in, self.release = asyncio.Event(), asyncio.Event()

    async def wait(self) -> None:
        if self.release.is_set():
            return
        self.entered += 1
        if self.entered >= self.n:
            self.all_in.set()
        await self.release.wait()


GATE: Gate | None = None  # set by the bench around a memory measurement

# How late the app's thread ran again after each simulated model wait, in seconds: the
# time past the wait's end until the model's code resumed. Another thread holding the GIL
# (semtrace's worker among them) or a busy event loop shows here. The bench clears it.
WAKE_DELAYS: list[float] = []


def model_wait(latency_s: float) -> None:
    """Wait like a blocking model call, and note how late this thread resumed."""
    if latency_s:
        started = time.perf_counter()
        time.sleep(latency_s)
        WAKE_DELAYS.append(time.perf_counter() - started - latency_s)


async def model_wait_async(latency_s: float) -> None:
    """The same for an async model call: a busy event loop shows here too."""
    if latency_s:
        started = time.perf_counter()
        await asyncio.sleep(latency_s)
        WAKE_DELAYS.append(time.perf_counter() - started - latency_s)


async def _model_latency(latency_s: float) -> None:
    if GATE is not None:
        await GATE.wait()
    await model_wait_async(latency_s)


def grounded_answer(context: str) -> str:
    """The model's deterministic answer: the first sentence of its context."""
    for line in context.splitlines():
        line = line.strip()
        if line.startswith("In Python") or line.startswith("[chunk"):
            return line.split(". ")[0].removeprefix("[chunk ").split("] ", 1)[-1] + "."
    return "Python handles it with a context manager."


# ----------------------------------------------------------------------------- LangChain


def _langchain_model_class() -> type:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from langchain_core.utils.function_calling import convert_to_openai_tool

    class FakeChat(BaseChatModel):
        """A chat model that answers from its prompt, calls tools by script, never reports usage.

        ``role``: ``answer`` (first sentence of the system prompt), ``plan`` (one call of
        ``lookup``), ``agent`` (``get_weather``, then ``get_time``, then a final answer).
        """

        model_name: str = "gpt-4o-mini"
        role: str = "answer"
        latency_s: float = 0.0

        @property
        def _llm_type(self) -> str:
            return "fake-chat"

        def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
            params = super()._get_ls_params(stop=stop, **kwargs)
            params.update(
                ls_provider="openai",
                ls_model_name=self.model_name,
                ls_temperature=0.0,
                ls_max_tokens=256,
            )
            return params

        def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
            return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

        def _reply(self, messages: list[BaseMessage]) -> AIMessage:
            text = " ".join(str(m.content) for m in messages if isinstance(m.content, str))
            if self.role == "plan":
                call = {"name": "lookup", "args": {"topic": messages[-1].content}, "id": "call_1"}
                return AIMessage(content="", tool_calls=[call], id="resp-plan")
            if self.role == "agent":
                done = sum(isinstance(m, ToolMessage) for m in messages)
                if done < 2:
                    name = ("get_weather", "get_time")[done]
                    call = {"name": name, "args": {"city": "Paris"}, "id": f"call_{done}"}
                    return AIMessage(content="", tool_calls=[call], id=f"resp-{done}")
                return AIMessage(content="In Paris it is rainy and 12:00.", id="resp-final")
            return AIMessage(
                content=grounded_answer(text),
                id="resp-answer",
                response_metadata={"finish_reason": "stop"},
            )

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            model_wait(self.latency_s)
            return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

        async def _agenerate(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            await _model_latency(self.latency_s)
            return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

        def _chunks(self, messages: list[BaseMessage]) -> Iterator[ChatGenerationChunk]:
            reply = self._reply(messages)
            if reply.tool_calls:
                chunks = [
                    {
                        "name": c["name"],
                        "args": str(c["args"]).replace("'", '"'),
                        "id": c["id"],
                        "index": 0,
                    }
                    for c in reply.tool_calls
                ]
                yield ChatGenerationChunk(
                    message=AIMessageChunk(content="", tool_call_chunks=chunks)
                )
                return
            words = str(reply.content).split(" ")
            for n, word in enumerate(words):
                piece = word if n == 0 else " " + word
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            model_wait(self.latency_s)
            yield from self._chunks(messages)

        async def _astream(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> Any:
            await model_wait_async(self.latency_s)
            for chunk in self._chunks(messages):
                yield chunk

    return FakeChat


def _embeddings() -> Any:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    class Embed(DeterministicFakeEmbedding):
        async def aembed_query(self, text: str) -> list[float]:
            return self.embed_query(text)

    return Embed(size=64)


def _lambda(fn: Any, name: str) -> Any:
    from langchain_core.runnables import RunnableLambda

    async def afn(x: Any) -> Any:
        return fn(x)

    return RunnableLambda(fn, afunc=afn, name=name)


class LangChainRag:
    """LCEL RAG (k=4 over an in-memory store) plus one tool-calling step: 13 runs."""

    framework = "langchain"

    def __init__(self, latency_s: float = 0.0, chunks: Sequence[str] | None = None) -> None:
        from langchain_core.documents import Document
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.runnables import RunnablePassthrough
        from langchain_core.tools import StructuredTool
        from langchain_core.vectorstores import InMemoryVectorStore

        fake_chat = _langchain_model_class()
        texts = list(chunks) if chunks is not None else documents()
        store = InMemoryVectorStore(_embeddings())
        store.add_documents([Document(page_content=t, id=f"doc-{n}") for n, t in enumerate(texts)])
        retriever = store.as_retriever(search_kwargs={"k": 4})

        def lookup(topic: str) -> str:
            return f"{topic}: see the Python language reference, section 8."

        async def alookup(topic: str) -> str:
            return lookup(topic)

        tool = StructuredTool.from_function(
            lookup,
            coroutine=alookup,
            name="lookup",
            description="Look a topic up in the reference.",
        )
        planner = fake_chat(role="plan").bind_tools([tool])

        def run_tool(msg: Any) -> str:
            return str(tool.invoke(msg.tool_calls[0]).content)

        async def arun_tool(msg: Any) -> str:
            return str((await tool.ainvoke(msg.tool_calls[0])).content)

        from langchain_core.runnables import RunnableLambda

        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "Answer only from this context:\n{context}\n\nReference: {reference}"),
                ("human", "{question}"),
            ]
        )
        join = _lambda(lambda docs: "\n\n".join(d.page_content for d in docs), "join")
        self.chain = (
            {
                "context": retriever | join,
                "question": RunnablePassthrough(),
                "reference": planner | RunnableLambda(run_tool, afunc=arun_tool, name="run_tool"),
            }
            | prompt
            | fake_chat(role="answer", latency_s=latency_s)
            | StrOutputParser()
        )

    def _config(self, callbacks: list[Any]) -> dict[str, Any]:
        return {"callbacks": callbacks} if callbacks else {}

    def invoke(self, i: int, callbacks: list[Any]) -> Any:
        return self.chain.invoke(question(i), config=self._config(callbacks))

    async def ainvoke(self, i: int, callbacks: list[Any]) -> Any:
        return await self.chain.ainvoke(question(i), config=self._config(callbacks))

    def stream(self, i: int, callbacks: list[Any]) -> Any:
        out = ""
        for piece in self.chain.stream(question(i), config=self._config(callbacks)):
            out += piece
        return out


class LangChainLongPrompt(LangChainRag):
    """RAG whose four retrieved chunks make an ~8k-token prompt; every question is new.

    The composed prompt is new on every call while the chunks in it repeat: the case
    a per-prompt token-count cache cannot serve and a per-chunk one can.
    """

    def __init__(self, latency_s: float = 0.0) -> None:
        super().__init__(latency_s, chunks=long_chunks())


class LangGraphAgent:
    """``langchain.agents.create_agent`` with two tools and a scripted tool-calling model."""

    framework = "langchain"

    def __init__(self, latency_s: float = 0.0) -> None:
        from langchain.agents import create_agent
        from langchain_core.tools import StructuredTool

        def get_weather(city: str) -> str:
            return f"It is rainy in {city}."

        def get_time(city: str) -> str:
            return f"It is 12:00 in {city}."

        async def aget_weather(city: str) -> str:
            return get_weather(city)

        async def aget_time(city: str) -> str:
            return get_time(city)

        tools = [
            StructuredTool.from_function(
                get_weather, coroutine=aget_weather, description="Current weather in a city."
            ),
            StructuredTool.from_function(
                get_time, coroutine=aget_time, description="Local time in a city."
            ),
        ]
        model = _langchain_model_class()(role="agent", latency_s=latency_s)
        self.agent = create_agent(
            model,
            tools=tools,
            name="weather_agent",
            system_prompt="You answer questions about cities.",
        )

    @staticmethod
    def _input(i: int) -> dict[str, Any]:
        return {
            "messages": [{"role": "user", "content": f"Weather and time in Paris? (request {i})"}]
        }

    def invoke(self, i: int, callbacks: list[Any]) -> Any:
        config = {"callbacks": callbacks} if callbacks else {}
        return self.agent.invoke(self._input(i), config=config)

    async def ainvoke(self, i: int, callbacks: list[Any]) -> Any:
        config = {"callbacks": callbacks} if callbacks else {}
        return await self.agent.ainvoke(self._input(i), config=config)

    def stream(self, i: int, callbacks: list[Any]) -> Any:
        config = {"callbacks": callbacks} if callbacks else {}
        n = 0
        for _ in self.agent.stream(self._input(i), config=config, stream_mode="messages"):
            n += 1
        return n


# ----------------------------------------------------------------------------- LlamaIndex


def _llamaindex_llm(latency_s: float) -> Any:
    from llama_index.core.llms import (
        CompletionResponse,
        CompletionResponseGen,
        CustomLLM,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_completion_callback

    class FakeLLM(CustomLLM):
        """Answers with the first sentence of its context; streams word by word; no usage."""

        latency_s: float = 0.0

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name="gpt-4o-mini", context_window=128_000, num_output=256)

        @llm_completion_callback()
        def complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponse:
            model_wait(self.latency_s)
            return CompletionResponse(text=grounded_answer(prompt))

        @llm_completion_callback()
        async def acomplete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponse:
            await _model_latency(self.latency_s)
            return CompletionResponse(text=grounded_answer(prompt))

        @llm_completion_callback()
        def stream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponseGen:
            model_wait(self.latency_s)
            words = grounded_answer(prompt).split(" ")

            def gen() -> CompletionResponseGen:
                text = ""
                for n, word in enumerate(words):
                    delta = word if n == 0 else " " + word
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

            return gen()

    return FakeLLM(latency_s=latency_s)


class LlamaIndexQuery:
    """A LlamaIndex query engine (top-k 4) over 50 documents, MockEmbedding, fake LLM."""

    framework = "llamaindex"

    def __init__(self, latency_s: float = 0.0) -> None:
        from llama_index.core import Document, Settings, VectorStoreIndex
        from llama_index.core.embeddings import MockEmbedding

        embed = MockEmbedding(embed_dim=64)
        llm = _llamaindex_llm(latency_s)
        Settings.llm, Settings.embed_model = llm, embed  # never the OpenAI defaults
        docs = [Document(text=t, id_=f"doc-{n}") for n, t in enumerate(documents())]
        index = VectorStoreIndex.from_documents(docs, embed_model=embed)
        self.engine = index.as_query_engine(llm=llm, similarity_top_k=4)
        self.streaming = index.as_query_engine(llm=llm, similarity_top_k=4, streaming=True)

    def invoke(self, i: int, callbacks: list[Any]) -> Any:
        return str(self.engine.query(question(i)))

    async def ainvoke(self, i: int, callbacks: list[Any]) -> Any:
        return str(await self.engine.aquery(question(i)))

    def stream(self, i: int, callbacks: list[Any]) -> Any:
        response = self.streaming.query(question(i))
        return "".join(response.response_gen)


WORKLOADS = {
    "lc_rag": LangChainRag,
    "lc_agent": LangGraphAgent,
    "llamaindex": LlamaIndexQuery,
}
