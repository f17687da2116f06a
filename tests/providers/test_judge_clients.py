"""The groundedness judge with real clients: the app and the judge each on a local server.

The app is a real RAG pipeline (LangChain, LlamaIndex) whose model runs on one local
OpenAI wire-format server; the judge is a real ``ChatOpenAI`` / LlamaIndex ``OpenAI`` (or
``ChatAnthropic``) on a second one. No real model runs: the servers answer what each test
says. Judging here is by ``sample_rate=1.0`` unless the test is about escalation, so it
does not hang on how the built-in signal labels one answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.llms.openai import OpenAI
from opentelemetry.sdk.trace import ReadableSpan
from semtrace import GroundednessJudge, semconv
from semtrace.quality.evaluators import wait_for_evaluations
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler, LangChainInstrumentor
from semtrace_langchain import groundedness_judge as langchain_judge
from semtrace_llamaindex import LlamaIndexInstrumentor
from semtrace_llamaindex import groundedness_judge as llamaindex_judge

from tests.langchain.pipelines import DOCS, QUESTION, rag_chain
from tests.providers import expect
from tests.providers.servers.anthropic import AnthropicServer
from tests.providers.servers.base import Answer, Reply, Request
from tests.providers.servers.openai import OpenAIServer

# Fluent, and nowhere in DOCS: the built-in signal fails it.
UNSUPPORTED = "The with statement launches a rocket to Mars every Tuesday at noon."
JUDGE_SPAN = "evaluate groundedness_judge"


class SlowOpenAIServer(OpenAIServer):
    """An OpenAI server that answers only once ``release`` is set (or after 10 s)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer)
        self.release = threading.Event()

    def route(self, request: Request) -> Reply:
        self.release.wait(10)
        return super().route(request)


def judge_answer(text: str = "SUPPORTED") -> Answer:
    return Answer(
        model="gpt-4o-mini-2024-07-18",
        id="chatcmpl-judge",
        text=text,
        input_tokens=412,
        output_tokens=2,
    )


@pytest.fixture
def judge_server() -> Iterator[OpenAIServer]:
    """The judge's own OpenAI server (the app's is ``openai_server``)."""
    with OpenAIServer(judge_answer()) as server:
        yield server


@pytest.fixture
def slow_judge_server() -> Iterator[SlowOpenAIServer]:
    server = SlowOpenAIServer(judge_answer())
    with server:
        yield server
        server.release.set()


@pytest.fixture
def app_server(openai_server: OpenAIServer) -> OpenAIServer:
    openai_server.answer.text = UNSUPPORTED
    return openai_server


def chat_openai(server: OpenAIServer, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(
        model="gpt-4o-mini",
        base_url=f"{server.url}/v1",
        api_key="test",
        max_retries=0,
        timeout=10,
        **kwargs,
    )


def handler_with(telemetry: Telemetry, judge: GroundednessJudge) -> CallbackHandler:
    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        count_tokens=False,
        prices=expect.PRICES,
        evaluators=[judge],
    )


def ask_langchain_app(
    handler: CallbackHandler, app_server: OpenAIServer, docs: list[str] = DOCS
) -> str:
    answer: str = rag_chain(chat_openai(app_server), docs=docs).invoke(  # type: ignore[arg-type]
        QUESTION, config={"callbacks": [handler]}
    )
    assert handler.recorder.background is not None and handler.recorder.background.wait()
    return answer


def results(span: ReadableSpan) -> dict[str, tuple[str, str]]:
    """The span's evaluation events: name -> (label, explanation)."""
    out = {}
    for event in span.events:
        if event.name == semconv.EVENT_EVALUATION_RESULT and event.attributes:
            name = str(event.attributes[semconv.GEN_AI_EVALUATION_NAME])
            label = str(event.attributes[semconv.GEN_AI_EVALUATION_SCORE_LABEL])
            explanation = str(event.attributes.get(semconv.GEN_AI_EVALUATION_EXPLANATION, ""))
            out[name] = (label, explanation)
    return out


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def root(telemetry: Telemetry) -> ReadableSpan:
    """The root of the app's trace (the one with the model call)."""
    trace_id = expect.model_span(telemetry).context.trace_id
    [span] = [s for s in telemetry.spans() if s.parent is None and s.context.trace_id == trace_id]
    return span


