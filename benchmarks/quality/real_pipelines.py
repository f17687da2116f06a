"""The quality signals on human-labelled data, as real pipelines export them.

Every case of ``realdata.load()`` (BEGIN dialogue turns, AggreFact CNN/DM summaries,
HaluEval QA answers) runs through a real pipeline of its kind in LangChain and in
LlamaIndex, instrumented by semtrace with its defaults (content capture off, as users run
it), over a fake model that returns the case's answer. The signals are read back from the
exported spans: the final model span's ``semtrace.quality.*`` attributes (the retrieval
span's too) and the root's ``semtrace.diagnosis``. ``real_report.py`` turns them into the
figures: groundedness AUROC with a bootstrap interval beside trivial baselines, the
verdict's precision, recall and false alarms, and the diagnoses, per set, framework and
split (``dev`` is for tuning, ``heldout`` only ever reported).

The pipelines, per kind:

- qa: a retriever returning the source as one document, a prompt with the context and
  the question, the model (LangChain); a ``RetrieverQueryEngine`` (LlamaIndex).
- summary: no retriever asked a question. A prompt "Summarize the following article." with
  the article pasted in (LangChain); ``SummaryIndex(...).as_query_engine(
  response_mode="tree_summarize")`` (LlamaIndex), which retrieves every node with the
  instruction as its query and makes one synthesis call (the model's window holds the
  article).
- dialogue: a system message carrying the knowledge and the previous turn as the user's
  message (LangChain prompt; LlamaIndex ``llm.chat``).

Run:  uv run python benchmarks/quality/real_pipelines.py   (all ~5,700 cases, both
      frameworks: writes results/real.md and results/real.json)
      uv run python benchmarks/quality/real_pipelines.py --smoke   (CI: a few cases per
      kind, both frameworks; exits 0 with a message when the data is not there)
      options: --limit N (N cases per dataset), --set, --framework, --split, --jobs,
      --out DIR (instead of results/)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import real_report  # noqa: E402
import realdata  # noqa: E402
from semtrace.testing import Telemetry, tiktoken_cache_from  # noqa: E402

# Files the run needs on disk, set up once by the parent (spawned workers inherit the
# environment variables that point at them) and removed when it exits.
_scratch: tempfile.TemporaryDirectory[str] | None = None


def scratch(name: str) -> Path:
    """A folder ``name`` in this process's scratch directory."""
    global _scratch
    if _scratch is None:
        _scratch = tempfile.TemporaryDirectory(prefix="real-pipelines-")
    return Path(_scratch.name) / name


# semtrace counts tokens with tiktoken when the fake models report none: its rank files
# come from the repository, never the network.
if "TIKTOKEN_CACHE_DIR" not in os.environ:
    os.environ["TIKTOKEN_CACHE_DIR"] = str(
        tiktoken_cache_from(HERE.parents[1] / "tests" / "data" / "tiktoken", scratch("tiktoken"))
    )

import llama_index.core  # noqa: E402


def nltk_data_copy() -> Path:
    """LlamaIndex's bundled NLTK data (English), copied.

    LlamaIndex's sentence splitter reads NLTK's stopwords and punkt tables for any text
    longer than a chunk (most articles); nltk 3.10 refuses to open a file with more than
    one hard link, and uv installs packages as hard links into its cache.
    """
    bundled = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    copy = scratch("nltk")
    for part in ("corpora/stopwords", "tokenizers/punkt_tab/english"):
        shutil.copytree(bundled / part, copy / part)
    return copy


if "NLTK_DATA" not in os.environ:
    os.environ["NLTK_DATA"] = str(nltk_data_copy())

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_core.runnables import RunnablePassthrough  # noqa: E402
from llama_index.core import Document as LIDocument  # noqa: E402
from llama_index.core import SummaryIndex  # noqa: E402
from llama_index.core.base.base_retriever import BaseRetriever as LIRetriever  # noqa: E402
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata  # noqa: E402
from llama_index.core.llms import ChatMessage, CustomLLM  # noqa: E402
from llama_index.core.llms.callbacks import llm_completion_callback  # noqa: E402
from llama_index.core.query_engine import RetrieverQueryEngine  # noqa: E402
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from semtrace import semconv  # noqa: E402
from semtrace.quality.diagnosis import RETRIEVAL_MISS  # noqa: E402
from semtrace_langchain import CallbackHandler  # noqa: E402
from semtrace_llamaindex import LlamaIndexInstrumentor  # noqa: E402

