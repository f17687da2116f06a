"""A mixed, endless workload of both frameworks, and the sizes of every map semtrace keeps.

Used by the quick bounded-memory test and by ``benchmarks/soak/soak.py``. Each
:meth:`Workload.step` is one application call, in a fixed rotation of kinds:

* ``normal``: a LangChain RAG chain with a tool, or a LlamaIndex query; the question
  is unique (so the token cache sees new texts) and one call in ten uses one of
  5,000 model names (so the model-to-encoding map sees new keys);
* ``error``: the model raises;
* ``abandoned``: a stream read for two chunks, then closed (LangChain) or dropped
  (LlamaIndex); one in four is kept referenced, as an application might, in a
  bounded list;
* ``never-ended``: handler callbacks for runs that start and never end (a LangChain
  chain and its chat model; a LlamaIndex query engine span and its LLM call).
"""

from __future__ import annotations

import collections
import gc
import inspect
import itertools
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage
from llama_index.core.instrumentation import get_dispatcher
from semtrace import Settings, safety
from semtrace._telemetry import tokens
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor, classify

from tests.hardening.scenarios import FailingChat, li_index, rag_tool_chain
from tests.langchain.pipelines import FakeChat, fake_chat
from tests.llamaindex.fakes import AnswerLLM

#: The default rotation of kinds: 60% normal, 10% each of the others... per framework.
MIX = ("normal",) * 7 + ("error", "abandoned", "never-ended")
MODEL_NAMES = 5_000
PADDING = " Please answer precisely, citing the context you were given, in one sentence."


