"""A LangChain RAG app whose retriever is a remote service: one trace across two processes.

Run the service first, then the app:

    uv run python examples/cross_service/retrieval_service.py --port 8008 &
    uv run python examples/cross_service/app.py --service-url http://127.0.0.1:8008

Both export to the same backend when both have ``OTEL_EXPORTER_OTLP_ENDPOINT`` set (e.g. Phoenix:
also set ``OTEL_RESOURCE_ATTRIBUTES=openinference.project.name=cross-service`` on both, so the
trace is in one project). In the backend, the service's ``POST /retrieve`` SERVER span and its
LlamaIndex ``retrieval`` span are descendants of this app's chain span, in the same trace:

    invoke_workflow RunnableSequence              (app, semtrace_langchain)
    ├── retrieval RetrievalServiceRetriever       (app, semtrace_langchain)
    │   └── POST                                  (app, opentelemetry-instrumentation-httpx)
    │       └── POST /retrieve                    (service, W3C traceparent extracted)
    │           └── retrieval SimpleVectorStore   (service, semtrace_llamaindex)
    │               └── embeddings                (service, the query's embedding)
    └── chat gpt-4o-mini                          (app, semtrace_langchain)

The httpx instrumentation makes the client span and injects the W3C ``traceparent`` header
(OpenTelemetry's default propagator) into the request. Runs offline: fake model, the service
uses MockEmbedding.

In Phoenix the ``POST`` subtree, and the service's spans in it, hang under
``retrieval RetrievalServiceRetriever`` in the app's trace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/: the offline helper

import httpx
import semtrace
from _offline import use_bundled_tiktoken_files
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from semtrace_langchain import CallbackHandler


class RetrievalServiceRetriever(BaseRetriever):
    """Documents from the retrieval service's ``POST /retrieve``."""

    url: str
    top_k: int = 2

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        response = httpx.post(
            f"{self.url.rstrip('/')}/retrieve", json={"query": query, "top_k": self.top_k}
        )
        response.raise_for_status()
        return [
            Document(page_content=node["text"], id=node["id"], metadata={"score": node["score"]})
            for node in response.json()["nodes"]
        ]


class FakeChat(GenericFakeChatModel):
    """A fake chat model that calls itself gpt-4o-mini (no usage reported: tiktoken counts)."""

    def _get_ls_params(self, stop: Any = None, **kwargs: Any) -> Any:
        return {
            **super()._get_ls_params(stop=stop, **kwargs),
            "ls_provider": "openai",
            "ls_model_name": "gpt-4o-mini",
        }


def format_docs(documents: list[Document]) -> str:
    return "\n".join(document.page_content for document in documents)


def main(service_url: str = "http://127.0.0.1:8008") -> str:
    use_bundled_tiktoken_files(Path(__file__).resolve().parents[1])
    semtrace.configure(service_name="rag-app")
    HTTPXClientInstrumentor().instrument()  # client spans + W3C traceparent on every request

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context:\n{context}"), ("human", "{question}")]
    )
    model = FakeChat(messages=iter([AIMessage("It wraps a block with a context manager.")]))
    chain = (
        {
            "context": RetrievalServiceRetriever(url=service_url) | format_docs,
            "question": RunnablePassthrough(),
        }
        | prompt
        | model
        | StrOutputParser()
    )
    answer: str = chain.invoke(
        "What does the with statement do?", config={"callbacks": [CallbackHandler()]}
    )
    print("answer:", answer)
    return answer


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-url", default="http://127.0.0.1:8008")
    main(parser.parse_args().service_url)