Case = realdata.Case
FRAMEWORKS = ("langchain", "llamaindex")
MODEL_OPERATIONS = frozenset({semconv.OP_CHAT, semconv.OP_TEXT_COMPLETION})
SUMMARY_INSTRUCTION = "Summarize the article."
CHUNK = 150  # cases per worker task: small enough to balance two workers
SMOKE_PER_KIND = 4


# --- LangChain ---


class SourceRetriever(BaseRetriever):
    """Returns the case's source as one document, as a vector store would have."""

    source: str

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [Document(page_content=self.source, id="source")]


def _fake_chat(case: Case) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(case.answer)]))


def langchain_qa(case: Case, callbacks: list[Any]) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer only from this context:\n{context}"), ("human", "{question}")]
    )
    context = SourceRetriever(source=case.source) | (
        lambda docs: "\n\n".join(d.page_content for d in docs)
    )
    chain = (
        {"context": context, "question": RunnablePassthrough()}
        | prompt
        | _fake_chat(case)
        | StrOutputParser()
    )
    chain.invoke(case.question, config={"callbacks": callbacks})


def langchain_summary(case: Case, callbacks: list[Any]) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("human", "Summarize the following article.\n\n{article}")]
    )
    chain = prompt | _fake_chat(case) | StrOutputParser()
    chain.invoke({"article": case.source}, config={"callbacks": callbacks})


def langchain_dialogue(case: Case, callbacks: list[Any]) -> None:
    # "input" is the key LangChain's chat examples use for the user's turn.
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this knowledge to reply: {knowledge}"), ("human", "{input}")]
    )
    chain = prompt | _fake_chat(case) | StrOutputParser()
    chain.invoke(
        {"knowledge": case.source, "input": case.question}, config={"callbacks": callbacks}
    )


# --- LlamaIndex ---


class SourceNodes(LIRetriever):
    """Returns the case's source as one node."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [NodeWithScore(node=TextNode(text=self._source, id_="source"), score=1.0)]


class CaseLLM(CustomLLM):
    """Answers every call with the case's answer.

    Its window is gpt-4o-mini's, so ``tree_summarize`` packs a whole article into one
    synthesis call: that call's answer is the case's answer and its prompt the article.
    """

    answer: str = ""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="gpt-4o-mini", context_window=128_000)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.answer)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        yield CompletionResponse(text=self.answer, delta=self.answer)


def llamaindex_qa(case: Case, callbacks: list[Any]) -> None:
    engine = RetrieverQueryEngine.from_args(
        SourceNodes(case.source), llm=CaseLLM(answer=case.answer)
    )
    engine.query(case.question)


def llamaindex_summary(case: Case, callbacks: list[Any]) -> None:
    index = SummaryIndex.from_documents([LIDocument(text=case.source)])
    engine = index.as_query_engine(response_mode="tree_summarize", llm=CaseLLM(answer=case.answer))
    engine.query(SUMMARY_INSTRUCTION)


def llamaindex_dialogue(case: Case, callbacks: list[Any]) -> None:
    CaseLLM(answer=case.answer).chat(
        [
            ChatMessage(role="system", content=f"Use this knowledge to reply: {case.source}"),
            ChatMessage(role="user", content=case.question),
        ]
    )


Pipeline = Callable[[Case, list[Any]], None]
PIPELINES: dict[tuple[str, str], Pipeline] = {
    ("langchain", "qa"): langchain_qa,
    ("langchain", "summary"): langchain_summary,
    ("langchain", "dialogue"): langchain_dialogue,
    ("llamaindex", "qa"): llamaindex_qa,
    ("llamaindex", "summary"): llamaindex_summary,
    ("llamaindex", "dialogue"): llamaindex_dialogue,
}


# --- reading the trace back ---


@dataclass
class Observed:
    """What one case's trace says about it.

    Attributes:
        signals: The scores' ``semtrace.quality.{signal}`` values; the final model
            span's win over other spans'.
        flags: The flags' values (raised or not), which carry no ``.label``.
        labels: Each signal's verdict: its ``.label``, or ``fail``/``pass`` for a flag.
        details: The string attributes of the family, e.g. ``groundedness.kind``.
        diagnosis: The root's ``semtrace.diagnosis`` (``none`` when absent).
        diagnosis_signal: The signal that raised it.
        model_spans: Chat or completion spans in the trace.
        roots: Spans without a parent.
        content: Whether any span recorded prompt or answer text (it must not: the
            benchmark runs semtrace as users do, content capture off).
    """

    signals: dict[str, float] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    diagnosis: str = "none"
    diagnosis_signal: str | None = None
    model_spans: int = 0
    roots: int = 0
    content: bool = False


def observe(spans: Sequence[ReadableSpan]) -> Observed:
    """Read the signals and the diagnosis off one trace's spans."""
    seen = Observed()
    models = [
        s for s in spans if _attributes(s).get(semconv.GEN_AI_OPERATION_NAME) in MODEL_OPERATIONS
    ]
    seen.model_spans = len(models)
    final = max(models, key=lambda s: s.end_time or 0, default=None)
    # The final answer's span is read last, so its values win.
    for span in [s for s in spans if s is not final] + ([final] if final else []):
        _read_quality(_attributes(span), seen)
        seen.content |= not semconv.CONTENT_ATTRIBUTES.isdisjoint(_attributes(span))
    for root in (s for s in spans if s.parent is None):
        seen.roots += 1
        attributes = _attributes(root)
        seen.diagnosis = str(attributes.get(semconv.SEMTRACE_DIAGNOSIS, "none"))
        signal = attributes.get(semconv.SEMTRACE_DIAGNOSIS_SIGNAL)
        seen.diagnosis_signal = None if signal is None else str(signal)
    return seen


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _read_quality(attributes: dict[str, Any], seen: Observed) -> None:
    prefix = semconv.SEMTRACE_QUALITY_PREFIX
    for key, value in attributes.items():
        if not key.startswith(prefix):
            continue
        name = key.removeprefix(prefix)
        if name.endswith(".label"):
            seen.labels[name.removesuffix(".label")] = str(value)
        elif isinstance(value, str):
            seen.details[name] = value
        elif isinstance(value, bool):  # a flag: raised or not, no .label of its own
            seen.flags[name] = value
            seen.labels[name] = "fail" if value else "pass"
        elif isinstance(value, (int, float)):
            seen.signals[name] = float(value)


