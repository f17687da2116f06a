"""Small deterministic LlamaIndex models for the tests: real LlamaIndex classes, no network."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.tools import BaseTool
from pydantic import Field, PrivateAttr

from tests.corpus import FRANCE_ANSWER, FRANCE_DOCS, FRANCE_QUESTION

dispatcher = get_dispatcher(__name__)

# The LlamaIndex tests' corpus (tests/corpus.py), under the names they use.
DOCS = list(FRANCE_DOCS)
QUESTION = FRANCE_QUESTION
ANSWER = FRANCE_ANSWER


class AnswerLLM(CustomLLM):
    """An LLM that always answers ``answer``, word by word when streamed.

    ``raw`` and ``extra`` become the response's ``raw`` and ``additional_kwargs`` (on the
    last chunk when streamed), where providers report usage. ``as_chat_model`` makes
    LlamaIndex call ``chat`` rather than ``complete``; ``fail_with`` makes it raise (a
    stream after its first chunk).
    """

    answer: str = ANSWER
    model: str = "gpt-4o-mini"
    as_chat_model: bool = False
    raw: Any = None
    extra: dict[str, Any] = Field(default_factory=dict)
    fail_with: str | None = None

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            model_name=self.model,
            is_chat_model=self.as_chat_model,
            num_output=256,
            context_window=8192,
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        if self.fail_with:
            raise RuntimeError(self.fail_with)
        return CompletionResponse(
            text=self.answer, raw=self.raw, additional_kwargs=dict(self.extra)
        )

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        # A failing stream raises after its first chunk, while it is being read, as a
        # provider's does (its request is sent when the stream is first read). Raising here,
        # before returning the stream, would fail query() itself on LlamaIndex < 0.14.25,
        # which calls stream_complete inside query(); 0.14.25 calls it on the first read.
        def gen() -> Generator[CompletionResponse, None, None]:
            text = ""
            for word in self.answer.split(" "):
                delta = word if not text else " " + word
                text += delta
                yield CompletionResponse(text=text, delta=delta)
                if self.fail_with:
                    raise RuntimeError(self.fail_with)
            yield CompletionResponse(
                text=text, delta="", raw=self.raw, additional_kwargs=dict(self.extra)
            )

        return gen()


class RendezvousLLM(AnswerLLM):
    """An ``AnswerLLM`` whose calls answer only once ``parties`` calls are in flight at once.

    Concurrent callers (threads, or tasks of one event loop) are all inside their model
    call together, so a test of concurrency cannot pass by running them one by one.
    """

    parties: int = 2
    _barrier: threading.Barrier = PrivateAttr()
    _arrived: int = PrivateAttr(default=0)
    _all_in: asyncio.Event = PrivateAttr(default_factory=asyncio.Event)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._barrier = threading.Barrier(self.parties)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self._barrier.wait(timeout=10)
        return CompletionResponse(text=self.answer)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        self._arrived += 1
        if self._arrived >= self.parties:
            self._all_in.set()
        await asyncio.wait_for(self._all_in.wait(), timeout=10)
        return CompletionResponse(text=self.answer)


class ReverseReranker(BaseNodePostprocessor):
    """A reranker that reverses the nodes and keeps ``top_n``, reporting like real rerankers."""

    top_n: int = 1

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        dispatcher.event(
            ReRankStartEvent(
                query=query_bundle, nodes=nodes, top_n=self.top_n, model_name="fake-rerank"
            )
        )
        ranked = [
            NodeWithScore(node=n.node, score=1.0 / (i + 1)) for i, n in enumerate(reversed(nodes))
        ]
        ranked = ranked[: self.top_n]
        dispatcher.event(ReRankEndEvent(nodes=ranked))
        return ranked


class ToolCallingLLM(FunctionCallingLLM):
    """A chat model that first calls tool ``tool`` with ``arguments``, then answers."""

    tool: str = "add"
    arguments: dict[str, Any] = Field(default_factory=lambda: {"a": 2, "b": 3})
    final: str = "The sum is 5."
    model: str = "fake-tools"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            is_chat_model=True, is_function_calling_model=True, model_name=self.model
        )

    def _reply(self, messages: Sequence[ChatMessage]) -> ChatMessage:
        if any(m.role == MessageRole.TOOL for m in messages):
            return ChatMessage(role="assistant", content=self.final)
        call = ToolSelection(tool_id="call_1", tool_name=self.tool, tool_kwargs=self.arguments)
        return ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]})

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return ChatResponse(message=self._reply(messages))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return ChatResponse(message=self._reply(messages))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        reply = self._reply(messages)

        def gen() -> Generator[ChatResponse, None, None]:
            yield ChatResponse(message=reply, delta=reply.content or "")

        return gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        reply = self._reply(messages)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            yield ChatResponse(message=reply, delta=reply.content or "")

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.final)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return CompletionResponse(text=self.final)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def gen() -> Generator[CompletionResponse, None, None]:
            yield CompletionResponse(text=self.final, delta=self.final)

        return gen()

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        async def gen() -> AsyncGenerator[CompletionResponse, None]:
            yield CompletionResponse(text=self.final, delta=self.final)

        return gen()

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(
                user_msg
                if isinstance(user_msg, ChatMessage)
                else ChatMessage(role="user", content=user_msg)
            )
        return {"messages": messages, "tools": [t.metadata.to_openai_tool() for t in tools]}

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        calls = response.message.additional_kwargs.get("tool_calls", [])
        if not calls and error_on_no_tool_call:
            raise ValueError("no tool call")
        return list(calls)
