"""The tracers compared: none, noop, floor, semtrace, and the anchors.

A variant is started for one framework with ``start(framework, telemetry)``, which
returns the LangChain callbacks to pass in ``config`` (empty when it patches globally or
for LlamaIndex), and stopped with ``stop()``. Global patchers are instrumented and
uninstrumented around every measurement; ``stop()`` then checks that the framework is
back to its pristine state (``leftovers``), restores it if not, and reports what it found.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import time
from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from opentelemetry import trace

LC = "langchain"
LI = "llamaindex"


# ----------------------------------------------------------------------------- pristine state


def _llamaindex_dispatcher() -> Any:
    from llama_index.core.instrumentation import get_dispatcher

    return get_dispatcher()


class Pristine:
    """Snapshot of every hook a tracer may patch; ``restore()`` says what it had to undo."""

    def __init__(self) -> None:
        from langchain_core.callbacks import BaseCallbackManager
        from langchain_core.language_models.chat_models import BaseChatModel

        self._attrs: list[tuple[Any, str, Any]] = [
            (BaseCallbackManager, "__init__", BaseCallbackManager.__dict__["__init__"]),
            (BaseChatModel, "_generate_with_cache", BaseChatModel.__dict__["_generate_with_cache"]),
            (
                BaseChatModel,
                "_agenerate_with_cache",
                BaseChatModel.__dict__["_agenerate_with_cache"],
            ),
        ]
        try:
            from langgraph.pregel import Pregel

            self._attrs += [(Pregel, m, Pregel.__dict__[m]) for m in ("stream", "astream")]
        except ImportError:
            pass
        try:
            dispatcher = _llamaindex_dispatcher()
            self._spans = list(dispatcher.span_handlers)
            self._events = list(dispatcher.event_handlers)
        except ImportError:
            self._spans = self._events = []

    def restore(self) -> list[str]:
        undone = []
        for owner, name, original in self._attrs:
            if owner.__dict__.get(name) is not original:
                undone.append(f"{owner.__name__}.{name} still patched")
                setattr(owner, name, original)
        try:
            dispatcher = _llamaindex_dispatcher()
        except ImportError:
            return undone
        extra = [h for h in dispatcher.span_handlers if h not in self._spans]
        extra += [h for h in dispatcher.event_handlers if h not in self._events]
        if extra:
            undone.append(f"{len(extra)} LlamaIndex handler(s) left on the dispatcher")
            dispatcher.span_handlers[:] = self._spans
            dispatcher.event_handlers[:] = self._events
        return undone


PRISTINE: Pristine | None = None

# Longest wait for semtrace's deferred work before telemetry is read (a stuck worker).
SETTLE_S = 30.0


def semtrace_worker() -> Any:
    """semtrace's worker module, under its name at the commit measured (None before it)."""
    for name in ("semtrace._worker", "semtrace.deferred"):  # named deferred before 0.25
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def settle() -> float:
    """Wait until semtrace's deferred work is done; returns the seconds waited.

    Once semtrace ends spans on a worker thread, an invocation has returned before its
    spans are finished and its metric points recorded: call this before reading either.
    A semtrace without a worker (an older commit under SEMTRACE_BENCH_SRC) defers nothing.
    """
    t0 = time.perf_counter()
    worker = semtrace_worker()
    if worker is None:
        return 0.0
    worker.drain(SETTLE_S)
    return time.perf_counter() - t0


def snapshot() -> None:
    """Remember the untouched frameworks (call once, before any tracer is set up)."""
    global PRISTINE
    PRISTINE = Pristine()


# ----------------------------------------------------------------------------- noop and floor


def noop_langchain() -> Any:
    from langchain_core.callbacks import BaseCallbackHandler

    class Noop(BaseCallbackHandler):
        run_inline = True

    return Noop()