# --- running ---


class Runner:
    """One framework's instrumented pipelines, over one in-memory exporter.

    Args:
        framework: ``langchain`` or ``llamaindex``.
    """

    def __init__(self, framework: str) -> None:
        self.framework = framework
        self.telemetry = Telemetry()
        providers = {
            "tracer_provider": self.telemetry.tracer_provider,
            "meter_provider": self.telemetry.meter_provider,
        }
        self.callbacks: list[Any] = []
        if framework == "langchain":
            self.callbacks = [CallbackHandler(**providers)]
        else:
            LlamaIndexInstrumentor().instrument(**providers)

    def run(self, case: Case) -> Observed:
        """Run ``case`` through its pipeline; its trace's signals."""
        PIPELINES[(self.framework, case.kind)](case, self.callbacks)
        spans = self.telemetry.spans()
        self.telemetry.clear()
        return observe(spans)


_runners: dict[str, Runner] = {}


def run_chunk(framework: str, cases: Sequence[Case]) -> list[Observed]:
    """Run ``cases`` in this process (a worker keeps one runner per framework)."""
    runner = _runners.get(framework)
    if runner is None:
        runner = _runners[framework] = Runner(framework)
    return [runner.run(case) for case in cases]


def run_all(
    cases: Sequence[Case], frameworks: Sequence[str], jobs: int
) -> dict[str, list[Observed]]:
    """Every case through every framework's pipeline, on ``jobs`` processes."""
    tasks = [
        (framework, cases[i : i + CHUNK])
        for framework in frameworks
        for i in range(0, len(cases), CHUNK)
    ]
    if jobs <= 1:
        done = [run_chunk(f, chunk) for f, chunk in tasks]
    else:
        # spawn: a forked child would inherit the parent's threads' locks half-taken.
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            done = list(pool.map(run_chunk, *zip(*tasks, strict=True)))
    observed: dict[str, list[Observed]] = {f: [] for f in frameworks}
    for (framework, _), found in zip(tasks, done, strict=True):
        observed[framework] += found
    return observed


# --- the command line ---