# --------------------------------------------------------------------------- LangChain


def test_langchain_judge_verdict_lands_on_an_evaluate_span_under_the_judged_chat_span(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge_server.answer.text = "UNSUPPORTED"
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    ask_langchain_app(handler_with(telemetry, judge), app_server)
    span = telemetry.span(JUDGE_SPAN)
    assert telemetry.parent_of(span) is expect.model_span(telemetry)
    verdicts = results(span)
    assert verdicts["groundedness_judge"][0] == "fail"
    assert verdicts["groundedness_final"][0] == "fail"


def test_langchain_judge_is_asked_with_the_source_question_and_answer(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    ask_langchain_app(handler_with(telemetry, judge), app_server)
    [request] = judge_server.calls("/chat/completions")
    prompt = request.json["messages"][-1]["content"]
    assert QUESTION in prompt and UNSUPPORTED in prompt
    assert any(doc in prompt for doc in DOCS)


def test_langchain_judge_call_is_counted_as_evaluation_usage_and_cost(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    ask_langchain_app(handler_with(telemetry, judge), app_server)
    span = attrs(telemetry.span(JUDGE_SPAN))
    answer = judge_server.answer
    assert span[semconv.SEMTRACE_USAGE_PURPOSE] == semconv.USAGE_PURPOSE_EVALUATION
    assert span[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert span[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert span[semconv.GEN_AI_RESPONSE_MODEL] == answer.model
    assert span[semconv.GEN_AI_USAGE_INPUT_TOKENS] == answer.input_tokens
    assert span[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == answer.output_tokens
    assert span[semconv.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx(expect.expected_cost(answer))


def test_langchain_judge_tokens_and_cost_stay_out_of_the_app_roll_ups(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    ask_langchain_app(handler_with(telemetry, judge), app_server)
    assert telemetry.span(JUDGE_SPAN)
    totals = attrs(root(telemetry))
    app = app_server.answer
    assert totals[semconv.SEMTRACE_TRACE_INPUT_TOKENS] == app.input_tokens
    assert totals[semconv.SEMTRACE_TRACE_OUTPUT_TOKENS] == app.output_tokens
    assert totals[semconv.SEMTRACE_TRACE_COST_AMOUNT] == pytest.approx(expect.expected_cost(app))
    expect.check_token_metric(telemetry, app_server)


def test_langchain_judge_call_is_not_traced_as_an_app_chat_span(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    # Every LangChain run in the process is traced: the judge's too, unless it is suppressed.
    instrumentor = LangChainInstrumentor()
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        count_tokens=False,
        prices=expect.PRICES,
        evaluators=[judge],
    )
    try:
        rag_chain(chat_openai(app_server)).invoke(QUESTION)  # type: ignore[arg-type]
        assert wait_for_evaluations()
    finally:
        instrumentor.uninstrument()
    assert len(judge_server.requests) == 1, "the judge was asked"
    assert len(telemetry.by_operation("chat")) == 1, telemetry.tree()
    assert telemetry.span(JUDGE_SPAN)


def test_app_call_returns_normally_while_the_langchain_judge_times_out(
    telemetry: Telemetry, app_server: OpenAIServer, slow_judge_server: SlowOpenAIServer
) -> None:
    judge = langchain_judge(chat_openai(slow_judge_server), sample_rate=1.0, timeout_s=0.2)
    handler = handler_with(telemetry, judge)
    started = time.monotonic()
    answer = rag_chain(chat_openai(app_server)).invoke(  # type: ignore[arg-type]
        QUESTION, config={"callbacks": [handler]}
    )
    assert answer == UNSUPPORTED
    assert time.monotonic() - started < 5, "the app did not wait for the judge"
    assert handler.recorder.background is not None and handler.recorder.background.wait()
    verdicts = results(telemetry.span(JUDGE_SPAN))
    assert verdicts["groundedness_judge"][0] == "uncertain"
    assert "timeout" in verdicts["groundedness_judge"][1]
    assert judge.faults["timeout"] == 1
    assert len(telemetry.by_operation("chat")) == 1


def test_app_call_returns_normally_while_the_langchain_judge_errors(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge_server.fail = 500
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    assert ask_langchain_app(handler_with(telemetry, judge), app_server) == UNSUPPORTED
    verdicts = results(telemetry.span(JUDGE_SPAN))
    assert verdicts["groundedness_judge"][0] == "uncertain"
    assert "the call raised" in verdicts["groundedness_judge"][1]
    assert judge.faults["error"] == 1
    chat = expect.model_span(telemetry)
    assert attrs(chat)["semtrace.quality.groundedness.label"] != "pass", "the built-in stays"


def test_langchain_judge_answering_garbage_is_counted_and_its_tokens_still_recorded(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge_server.answer.text = "Well, it depends on how you read passage two."
    judge = langchain_judge(chat_openai(judge_server), sample_rate=1.0)
    assert ask_langchain_app(handler_with(telemetry, judge), app_server) == UNSUPPORTED
    span = telemetry.span(JUDGE_SPAN)
    assert results(span)["groundedness_judge"][0] == "uncertain"
    assert judge.faults["unparseable"] == 1
    assert attrs(span)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == judge_server.answer.input_tokens


def test_langchain_judge_on_anthropic_records_its_usage_and_cost(
    telemetry: Telemetry, app_server: OpenAIServer
) -> None:
    answer = Answer(
        model="claude-sonnet-4-5-20250929",
        id="msg_judge",
        text="Unsupported.",
        input_tokens=530,
        output_tokens=3,
        cache_read=512,
    )
    with AnthropicServer(answer) as server:
        model = ChatAnthropic(  # type: ignore[call-arg]
            model="claude-sonnet-4-5", base_url=server.url, api_key="test", max_retries=0
        )
        judge = langchain_judge(model, sample_rate=1.0)
        ask_langchain_app(handler_with(telemetry, judge), app_server)
    span = telemetry.span(JUDGE_SPAN)
    assert results(span)["groundedness_judge"][0] == "fail"
    got = attrs(span)
    assert got[semconv.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert got[semconv.GEN_AI_USAGE_INPUT_TOKENS] == answer.input_tokens
    assert got[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == answer.cache_read
    assert got[semconv.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx(expect.expected_cost(answer))


# ------------------------------------------------- escalation (needs Sample.verdicts filled)


def test_an_answer_the_builtin_signal_fails_is_escalated_to_the_judge(
    telemetry: Telemetry, app_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    judge = langchain_judge(chat_openai(judge_server))  # default: uncertain and fail only
    ask_langchain_app(handler_with(telemetry, judge), app_server)
    builtin = attrs(expect.model_span(telemetry))["semtrace.quality.groundedness.label"]
    assert builtin in ("fail", "uncertain")
    verdicts = results(telemetry.span(JUDGE_SPAN))
    assert verdicts["groundedness_final"][0] == "pass", "the judge's verdict decides"
    assert f"built-in groundedness: {builtin}" in verdicts["groundedness_final"][1]


def test_an_answer_the_builtin_signal_passes_is_not_escalated(
    telemetry: Telemetry, openai_server: OpenAIServer, judge_server: OpenAIServer
) -> None:
    openai_server.answer.text = DOCS[0]  # the source's own words, and it is all retrieved
    judge = langchain_judge(chat_openai(judge_server))
    ask_langchain_app(handler_with(telemetry, judge), openai_server, docs=DOCS[:2])
    assert attrs(expect.model_span(telemetry))["semtrace.quality.groundedness.label"] == "pass"
    assert judge_server.requests == []
    assert JUDGE_SPAN not in [s.name for s in telemetry.spans()]


# --------------------------------------------------------------------------- LlamaIndex


@pytest.fixture
def instrument_llamaindex(telemetry: Telemetry) -> Iterator[Callable[[GroundednessJudge], None]]:
    instrumentor = LlamaIndexInstrumentor()

    def go(judge: GroundednessJudge) -> None:
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            count_tokens=False,
            prices=expect.PRICES,
            evaluators=[judge],
        )

    yield go
    instrumentor.uninstrument()


def openai_llm(server: OpenAIServer) -> OpenAI:
    return OpenAI(
        model="gpt-4o-mini", api_base=f"{server.url}/v1", api_key="test", max_retries=0, timeout=10
    )


def ask_llamaindex_app(app_server: OpenAIServer) -> str:
    embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed)
    engine = index.as_query_engine(llm=openai_llm(app_server), similarity_top_k=2)
    answer = str(engine.query(QUESTION))
    assert wait_for_evaluations()
    return answer


def test_llamaindex_judge_verdict_usage_and_cost_land_on_the_evaluate_span(
    telemetry: Telemetry,
    instrument_llamaindex: Callable[[GroundednessJudge], None],
    app_server: OpenAIServer,
    judge_server: OpenAIServer,
) -> None:
    judge_server.answer.text = "UNSUPPORTED"
    instrument_llamaindex(llamaindex_judge(openai_llm(judge_server), sample_rate=1.0))
    ask_llamaindex_app(app_server)
    span = telemetry.span(JUDGE_SPAN)
    assert telemetry.parent_of(span) is expect.model_span(telemetry)
    assert results(span)["groundedness_final"][0] == "fail"
    got, answer = attrs(span), judge_server.answer
    assert got[semconv.SEMTRACE_USAGE_PURPOSE] == semconv.USAGE_PURPOSE_EVALUATION
    assert got[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert got[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert got[semconv.GEN_AI_USAGE_INPUT_TOKENS] == answer.input_tokens
    assert got[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == answer.output_tokens
    assert got[semconv.SEMTRACE_USAGE_COST_AMOUNT] == pytest.approx(expect.expected_cost(answer))


def test_llamaindex_judge_call_is_neither_an_app_chat_span_nor_in_the_roll_ups(
    telemetry: Telemetry,
    instrument_llamaindex: Callable[[GroundednessJudge], None],
    app_server: OpenAIServer,
    judge_server: OpenAIServer,
) -> None:
    instrument_llamaindex(llamaindex_judge(openai_llm(judge_server), sample_rate=1.0))
    ask_llamaindex_app(app_server)
    assert len(judge_server.requests) == 1, "the judge was asked"
    assert len(telemetry.by_operation("chat")) == 1, telemetry.tree()
    app = app_server.answer
    totals = attrs(root(telemetry))
    assert totals[semconv.SEMTRACE_TRACE_INPUT_TOKENS] == app.input_tokens
    assert totals[semconv.SEMTRACE_TRACE_COST_AMOUNT] == pytest.approx(expect.expected_cost(app))


def test_app_query_returns_normally_while_the_llamaindex_judge_times_out(
    telemetry: Telemetry,
    instrument_llamaindex: Callable[[GroundednessJudge], None],
    app_server: OpenAIServer,
    slow_judge_server: SlowOpenAIServer,
) -> None:
    judge = llamaindex_judge(openai_llm(slow_judge_server), sample_rate=1.0, timeout_s=0.2)
    instrument_llamaindex(judge)
    assert ask_llamaindex_app(app_server) == UNSUPPORTED
    assert results(telemetry.span(JUDGE_SPAN))["groundedness_judge"][0] == "uncertain"
    assert judge.faults["timeout"] == 1