def floor_langchain(tracer: trace.Tracer) -> Any:
    """The cheapest correct tracer: one bare span per run, parented by run id."""
    from langchain_core.callbacks import BaseCallbackHandler

    set_in_context = trace.set_span_in_context
    error = trace.Status(trace.StatusCode.ERROR)

    class Floor(BaseCallbackHandler):
        run_inline = True

        def __init__(self) -> None:
            self.spans: dict[UUID, trace.Span] = {}

        def _start(self, op: str, run_id: UUID, parent_run_id: UUID | None, name: Any) -> None:
            parent = self.spans.get(parent_run_id) if parent_run_id is not None else None
            ctx = set_in_context(parent) if parent is not None else None
            self.spans[run_id] = tracer.start_span(
                f"{op} {name}" if name else op, ctx, attributes={"gen_ai.operation.name": op}
            )

        def _end(self, run_id: UUID, *_: Any, **__: Any) -> None:
            span = self.spans.pop(run_id, None)
            if span is not None:
                span.end()

        def _fail(self, err: BaseException, *, run_id: UUID, **_: Any) -> None:
            span = self.spans.pop(run_id, None)
            if span is not None:
                span.set_status(error)
                span.end()

        def on_chain_start(
            self,
            serialized: Any,
            inputs: Any,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            **kw: Any,
        ) -> None:
            self._start("invoke_workflow", run_id, parent_run_id, kw.get("name"))

        def on_chat_model_start(
            self,
            serialized: Any,
            messages: Any,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            **kw: Any,
        ) -> None:
            self._start("chat", run_id, parent_run_id, kw.get("name"))

        def on_llm_start(
            self,
            serialized: Any,
            prompts: Any,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            **kw: Any,
        ) -> None:
            self._start("text_completion", run_id, parent_run_id, kw.get("name"))

        def on_retriever_start(
            self,
            serialized: Any,
            query: Any,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            **kw: Any,
        ) -> None:
            self._start("retrieval", run_id, parent_run_id, kw.get("name"))

        def on_tool_start(
            self,
            serialized: Any,
            input_str: Any,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            **kw: Any,
        ) -> None:
            self._start("execute_tool", run_id, parent_run_id, kw.get("name"))

        def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
            self._end(run_id)

        on_llm_end = on_retriever_end = on_tool_end = on_chain_end
        on_chain_error = on_llm_error = on_retriever_error = on_tool_error = _fail

    return Floor()


def _llamaindex_span_handler_base() -> type:
    from llama_index.core.instrumentation.span_handlers import BaseSpanHandler

    class Handler(BaseSpanHandler):  # type: ignore[type-arg]
        """The abstract hooks, unused: subclasses override span_enter/exit/drop."""

        def new_span(self, *a: Any, **k: Any) -> None:
            return None

        def prepare_to_exit_span(self, *a: Any, **k: Any) -> None:
            return None

        def prepare_to_drop_span(self, *a: Any, **k: Any) -> None:
            return None

    return Handler


def noop_llamaindex() -> Any:
    class Noop(_llamaindex_span_handler_base()):  # type: ignore[misc]
        def span_enter(self, *a: Any, **k: Any) -> None:
            pass

        def span_exit(self, *a: Any, **k: Any) -> None:
            pass

        def span_drop(self, *a: Any, **k: Any) -> None:
            pass

    return Noop()


def floor_llamaindex(tracer: trace.Tracer) -> Any:
    """One bare span per LlamaIndex span, parented by the span ids LlamaIndex passes."""
    set_in_context = trace.set_span_in_context
    error = trace.Status(trace.StatusCode.ERROR)
    spans: dict[str, trace.Span] = {}

    class Floor(_llamaindex_span_handler_base()):  # type: ignore[misc]
        def span_enter(
            self,
            id_: str,
            bound_args: Any,
            instance: Any = None,
            parent_id: str | None = None,
            **k: Any,
        ) -> None:
            parent = spans.get(parent_id) if parent_id is not None else None
            ctx = set_in_context(parent) if parent is not None else None
            name = id_.partition("-")[0]  # "Class.method-uuid"
            spans[id_] = tracer.start_span(name, ctx, attributes={"gen_ai.operation.name": name})

        def span_exit(self, id_: str, *a: Any, **k: Any) -> None:
            span = spans.pop(id_, None)
            if span is not None:
                span.end()

        def span_drop(self, id_: str, *a: Any, err: BaseException | None = None, **k: Any) -> None:
            span = spans.pop(id_, None)
            if span is not None:
                span.set_status(error)
                span.end()

    return Floor()