def select(cases: list[Case], args: argparse.Namespace) -> list[Case]:
    """The cases the options ask for; ``--limit`` takes a fixed sample of each dataset."""
    chosen = [
        c
        for c in cases
        if (not args.set or c.dataset.startswith(args.set))
        and (not args.split or c.split == args.split)
    ]
    if not args.limit:
        return chosen
    by_set: dict[str, list[Case]] = {}
    for case in chosen:
        by_set.setdefault(case.dataset, []).append(case)
    sample: list[Case] = []
    for group in by_set.values():
        sample += random.Random(0).sample(group, min(args.limit, len(group)))
    return sample


def smoke_cases(cases: list[Case]) -> list[Case]:
    """A few supported and unsupported cases of each kind, those with the longest sources.

    Long sources take the paths short ones skip: LlamaIndex splits a long article into
    several nodes, with NLTK's sentence tables.
    """
    picked: list[Case] = []
    for kind in ("qa", "summary", "dialogue"):
        for supported in (True, False):
            of_kind = [c for c in cases if c.kind == kind and c.supported is supported]
            of_kind.sort(key=lambda c: len(c.source), reverse=True)
            picked += of_kind[: SMOKE_PER_KIND // 2]
    return picked


def check_smoke(cases: Sequence[Case], observed: dict[str, list[Observed]]) -> list[str]:
    """Every trace has one root, one model span (whose answer is the case's) and no text.

    And no summary or chat trace is diagnosed ``retrieval_miss``: no retriever was asked
    a question there (issue 24).
    """
    problems = []
    for framework, found in observed.items():
        for case, seen in zip(cases, found, strict=True):
            where = f"{framework} {case.kind} ({case.dataset})"
            if seen.roots != 1:
                problems.append(f"{where}: {seen.roots} root spans")
            if seen.model_spans != 1:
                problems.append(f"{where}: {seen.model_spans} model spans, expected 1")
            if seen.content:
                problems.append(f"{where}: content recorded, with capture off by default")
            if case.kind != "qa" and seen.diagnosis == RETRIEVAL_MISS:
                problems.append(f"{where}: retrieval_miss, but no question was asked")
    return problems


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few cases per kind (CI)")
    parser.add_argument("--limit", type=int, default=0, help="N cases per dataset (sampled)")
    parser.add_argument("--set", help="datasets whose name starts with this, e.g. begin")
    parser.add_argument("--framework", choices=FRAMEWORKS, help="one framework only")
    parser.add_argument("--split", choices=("dev", "heldout"), help="one split only")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument(
        "--out", type=Path, default=HERE / "results", help="where a full run writes real.*"
    )
    return parser.parse_args(argv)


def use_defaults() -> list[str]:
    """Drop the environment's semtrace settings (workers inherit the rest): users' defaults.

    Returns:
        The variables dropped.
    """
    ours = [
        name
        for name in os.environ
        if (name.startswith("SEMTRACE_") and name != "SEMTRACE_QUALITY_DATA")
        or name.startswith("OTEL_INSTRUMENTATION_GENAI_")
    ]
    for name in ours:
        del os.environ[name]
    return ours


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ignored = use_defaults()
    if ignored:
        print(f"real_pipelines: semtrace runs with its defaults; ignoring {', '.join(ignored)}")
    cases = realdata.load()
    if not cases:
        print("real_pipelines: no quality data (set SEMTRACE_QUALITY_DATA or put it in "
              "../shared/quality-data beside the repository): nothing to run.")  # fmt: skip
        return 0
    frameworks = (args.framework,) if args.framework else FRAMEWORKS
    cases = smoke_cases(cases) if args.smoke else select(cases, args)
    start = time.monotonic()
    observed = run_all(cases, frameworks, 1 if args.smoke else args.jobs)
    seconds = time.monotonic() - start
    if args.smoke:
        problems = check_smoke(cases, observed)
        print("\n".join(problems) or f"smoke: {len(cases)} cases x {len(frameworks)} ok")
        return 1 if problems else 0
    figures = real_report.figures(cases, observed)
    full = not (args.limit or args.set or args.framework or args.split)
    text = real_report.markdown(figures, sys.argv, seconds)
    print(text)
    if full:
        real_report.write(figures, text, sys.argv, seconds, args.out)
    else:
        print(f"\n(a partial run: {args.out}/real.md and real.json left as they were)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
