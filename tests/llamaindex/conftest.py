"""Fixtures: a real VectorStoreIndex over a few documents, and the instrumentor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from semtrace.testing import Telemetry
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.llamaindex.fakes import DOCS

Instrument = Callable[..., LlamaIndexInstrumentor]


@pytest.fixture
def index() -> VectorStoreIndex:
    """An in-memory vector index over :data:`DOCS` (built before instrumenting)."""
    embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")
    return VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)


@pytest.fixture
def instrument(telemetry: Telemetry) -> Iterator[Instrument]:
    """``instrument(**kwargs)`` instruments LlamaIndex into ``telemetry``; undone after the test."""
    instrumentor = LlamaIndexInstrumentor()

    def go(**kwargs: Any) -> LlamaIndexInstrumentor:
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            **kwargs,
        )
        return instrumentor

    yield go
    instrumentor.uninstrument()