# ----------------------------------------------------------------------------- variants


class Variant:
    """Base: nothing installed."""

    name = "none"
    note = "uninstrumented"
    packages: tuple[str, ...] = ()  # modules that must import for the variant to exist

    def __init__(self) -> None:
        self._stop: list[Callable[[], None]] = []
        self.leftovers: list[str] = []
        self._pristine: Pristine | None = None

    def available(self, framework: str) -> str | None:
        """None if the variant can run for ``framework``, else why not."""
        for module in self.packages_for(framework):
            name = module.split(":")[0]
            try:
                found = importlib.util.find_spec(name) is not None
            except ImportError:
                found = False
            if not found:
                return f"{name} not installed"
        return None

    def packages_for(self, framework: str) -> tuple[str, ...]:
        return self.packages

    def start(self, framework: str, telemetry: Any) -> list[Any]:
        self._pristine = PRISTINE or Pristine()
        self._stop = []
        return self._start(framework, telemetry)

    def _start(self, framework: str, telemetry: Any) -> list[Any]:
        return []

    def stop(self) -> None:
        for fn in reversed(self._stop):
            fn()
        self._stop = []
        if self._pristine is not None:
            self.leftovers = self._pristine.restore()
            self._pristine = None


class Noop(Variant):
    name, note = "noop", "a handler that does nothing (the frameworks' own dispatch)"

    def _start(self, framework: str, telemetry: Any) -> list[Any]:
        if framework == LC:
            return [noop_langchain()]
        return _add_llamaindex(self, noop_llamaindex())


class Floor(Variant):
    name, note = "floor", "one bare OTel span per framework run, parent from run ids"

    def _start(self, framework: str, telemetry: Any) -> list[Any]:
        tracer = telemetry.tracer_provider.get_tracer("floor")
        if framework == LC:
            return [floor_langchain(tracer)]
        return _add_llamaindex(self, floor_llamaindex(tracer))


def _add_llamaindex(variant: Variant, handler: Any) -> list[Any]:
    dispatcher = _llamaindex_dispatcher()
    dispatcher.add_span_handler(handler)
    variant._stop.append(lambda: dispatcher.span_handlers.remove(handler))
    return []


class Semtrace(Variant):
    name, note = "semtrace", "defaults: token counting on, quality signals on, content off"
    capture = False
    count_tokens = True
    signals = True

    def packages_for(self, framework: str) -> tuple[str, ...]:
        return ("semtrace_langchain",) if framework == LC else ("semtrace_llamaindex",)

    def available(self, framework: str) -> str | None:
        why = super().available(framework)
        if why is None and framework == LI:
            import semtrace_llamaindex

            if not hasattr(semtrace_llamaindex, "LlamaIndexInstrumentor"):
                return "semtrace_llamaindex.LlamaIndexInstrumentor not written yet"
        return why

    def _settings(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "capture_content": self.capture,
            "count_tokens": self.count_tokens,
        }
        if not self.signals:
            from semtrace import Settings

            kwargs = {"settings": Settings.resolve(quality_signals=False, **kwargs)}
        return kwargs

    def _start(self, framework: str, telemetry: Any) -> list[Any]:
        providers = {
            "tracer_provider": telemetry.tracer_provider,
            "meter_provider": telemetry.meter_provider,
        }
        if framework == LC:
            from semtrace_langchain import CallbackHandler
            from semtrace_langchain.execution import uninstall_execution_context

            handler = CallbackHandler(**providers, **self._settings())
            # The handler wraps BaseChatModel globally and never unwraps: undo it here so
            # the variants measured after this one do not pay for it.
            self._stop += [uninstall_execution_context, handler.recorder.close]
            return [handler]
        from semtrace_llamaindex import LlamaIndexInstrumentor

        instrumentor = LlamaIndexInstrumentor()
        instrumentor.instrument(**providers, **self._settings())
        self._stop.append(instrumentor.uninstrument)
        return []


