"""The quality checks and the trace diagnosis on real LangChain and LlamaIndex runs.

The checks: degenerate output, agent behaviour, structured output and sensitive data
(``semtrace.quality``); as pure functions they are in ``tests/core/test_quality_checks.py``.

Each check's positive and negative case runs through both frameworks: a RAG pipeline with
a fixed retriever and a model that gives the scenario's answer, structured-output calls,
and tool-calling agents with fake models.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import ToolException, tool
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel
from semtrace import Settings, semconv
from semtrace.quality.sensitive import SensitiveRule
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.corpus import WITH_GOOD as GOOD
from tests.corpus import WITH_QUESTION as QUESTION
from tests.corpus import WITH_RIGHT as RIGHT
from tests.corpus import WITH_UNSUPPORTED as UNSUPPORTED
from tests.corpus import WITH_WRONG as WRONG
from tests.langchain.pipelines import fake_chat
from tests.llamaindex.fakes import AnswerLLM, ToolCallingLLM
from tests.retrieval_fakes import FixedNodes, FixedRetriever
from tests.trace_quality import diagnosis_of, flags, root

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LOOP = "The with statement wraps the block. " * 12
FRENCH = (
    "L'instruction with enveloppe l'exécution d'un bloc avec les méthodes définies par un "
    "gestionnaire de contexte."
)
LEAK = GOOD + " Ask admin@corp-internal.example for the key sk-live0123456789abcdefghij."


def run_langchain(
    telemetry: Telemetry, contexts: list[str], answer: str, settings: Settings | None = None
) -> None:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this context:\n{context}"), ("human", "{q}")]
    )
    chain = (
        {
            "context": FixedRetriever(texts=contexts)
            | (lambda d: "\n\n".join(x.page_content for x in d)),
            "q": RunnablePassthrough(),
        }
        | prompt
        | fake_chat(answer)
        | StrOutputParser()
    )
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=settings,
    )
    chain.invoke(QUESTION, config={"callbacks": [handler]})


def run_llamaindex(
    telemetry: Telemetry, contexts: list[str], answer: str, settings: Settings | None = None
) -> None:
    from llama_index.core.query_engine import RetrieverQueryEngine

    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=settings,
    )
    try:
        engine = RetrieverQueryEngine.from_args(FixedNodes(contexts), llm=AnswerLLM(answer=answer))
        engine.query(QUESTION)
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def handler(telemetry: Telemetry) -> CallbackHandler:
    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )


Runner = Callable[..., None]
FRAMEWORKS = [
    pytest.param(run_langchain, id="langchain"),
    pytest.param(run_llamaindex, id="llamaindex"),
]


# --- degenerate and sensitive output, and the diagnosis, in a RAG pipeline ---


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_good_answer_raises_no_check_and_has_no_diagnosis(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, RIGHT, GOOD)
    found = flags(telemetry)
    for signal in ("repetition", "language_mismatch", "sensitive_output", "invalid_format"):
        assert signal not in found
    assert semconv.SEMTRACE_DIAGNOSIS not in (root(telemetry).attributes or {})


@pytest.mark.parametrize("run", FRAMEWORKS)
@pytest.mark.parametrize(
    ("answer", "signal", "diagnosis"),
    [
        pytest.param(LOOP, "repetition", "degenerate", id="repetition"),
        pytest.param(FRENCH, "language_mismatch", "degenerate", id="language"),
        pytest.param(LEAK, "sensitive_output", "sensitive_output", id="sensitive"),
    ],
)
def test_check_raised_on_the_model_span_and_diagnosed_on_the_root(
    telemetry: Telemetry, run: Runner, answer: str, signal: str, diagnosis: str
) -> None:
    run(telemetry, RIGHT, answer)
    [model] = [s for s in telemetry.spans() if s.name.startswith(("chat", "text_completion"))]
    attrs = model.attributes or {}
    assert attrs[semconv.SEMTRACE_QUALITY_PREFIX + signal] is True
    assert attrs[semconv.SEMTRACE_QUALITY_PREFIX + signal + ".label"] == "fail"
    [event] = [e for e in model.events if e.attributes[semconv.GEN_AI_EVALUATION_NAME] == signal]
    assert event.name == semconv.EVENT_EVALUATION_RESULT
    name, target = diagnosis_of(telemetry)
    assert name == diagnosis and target is model
    points = telemetry.metric_points(semconv.METRIC_TRACES)
    assert [p.attributes[semconv.SEMTRACE_DIAGNOSIS] for p in points] == [diagnosis]


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_sensitive_output_names_detectors_never_values(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, LEAK)
    [model] = [s for s in telemetry.spans() if s.name.startswith(("chat", "text_completion"))]
    kinds = model.attributes[semconv.SEMTRACE_QUALITY_SENSITIVE_KINDS]  # type: ignore[index]
    assert list(kinds) == ["api_key", "email"]
    everything = repr([(s.attributes, [e.attributes for e in s.events]) for s in telemetry.spans()])
    assert "sk-live" not in everything and "admin@" not in everything


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_secret_already_in_the_context_is_not_a_leak(telemetry: Telemetry, run: Runner) -> None:
    context = [RIGHT[0] + " Support: help@python.example."]
    run(telemetry, context, GOOD + " Write to help@python.example.")
    assert "sensitive_output" not in flags(telemetry)


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_retrieval_miss_outranks_the_unsupported_answer_it_causes(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, WRONG, GOOD)
    name, target = diagnosis_of(telemetry)
    assert name == "retrieval_miss"
    assert target is not None and target.name.startswith("retrieval")


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_unsupported_answer_with_good_retrieval(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, UNSUPPORTED)
    name, target = diagnosis_of(telemetry)
    assert name == "unsupported_answer"
    assert target is not None and target.name.startswith(("chat", "text_completion"))


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_user_rules_from_settings(telemetry: Telemetry, run: Runner) -> None:
    settings = dataclasses.replace(
        Settings.resolve(), sensitive_rules=(SensitiveRule("ticket", r"\bTCK-\d{6}\b"),)
    )
    run(telemetry, RIGHT, GOOD + " See TCK-123456.", settings)
    [kinds] = [
        s.attributes[semconv.SEMTRACE_QUALITY_SENSITIVE_KINDS]
        for s in telemetry.spans()
        if semconv.SEMTRACE_QUALITY_SENSITIVE_KINDS in (s.attributes or {})
    ]
    assert list(kinds) == ["ticket"]


# --- structured output ---


class Person(BaseModel):
    name: str
    age: int


PERSON_SCHEMA = Person.model_json_schema()


@pytest.mark.parametrize(
    ("answer", "raised"),
    [pytest.param('{"name": "Ada", "age": 36}', False, id="valid"),
     pytest.param('{"name": "Ada"}', True, id="invalid")],
)  # fmt: skip
def test_langchain_json_mode_output_is_validated(
    telemetry: Telemetry, handler: CallbackHandler, answer: str, raised: bool
) -> None:
    model = fake_chat(answer).bind(
        ls_structured_output_format={"kwargs": {"method": "json_mode"}, "schema": Person}
    )
    model.invoke("Who is Ada?", config={"callbacks": [handler]})
    assert ("invalid_format" in flags(telemetry)) is raised


@pytest.mark.parametrize(
    ("args", "raised"),
    [pytest.param({"name": "Ada", "age": 36}, False, id="valid"),
     pytest.param({"name": "Ada", "age": "old"}, True, id="invalid")],
)  # fmt: skip
def test_langchain_tool_call_arguments_are_validated(
    telemetry: Telemetry, handler: CallbackHandler, args: dict[str, Any], raised: bool
) -> None:
    tool_def = {
        "type": "function",
        "function": {"name": "Person", "description": "A person.", "parameters": PERSON_SCHEMA},
    }
    reply = AIMessage(content="", tool_calls=[{"name": "Person", "args": args, "id": "c1"}])
    fake_chat(reply).bind(tools=[tool_def]).invoke("Who?", config={"callbacks": [handler]})
    assert ("invalid_format" in flags(telemetry)) is raised
    if raised:
        assert diagnosis_of(telemetry)[0] == "invalid_format"


@pytest.mark.parametrize(
    ("llm", "raised"),
    [
        pytest.param(AnswerLLM(answer='{"name": "Ada", "age": 36}'), False, id="text-valid"),
        pytest.param(AnswerLLM(answer="Ada, 36 years old"), True, id="text-invalid"),
        pytest.param(ToolCallingLLM(tool="Person", arguments={"name": "Ada", "age": 36}), False,
                     id="tool-valid"),
        pytest.param(ToolCallingLLM(tool="Person", arguments={"name": "Ada"}), True,
                     id="tool-invalid"),
    ],
)  # fmt: skip
def test_llamaindex_structured_predict_is_validated(
    telemetry: Telemetry, llm: Any, raised: bool
) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    try:
        llm.structured_predict(Person, PromptTemplate("Who is {x}?"), x="Ada")
    except ValueError:
        assert raised
    finally:
        instrumentor.uninstrument()
    assert ("invalid_format" in flags(telemetry)) is raised


# --- agents ---


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def flaky(x: str) -> str:
    """Fails, and LangChain hands the failure back to the model."""
    raise ToolException("backend unavailable")


flaky.handle_tool_error = True


def calls(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def langchain_agent(
    telemetry: Telemetry,
    replies: list[AIMessage | str],
    tools: list[Any],
    tracer_provider: Any = None,
    **config: Any,
) -> None:
    from langchain.agents import create_agent

    handler = CallbackHandler(
        tracer_provider=tracer_provider or telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
    agent = create_agent(fake_chat(*replies), tools=tools, name="calc")
    agent.invoke(
        {"messages": [("user", "What is 1 + 2?")]}, config={"callbacks": [handler], **config}
    )


class LoopingLLM(ToolCallingLLM):
    """Calls the same tool with the same arguments on every turn."""

    def _reply(self, messages: Any) -> ChatMessage:
        call = ToolSelection(tool_id="c", tool_name=self.tool, tool_kwargs=self.arguments)
        return ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]})


def add_numbers(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def explode(a: int, b: int) -> int:
    """Always fails."""
    raise ValueError("tool exploded")


def llamaindex_agent(telemetry: Telemetry, tool: Callable[..., Any], llm: Any, **kw: Any) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )

    async def main() -> None:
        agent = FunctionAgent(
            name="calc",
            description="Adds.",
            tools=[FunctionTool.from_defaults(tool, name="add")],
            llm=llm,
            streaming=False,
        )
        await agent.run("What is 2 + 3?", **kw)

    try:
        asyncio.run(main())
    except Exception:
        pass  # the step-limit case raises; the spans say why
    finally:
        instrumentor.uninstrument()


def test_langchain_agent_that_answers_raises_no_agent_check(telemetry: Telemetry) -> None:
    langchain_agent(telemetry, [calls("add", {"a": 1, "b": 2}, "c1"), "It is 3."], [add])
    found = flags(telemetry)
    assert not {"tool_loop", "tool_error", "step_limit", "no_final_answer"} & set(found)


def test_llamaindex_agent_that_answers_raises_no_agent_check(telemetry: Telemetry) -> None:
    llamaindex_agent(telemetry, add_numbers, ToolCallingLLM())
    found = flags(telemetry)
    assert not {"tool_loop", "tool_error", "step_limit", "no_final_answer"} & set(found)


def test_langchain_repeated_tool_call_is_an_agent_loop(telemetry: Telemetry) -> None:
    replies = [calls("add", {"a": 1, "b": 2}, f"c{i}") for i in range(3)] + ["It is 3."]
    langchain_agent(telemetry, replies, [add])
    name, target = diagnosis_of(telemetry)
    assert name == "agent_loop"
    assert target is not None and target.name == "execute_tool add"
    assert target.attributes[semconv.SEMTRACE_QUALITY_PREFIX + "tool_loop"] is True  # type: ignore[index]


def test_llamaindex_repeated_tool_call_is_an_agent_loop_then_a_step_limit(
    telemetry: Telemetry,
) -> None:
    llamaindex_agent(telemetry, add_numbers, LoopingLLM(), max_iterations=4)
    found = flags(telemetry)
    assert found["tool_loop"] is True and found["step_limit"] is True
    assert diagnosis_of(telemetry)[0] == "step_limit"  # the limit ended the run: it outranks


def test_langchain_swallowed_tool_error(telemetry: Telemetry) -> None:
    langchain_agent(telemetry, [calls("flaky", {"x": "y"}, "c1"), "Sorry, try later."], [flaky])
    name, target = diagnosis_of(telemetry)
    assert name == "tool_error"
    assert target is not None and target.name == "execute_tool flaky"
    assert flags(telemetry)["tool_error"] is True


def test_llamaindex_swallowed_tool_error(telemetry: Telemetry) -> None:
    llamaindex_agent(telemetry, explode, ToolCallingLLM())
    name, target = diagnosis_of(telemetry)
    assert name == "tool_error"
    assert target is not None and target.name == "execute_tool add"
    assert flags(telemetry)["tool_error"] is True


def test_langchain_recursion_limit_is_a_step_limit(telemetry: Telemetry) -> None:
    replies = [calls("add", {"a": 1, "b": i}, f"c{i}") for i in range(30)]
    with pytest.raises(Exception, match="Recursion limit"):
        langchain_agent(telemetry, replies, [add], recursion_limit=5)
    assert diagnosis_of(telemetry)[0] == "step_limit"
    assert flags(telemetry)["step_limit"] is True


def test_langchain_agent_with_no_final_answer(telemetry: Telemetry) -> None:
    langchain_agent(telemetry, [calls("add", {"a": 1, "b": 2}, "c1"), ""], [add])
    assert flags(telemetry)["no_final_answer"] is True
    assert diagnosis_of(telemetry)[0] == "no_answer"


def test_llamaindex_agent_with_no_final_answer(telemetry: Telemetry) -> None:
    llamaindex_agent(telemetry, add_numbers, ToolCallingLLM(final=""))
    assert flags(telemetry)["no_final_answer"] is True
    assert diagnosis_of(telemetry)[0] == "no_answer"


def test_failed_run_is_diagnosed_error(telemetry: Telemetry, handler: CallbackHandler) -> None:
    from langchain_core.runnables import RunnableLambda

    def boom(_: Any) -> str:
        raise KeyError("nope")

    with pytest.raises(KeyError):
        RunnableLambda(boom).invoke("x", config={"callbacks": [handler]})
    assert diagnosis_of(telemetry)[0] == "error"


# --- the diagnosis in the tail sampler and the terminal tree ---


def test_tail_sampler_keeps_a_trace_by_its_diagnosis() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from semtrace import Policy, TailSamplingProcessor

    kept: dict[str, int] = {}
    for keep in (frozenset({"agent_loop"}), frozenset()):
        exporter = InMemorySpanExporter()
        sampler = TailSamplingProcessor(
            SimpleSpanProcessor(exporter),
            Policy(base_rate=0.0, keep_diagnoses=keep),
            sweep_interval_s=None,
        )
        provider = TracerProvider()
        provider.add_span_processor(sampler)
        replies = [calls("add", {"a": 1, "b": 2}, f"c{i}") for i in range(3)] + ["It is 3."]
        langchain_agent(Telemetry(), replies, [add], tracer_provider=provider)
        provider.shutdown()
        kept.update(sampler.stats.kept)
        assert bool(exporter.get_finished_spans()) is bool(keep)
    assert kept == {"diagnosis:agent_loop": 1}


def test_policy_rejects_an_unknown_diagnosis() -> None:
    from semtrace import Policy

    with pytest.raises(ValueError, match="unknown diagnoses"):
        Policy(keep_diagnoses=frozenset({"bad_vibes"}))


def test_console_tree_shows_the_diagnosis_and_points_at_its_span(telemetry: Telemetry) -> None:
    from semtrace.export.console import render_tree

    replies = [calls("add", {"a": 1, "b": 2}, f"c{i}") for i in range(3)] + ["It is 3."]
    langchain_agent(telemetry, replies, [add])
    top = root(telemetry)
    lines = render_tree(top, [s for s in telemetry.spans() if s is not top]).splitlines()
    assert "diagnosis=agent_loop (tool_loop)" in lines[0]
    marked = [line for line in lines if line.endswith("◀ diagnosis")]
    assert len(marked) == 1 and "execute_tool add" in marked[0] and "⚠ tool_loop" in marked[0]


# --- groundedness against on-topic fabrication ---

PARAPHRASE = (
    "The with statement wraps the execution of a block with methods a context manager "
    "defines, so common try, except and finally usage patterns can be encapsulated for reuse."
)
FABRICATED = {
    "invented": GOOD + " Pass `reuse_mode=True` to encapsulate it in version 3.4.",
    "negated": "The with statement is not used to wrap the execution of a block with methods "
    "defined by a context manager.",
    "added_claim": GOOD + " Common finally blocks are compiled into bytecode before it runs.",
}


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_paraphrase_is_grounded(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, PARAPHRASE)
    assert flags(telemetry)["groundedness.label"] == "pass"


@pytest.mark.parametrize("run", FRAMEWORKS)
def test_invented_identifiers_fail_groundedness(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, RIGHT, FABRICATED["invented"])
    assert flags(telemetry)["groundedness.label"] == "fail"
    assert diagnosis_of(telemetry)[0] == "unsupported_answer"


@pytest.mark.parametrize("run", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["added_claim", "negated"])
def test_a_flipped_or_added_claim_is_never_passed(
    telemetry: Telemetry, run: Runner, kind: str
) -> None:
    # Lexically close to the source: not a confident fail (faithful answers look like
    # this too), but never a pass: uncertain, the case to escalate to a judge.
    run(telemetry, RIGHT, FABRICATED[kind])
    assert flags(telemetry)["groundedness.label"] in ("uncertain", "fail")


# --- consistency (opt-in) ---


def consistency_on() -> Settings:
    return dataclasses.replace(Settings.resolve(), consistency=True)


def consistency_scores(telemetry: Telemetry) -> list[Any]:
    key = semconv.SEMTRACE_QUALITY_PREFIX + "consistency"
    return [s.attributes.get(key) for s in telemetry.spans() if s.name.startswith(("chat", "text"))]


DRIFT = "Lambda expressions create anonymous functions that hold one expression only."


def test_langchain_consistency_scores_repeat_calls_of_one_prompt(telemetry: Telemetry) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        settings=consistency_on(),
    )
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")]).with_config(
        metadata={"prompt_name": "explain", "prompt_version": "3"}
    )
    for answer in (GOOD, GOOD, DRIFT):
        (prompt | fake_chat(answer)).invoke({"q": QUESTION}, config={"callbacks": [handler]})
    first, same, drifted = consistency_scores(telemetry)
    assert first is None and same == 1.0 and drifted < 0.5
    last = [s for s in telemetry.spans() if s.name.startswith("chat")][-1]
    assert last.attributes[semconv.SEMTRACE_QUALITY_PREFIX + "consistency.label"] == "fail"  # type: ignore[index]
    assert [e.attributes[semconv.GEN_AI_EVALUATION_NAME] for e in last.events].count(
        "consistency"
    ) == 1  # type: ignore[index]


def test_llamaindex_consistency_scores_repeat_calls(telemetry: Telemetry) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider, settings=consistency_on())
    try:
        for answer in (GOOD, GOOD, DRIFT):
            AnswerLLM(answer=answer).complete(QUESTION)
    finally:
        instrumentor.uninstrument()
    first, same, drifted = consistency_scores(telemetry)
    assert first is None and same == 1.0 and drifted < 0.5


def test_consistency_is_off_by_default(telemetry: Telemetry, handler: CallbackHandler) -> None:
    for answer in (GOOD, DRIFT):
        fake_chat(answer).invoke(QUESTION, config={"callbacks": [handler]})
    assert consistency_scores(telemetry) == [None, None]


def test_consistency_memory_is_bounded() -> None:
    from semtrace.quality.consistency import ConsistencyTracker

    tracker = ConsistencyTracker(max_inputs=3, per_input=2)
    for i in range(10):
        for _ in range(4):
            tracker.observe("p", f"input {i}", GOOD)
    assert len(tracker) == 3
