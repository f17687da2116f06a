"""semtrace + LangChain in ten lines: a RAG chain over fake models, traced.

Run:  uv run python examples/langchain_quickstart.py
With no OTEL_EXPORTER_OTLP_ENDPOINT set it prints the trace tree to the terminal;
with one set it exports over OTLP instead. Runs offline: fake embeddings, fake model.
"""

from pathlib import Path

import semtrace
from _offline import use_bundled_tiktoken_files
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from semtrace_langchain import CallbackHandler


class FakeChat(GenericFakeChatModel):
    """A fake chat model that calls itself gpt-4o-mini (no usage reported: tiktoken counts)."""

    def _get_ls_params(self, stop=None, **kwargs):  # type: ignore[no-untyped-def]
        return {
            **super()._get_ls_params(stop=stop, **kwargs),
            "ls_provider": "openai",
            "ls_model_name": "gpt-4o-mini",
        }


DOCS = [
    "The with statement wraps the execution of a block with methods defined by a context manager.",
    "A for loop iterates over the items of any sequence, such as a list or a string.",
    "A lambda expression creates a small anonymous function.",
]


def main() -> None:
    use_bundled_tiktoken_files(Path(__file__).parent)
    semtrace.configure(service_name="langchain-quickstart")

    store = InMemoryVectorStore.from_texts(DOCS, DeterministicFakeEmbedding(size=64))
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("human", "{question}")]
    )
    model = FakeChat(messages=iter([AIMessage(DOCS[0])]))
    chain = (
        {"context": store.as_retriever(search_kwargs={"k": 2}), "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
    answer = chain.invoke(
        "What does the with statement do?", config={"callbacks": [CallbackHandler()]}
    )
    print("answer:", answer)


if __name__ == "__main__":
    main()
