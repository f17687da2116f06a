"""Real LangChain pipelines over fake models, shared by the LangChain tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from tests.corpus import WITH_DOCS, WITH_GOOD, WITH_QUESTION

# The LangChain tests' corpus (tests/corpus.py), under the names they use.
DOCS = list(WITH_DOCS)
QUESTION = WITH_QUESTION
ANSWER = WITH_GOOD


class FakeChat(GenericFakeChatModel):
    """A fake chat model with a model name, tool binding and optional usage reporting."""

    model_name: str = "gpt-4o-mini"
    temperature: float | None = 0.2
    max_tokens: int | None = 256

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, Any]:
        return self

    @property
    def _llm_type(self) -> str:
        return "fake-chat"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "openai"
        params["ls_model_name"] = self.model_name
        params["ls_temperature"] = self.temperature
        params["ls_max_tokens"] = self.max_tokens
        return params


def fake_chat(*replies: str | AIMessage) -> FakeChat:
    messages = [r if isinstance(r, AIMessage) else AIMessage(content=r) for r in replies]
    return FakeChat(messages=iter(messages))


def rag_chain(model: FakeChat, docs: Sequence[str] = DOCS, k: int = 2) -> Runnable[Any, Any]:
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=32))
    store.add_documents([Document(page_content=d, id=f"doc-{i}") for i, d in enumerate(docs)])
    retriever = store.as_retriever(search_kwargs={"k": k})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer only from this context:\n{context}"), ("human", "{question}")]
    )

    def join(found: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in found)

    return (
        {"context": retriever | join, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
