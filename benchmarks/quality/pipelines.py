"""The quality signals as they come out of real pipelines, per framework.

Every labelled case (benchmarks/data/quality_cases.jsonl) runs through a real LangChain
RAG chain and a real LlamaIndex query engine, each instrumented by semtrace with the
defaults; the signals are read back from the exported spans, so this measures what a
user's backend would see (the prompt really carries the context, the groundedness check
really finds it there). Also measured: the signals' cost per trace, as a share of
semtrace's whole overhead on the same pipelines, in instructions under callgrind.

Run:  uv run python benchmarks/quality/pipelines.py [--limit N] [--no-cost]
      uv run python benchmarks/quality/pipelines.py --set grounding --no-cost  (the harder
      groundedness set of build_grounding_cases.py)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "perf")]
from auroc import COMPARISONS, auroc, load  # noqa: E402
from semtrace.testing import Telemetry, tiktoken_cache_from  # noqa: E402

os.environ.setdefault(
    "TIKTOKEN_CACHE_DIR",
    str(
        tiktoken_cache_from(
            HERE.parents[1] / "tests" / "data" / "tiktoken", Path(tempfile.mkdtemp())
        )
    ),
)

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_core.runnables import RunnablePassthrough  # noqa: E402
from llama_index.core.base.base_retriever import BaseRetriever as LIRetriever  # noqa: E402
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata  # noqa: E402
from llama_index.core.llms import CustomLLM  # noqa: E402
from llama_index.core.llms.callbacks import llm_completion_callback  # noqa: E402
from llama_index.core.query_engine import RetrieverQueryEngine  # noqa: E402
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode  # noqa: E402
from semtrace import Settings  # noqa: E402
from semtrace_langchain import CallbackHandler  # noqa: E402
from semtrace_llamaindex import LlamaIndexInstrumentor  # noqa: E402

Case = dict[str, Any]
GROUNDING_DATA = HERE.parent / "data" / "grounding_cases.jsonl"
SIGNALS = ("retrieval_relevance", "groundedness", "answer_relevance", "non_answer")


# --- LangChain ---


class FixedRetriever(BaseRetriever):
    """Returns the case's contexts, as a vector store would have."""

    texts: list[str]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [Document(page_content=t, id=f"c{i}") for i, t in enumerate(self.texts)]


def langchain_run(case: Case, callbacks: list[Any]) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer only from this context:\n{context}"), ("human", "{question}")]
    )
    model = GenericFakeChatModel(messages=iter([AIMessage(case["answer"])]))
    chain = (
        {
            "context": FixedRetriever(texts=case["contexts"])
            | (lambda docs: "\n\n".join(d.page_content for d in docs)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | model
        | StrOutputParser()
    )
    chain.invoke(case["question"], config={"callbacks": callbacks})


# --- LlamaIndex ---


class FixedNodes(LIRetriever):
    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__()
        self._texts = list(texts)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(text=t, id_=f"c{i}"), score=1.0)
            for i, t in enumerate(self._texts)
        ]


class FixedLLM(CustomLLM):
    answer: str = ""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="gpt-4o-mini")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.answer)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        yield CompletionResponse(text=self.answer, delta=self.answer)


def llamaindex_run(case: Case) -> None:
    engine = RetrieverQueryEngine.from_args(
        FixedNodes(case["contexts"]), llm=FixedLLM(answer=case["answer"])
    )
    engine.query(case["question"])


# --- reading the signals back ---


def signals_of(telemetry: Telemetry) -> dict[str, float]:
    found: dict[str, float] = {}
    for span in telemetry.spans():
        for key, value in (span.attributes or {}).items():
            if key.startswith("semtrace.quality.") and not key.endswith(".label"):
                found[key.removeprefix("semtrace.quality.")] = float(value)  # type: ignore[arg-type]
    return found


def collect(cases: list[Case], framework: str) -> list[dict[str, float]]:
    out = []
    if framework == "llamaindex":
        instrumentor = LlamaIndexInstrumentor()
    for case in cases:
        telemetry = Telemetry()
        if framework == "langchain":
            langchain_run(case, [CallbackHandler(tracer_provider=telemetry.tracer_provider)])
        else:
            instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
            llamaindex_run(case)
            instrumentor.uninstrument()
        out.append(signals_of(telemetry))
    return out


GROUNDING_COMPARISONS = (
    ("groundedness", "invented"),
    ("groundedness", "negated"),
    ("groundedness", "added_claim"),
    ("groundedness", "any unsupported"),
)