class SemtraceContent(Semtrace):
    name, note = "semtrace+content", "semtrace with content capture on (SPAN_ONLY)"
    capture = True


class SemtraceNoCount(Semtrace):
    name, note = "semtrace-nocount", "semtrace with token counting off"
    count_tokens = False


class SemtraceNoSignals(Semtrace):
    name, note = "semtrace-nosignals", "semtrace with quality signals off"
    signals = False


class SemtraceBare(Semtrace):
    name, note = "semtrace-bare", "semtrace with token counting and quality signals off"
    count_tokens = False
    signals = False


def _has_background_setting() -> bool:
    """Whether this semtrace's ``Settings`` can switch its background worker off."""
    from semtrace import Settings

    return "background" in {f.name for f in dataclasses.fields(Settings)}


class SemtraceInline(Semtrace):
    name, note = "semtrace-inline", "semtrace with its background worker off (all work inline)"

    def available(self, framework: str) -> str | None:
        why = super().available(framework)
        if why is None and not _has_background_setting():
            return "semtrace.Settings has no `background` field (no worker to switch off)"
        return why

    def _settings(self) -> dict[str, Any]:
        from semtrace import Settings

        resolved = Settings.resolve(
            capture_content=self.capture,
            count_tokens=self.count_tokens,
            quality_signals=self.signals,
        )
        return {"settings": dataclasses.replace(resolved, background=False)}


class SemtraceNoMetrics(Semtrace):
    name, note = "semtrace-nometrics", "semtrace with no meter provider (spans only)"

    def _start(self, framework: str, telemetry: Any) -> list[Any]:
        from opentelemetry.metrics import NoOpMeterProvider

        class SpansOnly:
            tracer_provider = telemetry.tracer_provider
            meter_provider = NoOpMeterProvider()

        return super()._start(framework, SpansOnly())


class Anchor(Variant):
    """An instrumentor from another project, instrumented and uninstrumented globally."""

    instrumentors: ClassVar[dict[str, str]] = {}

    def packages_for(self, framework: str) -> tuple[str, ...]:
        return (self.instrumentors[framework],)

    def _make(self, framework: str) -> Any:
        module, _, cls = self.instrumentors[framework].partition(":")
        return getattr(importlib.import_module(module), cls)()

    def _start(self, framework: str, telemetry: Any) -> list[Any]:
        instrumentor = self._make(framework)
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
        )
        self._stop.append(instrumentor.uninstrument)
        return []


class OpenInference(Anchor):
    name, note = "openinference", "Arize OpenInference (captures content by default)"
    instrumentors: ClassVar[dict[str, str]] = {
        LC: "openinference.instrumentation.langchain:LangChainInstrumentor",
        LI: "openinference.instrumentation.llama_index:LlamaIndexInstrumentor",
    }


class OpenLLMetry(Anchor):
    name, note = "openllmetry", "Traceloop OpenLLMetry (captures content by default)"
    instrumentors: ClassVar[dict[str, str]] = {
        LC: "opentelemetry.instrumentation.langchain:LangchainInstrumentor",
        LI: "opentelemetry.instrumentation.llamaindex:LlamaIndexInstrumentor",
    }


class OtelGenAI(Anchor):
    name, note = "otel-genai", "official opentelemetry-instrumentation-genai-* (content off)"
    instrumentors: ClassVar[dict[str, str]] = {
        LC: "opentelemetry.instrumentation.genai.langchain:LangChainInstrumentor",
        LI: "opentelemetry.instrumentation.genai.llama_index:LlamaIndexInstrumentor",
    }


VARIANTS: dict[str, type[Variant]] = {
    v.name: v
    for v in (
        Variant,
        Noop,
        Floor,
        Semtrace,
        SemtraceContent,
        OpenInference,
        OpenLLMetry,
        OtelGenAI,
    )
}
ALL: dict[str, type[Variant]] = {
    **VARIANTS,
    **{
        v.name: v
        for v in (
            SemtraceNoCount,
            SemtraceNoSignals,
            SemtraceBare,
            SemtraceNoMetrics,
            SemtraceInline,
        )
    },
}
