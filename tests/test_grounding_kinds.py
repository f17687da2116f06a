"""Groundedness fits the pipeline: summaries and knowledge-grounded chat, in both frameworks.

A summarisation chain (the text pasted into the prompt, or a LlamaIndex summary index that
retrieves every node for an instruction) and a chat turn resting on knowledge in its system
message are judged as what they are, never as a question whose retrieval missed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from llama_index.core import Document, SummaryIndex
from llama_index.core.llms import ChatMessage
from semtrace import Evaluation, Sample, semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from semtrace_llamaindex import LlamaIndexInstrumentor

from tests.langchain.pipelines import fake_chat
from tests.llamaindex.fakes import AnswerLLM
from tests.trace_quality import diagnosis_of, flags

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ARTICLE = (
    "The city council approved the new budget on Monday after a long debate. The plan "
    "raises spending on schools by four percent and cuts the roads budget. Mayor Ana Ruiz "
    "said the vote showed the council could agree on hard choices."
)
FAITHFUL = "The council approved the new budget, which raises spending on schools."
INVENTED = (
    "Governor Okafor vetoed the hospital funding bill in Lagos after protests by nurses "
    "and doctors demanding higher salaries."
)
KNOWLEDGE = (
    "crayola began as an industrial pigment supply company and soon shifted its focus to "
    "art products for home and school use, beginning with chalk, then crayons."
)
TURN = "strange name, but it makes sense they started with the darkest color."
GROUNDED_REPLY = "crayola shifted its focus to art products for home and school use."
INVENTED_REPLY = "my uncle owns three sailboats and races them on lake michigan every june."


def langchain_summary(telemetry: Telemetry, answer: str, **options: Any) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("human", "Summarize the following article.\n\n{article}")]
    )
    chain = prompt | fake_chat(answer) | StrOutputParser()
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **options,
    )
    chain.invoke({"article": ARTICLE}, config={"callbacks": [handler]})


def llamaindex_summary(telemetry: Telemetry, answer: str, **options: Any) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **options,
    )
    try:
        index = SummaryIndex.from_documents([Document(text=ARTICLE)])
        engine = index.as_query_engine(response_mode="tree_summarize", llm=AnswerLLM(answer=answer))
        engine.query("Summarize the article.")
    finally:
        instrumentor.uninstrument()


def langchain_dialogue(telemetry: Telemetry, answer: str, **options: Any) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this knowledge to reply: {knowledge}"), ("human", "{message}")]
    )
    chain = prompt | fake_chat(answer) | StrOutputParser()
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **options,
    )
    chain.invoke({"knowledge": KNOWLEDGE, "message": TURN}, config={"callbacks": [handler]})


def llamaindex_dialogue(telemetry: Telemetry, answer: str, **options: Any) -> None:
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **options,
    )
    try:
        llm = AnswerLLM(answer=answer, as_chat_model=True)
        llm.chat(
            [
                ChatMessage(role="system", content=f"Use this knowledge to reply: {KNOWLEDGE}"),
                ChatMessage(role="user", content=TURN),
            ]
        )
    finally:
        instrumentor.uninstrument()


Runner = Callable[..., None]
SUMMARIES = [
    pytest.param(langchain_summary, id="langchain-pasted"),
    pytest.param(llamaindex_summary, id="llamaindex-summary-index"),
]
DIALOGUES = [
    pytest.param(langchain_dialogue, id="langchain"),
    pytest.param(llamaindex_dialogue, id="llamaindex"),
]


@pytest.mark.parametrize("run", SUMMARIES)
def test_a_faithful_summary_is_judged_as_a_summary_and_passes(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, FAITHFUL)
    found = flags(telemetry)
    assert found["groundedness.kind"] == "summary"
    assert found["groundedness.label"] == "pass"
    assert diagnosis_of(telemetry)[0] is None


@pytest.mark.parametrize("run", SUMMARIES)
def test_an_invented_summary_fails_as_unsupported_not_as_a_retrieval_miss(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, INVENTED)
    assert flags(telemetry)["groundedness.label"] == "fail"
    assert diagnosis_of(telemetry)[0] == "unsupported_answer"


@pytest.mark.parametrize("run", SUMMARIES)
def test_an_instruction_to_summarise_gets_no_relevance_scores(
    telemetry: Telemetry, run: Runner
) -> None:
    # Neither the retrieval (a summary index's, asked "Summarize the article.") nor the
    # answer is scored for relevance to an instruction: there is no question.
    run(telemetry, INVENTED)
    found = flags(telemetry)
    assert "retrieval_relevance" not in found
    assert "answer_relevance" not in found


@pytest.mark.parametrize("run", DIALOGUES)
def test_a_chat_turn_resting_on_knowledge_is_judged_against_it(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, GROUNDED_REPLY)
    found = flags(telemetry)
    assert found["groundedness.kind"] == "dialogue"
    assert found["groundedness.label"] == "pass"
    assert "answer_relevance" not in found  # a chat turn is no question to address


@pytest.mark.parametrize("run", DIALOGUES)
def test_a_chat_turn_the_knowledge_does_not_support_is_an_unsupported_answer(
    telemetry: Telemetry, run: Runner
) -> None:
    run(telemetry, INVENTED_REPLY)
    assert flags(telemetry)["groundedness.label"] == "fail"
    assert diagnosis_of(telemetry)[0] == "unsupported_answer"


@pytest.mark.parametrize("run", DIALOGUES)
def test_a_forced_kind_overrides_the_guess(telemetry: Telemetry, run: Runner) -> None:
    run(telemetry, GROUNDED_REPLY, grounding="summary")
    assert flags(telemetry)["groundedness.kind"] == "summary"


class Recording:
    name = "recording"
    background = False
    operations = frozenset({"chat", "text_completion"})

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def evaluate(self, sample: Sample) -> Evaluation | None:
        self.samples.append(sample)
        return None


@pytest.mark.parametrize("run", SUMMARIES + DIALOGUES)
def test_evaluators_see_the_source_the_kind_and_the_verdicts(
    telemetry: Telemetry, run: Runner
) -> None:
    evaluator = Recording()
    run(telemetry, INVENTED, evaluators=[evaluator])
    telemetry.spans()  # the runs are turned into telemetry (and evaluated) on the worker
    [sample] = evaluator.samples[-1:]
    assert sample.kind in ("summary", "dialogue")
    assert any(ARTICLE in c or KNOWLEDGE in c for c in sample.contexts)
    assert sample.verdicts["groundedness"] == "fail"


def test_the_kind_attribute_is_one_of_semtraces_own() -> None:
    assert semconv.SEMTRACE_QUALITY_GROUNDEDNESS_KIND.startswith(semconv.SEMTRACE_QUALITY_PREFIX)