def table(
    cases: list[Case],
    results: dict[str, list[dict[str, float]]],
    comparisons: Sequence[tuple[str, str]] = COMPARISONS,
) -> list[str]:
    lines = ["| signal | good vs | " + " | ".join(f"AUROC {f}" for f in results) + " |",
             "|---|---|" + "---:|" * len(results)]  # fmt: skip
    for signal, negative in comparisons:
        row = [signal, negative]
        for found in results.values():
            pos = [
                f[signal]
                for c, f in zip(cases, found, strict=True)
                if c["variant"] == "good" and signal in f
            ]
            # A broken case with no value (e.g. no groundedness: the prompt carried no
            # context) counts as 0: nothing supports it.
            neg = [
                f.get(signal, 0.0)
                for c, f in zip(cases, found, strict=True)
                if c["variant"] == negative
                or (negative == "any unsupported" and c["variant"] != "good")
            ]
            row.append(f"{auroc(pos, neg):.3f} (n={len(pos)}+{len(neg)})" if pos and neg else "n/a")
        lines.append("| " + " | ".join(row) + " |")
    for framework, found in results.items():
        if comparisons is not COMPARISONS:
            break
        flagged = [f.get("non_answer", 0.0) >= 0.5 for f in found]
        refusals = [c["variant"] == "refusal" for c in cases]
        tp = sum(a and b for a, b in zip(flagged, refusals, strict=True))
        precision = tp / max(sum(flagged), 1)
        recall = tp / max(sum(refusals), 1)
        lines.append(f"\nnon_answer ({framework}): precision {precision:.3f}, recall {recall:.3f}")
    return lines


COST_VARIANTS = ("none", "signals off", "default")


def cost_sample(cases: list[Case], per_variant: int = 10) -> list[Case]:
    """Good and broken cases alike: events are recorded only for failing signals."""
    sample: list[Case] = []
    for variant in dict.fromkeys(c["variant"] for c in cases):
        sample += [c for c in cases if c["variant"] == variant][:per_variant]
    return sample


def cost_child(framework: str, variant: str, per_variant: int) -> None:
    """Runs under callgrind: one uncounted pass over the sample, then one counted pass."""
    from instructions import counting

    sample = cost_sample(load(), per_variant)
    telemetry = Telemetry()
    providers = {
        "tracer_provider": telemetry.tracer_provider,
        "meter_provider": telemetry.meter_provider,
    }
    settings = Settings.resolve(quality_signals=variant == "default")
    callbacks: list[Any] = []
    if variant != "none" and framework == "langchain":
        callbacks = [CallbackHandler(**providers, settings=settings)]
    elif variant != "none":
        LlamaIndexInstrumentor().instrument(**providers, settings=settings)

    def one_pass() -> None:
        for case in sample:
            if framework == "langchain":
                langchain_run(case, callbacks)
            else:
                llamaindex_run(case)
        telemetry.clear()

    one_pass()
    with counting():
        one_pass()


def cost(cases: list[Case], per_variant: int = 10) -> list[str]:
    """Instructions per trace (callgrind): none, signals off, defaults; the signals' share.

    Instruction counts, unlike times, do not move with the machine's load.
    """
    from instructions import callgrind

    sample = cost_sample(cases, per_variant)
    cells = [(f, v) for f in ("langchain", "llamaindex") for v in COST_VARIANTS]

    def per_trace(cell: tuple[str, str]) -> float | None:
        argv = [sys.executable, __file__, "--cost-child", *cell, str(per_variant)]
        count = callgrind(argv)
        return None if count is None else count / len(sample)

    with ThreadPoolExecutor(2) as pool:
        counted = dict(zip(cells, pool.map(per_trace, cells), strict=True))
    lines = [
        f"Instructions per trace under callgrind, {len(sample)} cases ({per_variant} of each"
        " variant, good and broken):",
        "",
        "| pipeline | none | semtrace, signals off | semtrace default |"
        " signals' share of semtrace's overhead |",
        "|---|---:|---:|---:|---:|",
    ]
    for framework in ("langchain", "llamaindex"):
        none, off, on = (counted[(framework, v)] for v in COST_VARIANTS)
        if none is None or off is None or on is None:
            lines.append(f"| {framework} | valgrind failed | | | |")
            continue
        share = (on - off) / (on - none)
        lines.append(
            f"| {framework} | {none / 1e6:.2f} M | +{(off - none) / 1e6:.2f} M "
            f"| +{(on - none) / 1e6:.2f} M | {share:.0%} |"
        )
    return lines


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--cost-child":
        cost_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases (smoke)")
    parser.add_argument(
        "--no-cost", action="store_true", help="skip the cost (needs valgrind, ~3 minutes)"
    )
    parser.add_argument(
        "--set", choices=("rag", "grounding"), default="rag", help="which labelled set"
    )
    args = parser.parse_args()
    grounding = args.set == "grounding"
    cases = load(GROUNDING_DATA) if grounding else load()
    if args.limit:
        cases = cases[: args.limit]
    results = {"langchain": collect(cases, "langchain"), "llamaindex": collect(cases, "llamaindex")}
    print(f"{len(cases)} cases through real pipelines\n")
    print("\n".join(table(cases, results, GROUNDING_COMPARISONS if grounding else COMPARISONS)))
    if not args.no_cost:
        print()
        print("\n".join(cost(cases, per_variant=2 if args.limit else 10)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
