"""The cases every source is judged on, and what semtrace's own integration says of them.

One RAG case (``tests/corpus.py``): the right passage retrieved, answered with the
answer it supports (``GOOD``) or with one it does not (``FABRICATED``); and agent runs
that fail (a repeated tool call, a swallowed tool error, a recursion limit). Each runs
through a real framework over a fake model that reports usage, so cost is comparable too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Settings, semconv
from semtrace.adopt import VerdictProcessor
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.corpus import WITH_GOOD, WITH_QUESTION, WITH_RIGHT, WITH_UNSUPPORTED
from tests.langchain.pipelines import fake_chat
from tests.retrieval_fakes import FixedRetriever

QUESTION = WITH_QUESTION
CONTEXT = WITH_RIGHT
GOOD = WITH_GOOD
FABRICATED = WITH_UNSUPPORTED
#: What the fake model reports for each call (gpt-4o-mini is in the shipped price table).
USAGE = {"input_tokens": 120, "output_tokens": 20, "total_tokens": 140}


class Foreign:
    """A tracer provider another instrumentation records to, judged by the VerdictProcessor.

    The processor sits in front of the exporting processor: what is exported is the
    copy with the verdicts. :meth:`fresh` starts a new processor and exporter on the
    same provider (an instrumentor keeps the first provider it was given).
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._switch = _Switch()
        self.fresh()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(self._switch)

    def fresh(self, **extra: Any) -> Foreign:
        options = {**self._options, **extra}
        options.setdefault("settings", Settings())
        self.exporter = InMemorySpanExporter()
        self.processor = VerdictProcessor(SimpleSpanProcessor(self.exporter), **options)
        self._switch.current = self.processor
        return self

    def spans(self) -> tuple[ReadableSpan, ...]:
        self.processor.force_flush()
        return self.exporter.get_finished_spans()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()


class _Switch(SpanProcessor):
    """Forwards to the current processor."""

    current: SpanProcessor

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.current.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.current.on_end(span)

    def shutdown(self) -> None:
        self.current.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.current.force_flush(timeout_millis)


@dataclass
class Outcome:
    """What semtrace said of one trace: labels of the signals, flags raised, diagnosis, cost."""

    labels: dict[str, str] = field(default_factory=dict)
    raised: set[str] = field(default_factory=set)
    diagnosis: str | None = None
    cost: float | None = None
    evaluation_events: int = 0


def outcome(spans: Sequence[ReadableSpan]) -> Outcome:
    found = Outcome()
    prefix = semconv.SEMTRACE_QUALITY_PREFIX
    for span in spans:
        attributes = span.attributes or {}
        for key, value in attributes.items():
            if key.startswith(prefix) and key.endswith(".label"):
                found.labels[key[len(prefix) : -len(".label")]] = str(value)
            elif key.startswith(prefix) and value is True:
                found.raised.add(key[len(prefix) :])
        if semconv.SEMTRACE_DIAGNOSIS in attributes:
            found.diagnosis = str(attributes[semconv.SEMTRACE_DIAGNOSIS])
        if semconv.SEMTRACE_TRACE_COST_AMOUNT in attributes:
            found.cost = float(attributes[semconv.SEMTRACE_TRACE_COST_AMOUNT])  # type: ignore[arg-type]
        found.evaluation_events += sum(
            e.name == semconv.EVENT_EVALUATION_RESULT for e in span.events
        )
    return found


def rag_chain(answer: str) -> Runnable[Any, Any]:
    """Retrieve the right passage, answer with ``answer`` (usage reported)."""
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this context:\n{context}"), ("human", "{q}")]
    )
    retrieve = FixedRetriever(texts=CONTEXT) | (lambda d: "\n\n".join(x.page_content for x in d))
    reply = AIMessage(content=answer, usage_metadata=USAGE)  # type: ignore[arg-type]
    return (
        {"context": retrieve, "q": RunnablePassthrough()}
        | prompt
        | fake_chat(reply)
        | StrOutputParser()
    )


def calls(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}],
        usage_metadata=USAGE,  # type: ignore[arg-type]
    )


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def looping_agent() -> Callable[[dict[str, Any]], Any]:
    """An agent that calls the same tool with the same arguments three times, then answers."""
    from langchain.agents import create_agent
    from langchain_core.tools import tool

    replies = [calls("add", {"a": 1, "b": 2}, f"c{i}") for i in range(3)]
    model = fake_chat(*replies, AIMessage(content="It is 3.", usage_metadata=USAGE))  # type: ignore[arg-type]
    agent = create_agent(model, tools=[tool(add)], name="calc")
    return lambda config: agent.invoke({"messages": [("user", "What is 1 + 2?")]}, config=config)


def failing_tool_agent() -> Callable[[dict[str, Any]], Any]:
    """An agent whose tool fails; LangChain hands the error back and the agent answers."""
    from langchain.agents import create_agent
    from langchain_core.tools import ToolException, tool

    def weather(city: str) -> str:
        """The weather in a city."""
        raise ToolException("service down")

    broken = tool(weather)
    broken.handle_tool_error = True
    replies = [calls("weather", {"city": "Paris"}, "c1"), AIMessage(content="It is sunny.")]
    model = fake_chat(*replies)
    agent = create_agent(model, tools=[broken], name="helper")
    return lambda config: agent.invoke({"messages": [("user", "Weather in Paris?")]}, config=config)