class Workload:
    """Both frameworks instrumented into the given providers; ``step(i)`` runs one call."""

    def __init__(
        self,
        tracer_provider: Any,
        meter_provider: Any,
        settings: Settings,
        frameworks: tuple[str, ...] = ("langchain", "llamaindex"),
        keep_abandoned: int = 64,
        mix: tuple[str, ...] = MIX,
    ) -> None:
        self.frameworks = frameworks
        self.mix = mix
        self._chain: Any = None
        self._engine: Any = None
        self.handler = CallbackHandler(
            tracer_provider=tracer_provider, meter_provider=meter_provider, settings=settings
        )
        self.instrumentor: LlamaIndexInstrumentor | None = None
        if "llamaindex" in frameworks:
            li_index()
            self.instrumentor = LlamaIndexInstrumentor()
            self.instrumentor.instrument(
                tracer_provider=tracer_provider, meter_provider=meter_provider, settings=settings
            )
        self.kept: collections.deque[Any] = collections.deque(maxlen=keep_abandoned)
        self.counts: collections.Counter[str] = collections.Counter()
        self.errors = 0

    def close(self) -> None:
        self.handler.recorder.close()
        if self.instrumentor is not None:
            self.instrumentor.uninstrument()
        self.kept.clear()

    # --- one call ---

    def step(self, i: int) -> None:
        framework = self.frameworks[i % len(self.frameworks)]
        turn = i // len(self.frameworks)
        kind = self.mix[turn % len(self.mix)]
        self.counts[f"{framework}:{kind}"] += 1
        run: Callable[[int], None] = getattr(self, f"_{framework}_{kind.replace('-', '_')}")
        run(i)

    @staticmethod
    def _question(i: int) -> str:
        return f"Question {i} ({uuid.uuid4().hex}): what does the with statement do?{PADDING}"

    @staticmethod
    def _model(i: int) -> str:
        return f"soak-model-{(i // 10) % MODEL_NAMES}" if i % 10 == 0 else "gpt-4o-mini"

    # LangChain

    def _config(self) -> dict[str, Any]:
        return {"callbacks": [self.handler]}

    def _langchain_normal(self, i: int) -> None:
        model_name = self._model(i)
        if model_name == "gpt-4o-mini":  # applications reuse their chains
            if self._chain is None:
                reply = AIMessage(content="It wraps a block with a context manager.")
                self._chain = rag_tool_chain(FakeChat(messages=itertools.cycle([reply])))
            chain = self._chain
        else:
            model = fake_chat(f"Answer {i}.")
            model.model_name = model_name
            chain = rag_tool_chain(model)
        chain.invoke(self._question(i), config=self._config())

    def _langchain_error(self, i: int) -> None:
        try:
            rag_tool_chain(FailingChat(messages=iter([]))).invoke(
                self._question(i), config=self._config()
            )
        except RuntimeError:
            self.errors += 1

    def _langchain_abandoned(self, i: int) -> None:
        model = fake_chat(f"Answer {i}: it wraps a block with a context manager.")
        stream = rag_tool_chain(model).stream(self._question(i), config=self._config())
        next(stream)
        next(stream)
        stream.close()

    def _langchain_never_ended(self, i: int) -> None:
        root, chat = uuid.uuid4(), uuid.uuid4()
        self.handler.on_chain_start({}, {"question": self._question(i)}, run_id=root, name="hung")
        self.handler.on_chat_model_start(
            {}, [[("human", self._question(i))]], run_id=chat, parent_run_id=root
        )

    # LlamaIndex

    def _llamaindex_normal(self, i: int) -> None:
        model_name = self._model(i)
        if model_name == "gpt-4o-mini":  # applications reuse their engines
            if self._engine is None:
                self._engine = li_index().as_query_engine(llm=AnswerLLM(), similarity_top_k=2)
            engine = self._engine
        else:
            engine = li_index().as_query_engine(llm=AnswerLLM(model=model_name), similarity_top_k=2)
        engine.query(self._question(i))

    def _llamaindex_error(self, i: int) -> None:
        try:
            li_index().as_query_engine(llm=AnswerLLM(fail_with="model down")).query(
                self._question(i)
            )
        except RuntimeError:
            self.errors += 1

    def _llamaindex_abandoned(self, i: int) -> None:
        engine = li_index().as_query_engine(llm=AnswerLLM(), streaming=True)
        response = engine.query(self._question(i))
        stream = response.response_gen
        next(stream)
        next(stream)
        if i % 4 == 0:
            self.kept.append(response)  # still referenced: ends when evicted or dropped

    def _llamaindex_never_ended(self, i: int) -> None:
        dispatcher = get_dispatcher()
        engine = li_index().as_query_engine(llm=AnswerLLM())
        query_id = f"RetrieverQueryEngine.query-{uuid.uuid4()}"
        bound = inspect.signature(engine.query).bind(self._question(i))
        dispatcher.span_enter(id_=query_id, bound_args=bound, instance=engine)
        llm = AnswerLLM()
        bound = inspect.signature(llm.complete).bind(self._question(i))
        dispatcher.span_enter(
            id_=f"AnswerLLM.complete-{uuid.uuid4()}",
            bound_args=bound,
            instance=llm,
            parent_id=query_id,
        )

    # --- what it holds ---

    def maps(self) -> dict[str, int]:
        """The size of every map semtrace keeps (entries, unless the name says chars)."""
        recorder = self.handler.recorder
        sizes = {
            "lc.open_runs": recorder.open_runs,
            "lc.token_cache": _cache_len(recorder),
            "lc.token_cache_chars": _cache_chars(recorder),
            "lc.token_short_cache": _short_cache_len(recorder),
            "encoding_by_model": len(tokens._encoding_by_model),
            "encoding_loads": len(tokens._loads),
            "fault_sites": len(safety.faults()),
        }
        tracker = self.instrumentor.tracker if self.instrumentor is not None else None
        if tracker is not None:
            table = tracker._table
            sizes.update(
                {
                    "li.open_runs": tracker.recorder.open_runs,
                    "li.open_spans": tracker.open_spans,
                    "li.first_chunk_index": len(table._first_chunk),
                    "li.token_cache": _cache_len(tracker.recorder),
                    "li.token_cache_chars": _cache_chars(tracker.recorder),
                    "li.token_short_cache": _short_cache_len(tracker.recorder),
                    "li.event_routes": len(self.instrumentor._event_handler._routes),  # type: ignore[union-attr]
                    "li.kind_cache": classify.kind_of.cache_info().currsize,
                    "li.dispatcher_open_spans": sum(
                        len(getattr(h, "open_spans", {}) or {})
                        for h in get_dispatcher().span_handlers
                    ),
                }
            )
        return sizes


def _cache_len(recorder: Any) -> int:
    counter = recorder._ending.counter
    return len(counter._cache) if counter is not None else 0


def _cache_chars(recorder: Any) -> int:
    counter = recorder._ending.counter
    return counter._cached_chars if counter is not None else 0


def _short_cache_len(recorder: Any) -> int:
    counter = recorder._ending.counter
    return len(counter._short) if counter is not None else 0


def live_objects() -> dict[str, int]:
    """Live instances of semtrace's per-run objects, after a full collection."""
    from semtrace._recording.runs import OpenTrace, Run, Skipped
    from semtrace_llamaindex.table import OpenSpan

    gc.collect()
    kinds = {"Run": Run, "Skipped": Skipped, "OpenTrace": OpenTrace, "OpenSpan": OpenSpan}
    found = dict.fromkeys(kinds, 0)
    for obj in gc.get_objects():
        for name, cls in kinds.items():
            if type(obj) is cls:
                found[name] += 1
    return found


def rss_mib() -> float:
    """Resident set size of this process, from ``/proc/self/statm``."""
    import os

    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
