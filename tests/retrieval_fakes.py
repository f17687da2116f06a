"""Retrieval fakes the cross-framework tests share: the same retrieval in LangChain and LlamaIndex.

The fake models of one framework live beside its tests (``tests/langchain/pipelines.py``:
``FakeChat``; ``tests/llamaindex/fakes.py``: ``AnswerLLM``, ``ToolCallingLLM``); what is
here exists once for both frameworks, so the two pipelines of a comparison cannot drift.
"""

from __future__ import annotations

import hashlib
import math
import re

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from llama_index.core.base.base_retriever import BaseRetriever as LlamaRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode


def bag_of_words(text: str, size: int = 64) -> list[float]:
    """A deterministic bag-of-words embedding, the same in both frameworks."""
    vector = [0.0] * size
    for word in re.findall(r"[a-z]+", text.lower()):
        vector[int(hashlib.sha1(word.encode()).hexdigest(), 16) % size] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class LangChainWords(Embeddings):
    """LangChain embeddings by :func:`bag_of_words`."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [bag_of_words(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return bag_of_words(text)


class LlamaIndexWords(BaseEmbedding):
    """A LlamaIndex embedding model by :func:`bag_of_words`."""

    def _get_query_embedding(self, query: str) -> list[float]:
        return bag_of_words(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return bag_of_words(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return bag_of_words(query)


class FixedRetriever(BaseRetriever):
    """A LangChain retriever that finds ``texts``, whatever the query."""

    texts: list[str]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [Document(page_content=t, id=f"c{i}") for i, t in enumerate(self.texts)]


class FixedNodes(LlamaRetriever):
    """A LlamaIndex retriever that finds ``texts`` (score 0.5 each), whatever the query."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self._texts = texts

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(text=t, id_=f"c{i}"), score=0.5)
            for i, t in enumerate(self._texts)
        ]