def semtraces_own(run: Callable[[dict[str, Any]], Any]) -> Outcome:
    """The outcome semtrace's own LangChain integration gives the same run."""
    telemetry = Telemetry()
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=Settings(),
    )
    with contextlib.suppress(Exception):  # the failing runs fail for both
        run({"callbacks": [handler]})
    found = outcome(telemetry.spans())
    telemetry.shutdown()
    return found


@contextmanager
def content_captured(monkeypatch: Any) -> Iterator[None]:
    """The opt-ins other instrumentations read before they record content."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("TRACELOOP_TRACE_CONTENT", "true")
    monkeypatch.setenv("OPENINFERENCE_HIDE_INPUTS", "false")
    yield


def prompt_chain(answer: str) -> Runnable[Any, Any]:
    """The context in the system message, no retriever: how an agent framework is given it."""
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this context:\n" + "\n\n".join(CONTEXT)), ("human", "{q}")]
    )
    reply = AIMessage(content=answer, usage_metadata=USAGE)  # type: ignore[arg-type]
    return {"q": RunnablePassthrough()} | prompt | fake_chat(reply) | StrOutputParser()


def llamaindex_query(answer: str, **llm: Any) -> Callable[[], Any]:
    """A LlamaIndex query engine over the right passage, answering ``answer``."""
    from llama_index.core.query_engine import RetrieverQueryEngine

    from tests.llamaindex.fakes import AnswerLLM
    from tests.retrieval_fakes import FixedNodes

    usage = {"usage": {"prompt_tokens": USAGE["input_tokens"], "completion_tokens": 20}}
    model = llm.pop("model", None) or AnswerLLM(answer=answer, raw=usage)
    engine = RetrieverQueryEngine.from_args(FixedNodes(list(CONTEXT)), llm=model)
    return lambda: engine.query(QUESTION)


def semtraces_own_llamaindex(run: Callable[[], Any]) -> Outcome:
    """The outcome semtrace's own LlamaIndex integration gives the same run."""
    from semtrace_llamaindex import LlamaIndexInstrumentor

    telemetry = Telemetry()
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=Settings(),
    )
    try:
        run()
    finally:
        instrumentor.uninstrument()
    found = outcome(telemetry.spans())
    telemetry.shutdown()
    return found


# What OpenLLMetry's LangChain instrumentation wraps. Its `uninstrument()` leaves every one
# of them wrapped (checked with 0.62.4: `unwrap` is handed module paths as strings and does
# nothing), so its handler would ride along into every later test of the session.
OPENLLMETRY_WRAPS = (
    ("langchain_core.callbacks", "BaseCallbackManager", "__init__"),
    ("langgraph.pregel", "Pregel", "stream"),
    ("langgraph.pregel", "Pregel", "astream"),
    ("langgraph.types", "Command", "__init__"),
    *(
        ("langchain.agents.middleware.types", "AgentMiddleware", hook)
        for hook in (
            "before_model", "after_model", "before_agent", "after_agent",
            "abefore_model", "aafter_model", "abefore_agent", "aafter_agent",
        )
    ),
    ("langgraph.prebuilt.chat_agent_executor", None, "create_react_agent"),
    ("langgraph.prebuilt", None, "create_react_agent"),
    ("langchain.agents.factory", None, "create_agent"),
    ("langchain.agents", None, "create_agent"),
    *(
        ("langchain_openai.llms.base", "BaseOpenAI", name)
        for name in ("_generate", "_agenerate", "_stream", "_astream")
    ),
    ("langchain_openai.chat_models.base", "BaseChatOpenAI", "_generate"),
    ("langchain_openai.chat_models.base", "BaseChatOpenAI", "_agenerate"),
)  # fmt: skip


def unwrapped(targets: Sequence[tuple[str, str | None, str]]) -> list[str]:
    """Put back what an instrumentor wrapped (wrapt proxies) and left wrapped; the names undone."""
    import importlib

    undone = []
    for module_name, class_name, name in targets:
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        if class_name is not None:
            owner = getattr(owner, class_name, None)
        found = vars(owner).get(name) if owner is not None else None
        while found is not None and hasattr(found, "__wrapped__"):
            found = found.__wrapped__
            setattr(owner, name, found)
            undone.append(f"{module_name}.{class_name or ''}.{name}")
    return undone


def looping_llamaindex_agent() -> None:
    """A FunctionAgent calling the same tool with the same arguments until its step limit."""
    import asyncio
    import contextlib

    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    from tests.test_quality_checks_on_runs import LoopingLLM, add_numbers

    async def main() -> None:
        agent = FunctionAgent(
            name="calc",
            description="Adds.",
            tools=[FunctionTool.from_defaults(add_numbers, name="add")],
            llm=LoopingLLM(),
            streaming=False,
        )
        await agent.run("What is 2 + 3?", max_iterations=4)

    with contextlib.suppress(Exception):  # the step limit raises; the spans say why
        asyncio.run(main())
