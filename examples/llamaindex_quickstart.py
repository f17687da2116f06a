"""semtrace + LlamaIndex in ten lines: a query engine over a tiny index, traced.

Run:  uv run python examples/llamaindex_quickstart.py
With no OTEL_EXPORTER_OTLP_ENDPOINT set it prints the trace tree to the terminal;
with one set it exports over OTLP instead. Runs offline: mock embeddings, a fake LLM.
"""

from pathlib import Path
from typing import Any

import semtrace
from _offline import use_bundled_tiktoken_files
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from semtrace_llamaindex import LlamaIndexInstrumentor

DOCS = [
    "The with statement wraps the execution of a block with methods defined by a context manager.",
    "A for loop iterates over the items of any sequence, such as a list or a string.",
    "A lambda expression creates a small anonymous function.",
]


class FakeLLM(CustomLLM):
    """A chat model called gpt-4o-mini that always gives the same answer (tiktoken counts)."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="gpt-4o-mini", is_chat_model=True)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=DOCS[0])

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        yield CompletionResponse(text=DOCS[0], delta=DOCS[0])


def main() -> None:
    use_bundled_tiktoken_files(Path(__file__).parent)
    semtrace.configure(service_name="llamaindex-quickstart")
    LlamaIndexInstrumentor().instrument()

    embed_model = MockEmbedding(embed_dim=64, model_name="text-embedding-3-small")
    index = VectorStoreIndex.from_documents(
        [Document(text=d) for d in DOCS], embed_model=embed_model
    )
    engine = index.as_query_engine(llm=FakeLLM(), similarity_top_k=2)
    print("answer:", engine.query("What does the with statement do?"))


if __name__ == "__main__":
    main()
