"""What the spans of a LangChain pipeline show."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


def test_rag_chain_is_one_trace_of_workflow_retrieval_and_chat(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    assert rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]}) == ANSWER
    assert telemetry.tree() == [
        "invoke_workflow RunnableSequence",
        "  retrieval InMemoryVectorStore",
        "  chat gpt-4o-mini",
    ]
    assert len({s.context.trace_id for s in telemetry.spans()}) == 1


def test_workflow_root_is_internal_with_workflow_name(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    root = telemetry.span("invoke_workflow RunnableSequence")
    assert root.kind is SpanKind.INTERNAL
    assert root.attributes[semconv.GEN_AI_OPERATION_NAME] == "invoke_workflow"
    assert root.attributes[semconv.GEN_AI_WORKFLOW_NAME] == "RunnableSequence"


def test_run_name_names_the_workflow(telemetry: Telemetry, handler: CallbackHandler) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(
        QUESTION, config={"callbacks": [handler], "run_name": "docs-qa"}
    )
    assert (
        telemetry.span("invoke_workflow docs-qa").attributes[semconv.GEN_AI_WORKFLOW_NAME]
        == "docs-qa"
    )


def test_plumbing_runs_are_hidden_and_their_children_reparented(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    names = [s.name for s in telemetry.spans()]
    for plumbing in (
        "RunnableParallel<context,question>",
        "ChatPromptTemplate",
        "StrOutputParser",
        "join",
    ):
        assert plumbing not in names
    root = telemetry.span("invoke_workflow RunnableSequence")
    retrieval = telemetry.by_operation("retrieval")[0]  # under a hidden RunnableParallel + sequence
    assert telemetry.parent_of(retrieval) is root


def test_trace_all_runs_records_every_runnable(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, trace_all_runs=True)
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    names = {s.name for s in telemetry.spans()}
    assert {"ChatPromptTemplate", "StrOutputParser", "join"} <= names
    parser = telemetry.span("StrOutputParser")
    assert telemetry.parent_of(parser).name == "invoke_workflow RunnableSequence"


def test_chat_span_is_client_with_request_attributes(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    fake_chat(ANSWER).invoke("hi", config={"callbacks": [handler]}, stop=["\n\n"])
    chat = telemetry.span("chat gpt-4o-mini")
    assert chat.kind is SpanKind.CLIENT
    attrs = chat.attributes
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == pytest.approx(0.2)
    assert attrs[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 256
    assert attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("\n\n",)


def test_request_attributes_are_set_at_span_start_for_samplers(telemetry: Telemetry) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    seen: list[dict] = []

    class Recording(Sampler):
        def should_sample(
            self, parent_context, trace_id, name, kind=None, attributes=None, links=None
        ):  # type: ignore[no-untyped-def]
            seen.append(dict(attributes or {}))
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

        def get_description(self) -> str:
            return "recording"

    handler = CallbackHandler(tracer_provider=TracerProvider(sampler=Recording()))
    fake_chat(ANSWER).invoke("hi", config={"callbacks": [handler]})
    chat = next(a for a in seen if a.get(semconv.GEN_AI_OPERATION_NAME) == "chat")
    assert chat[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert chat[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_response_attributes_come_from_the_message(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    reply = AIMessage(
        content="ok",
        id="chatcmpl-123",
        response_metadata={"model_name": "gpt-4o-mini-2024-07-18", "finish_reason": "stop"},
    )
    fake_chat(reply).invoke("hi", config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-123"
    assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_langchain_made_up_message_ids_are_not_response_ids(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    fake_chat("ok").invoke("hi", config={"callbacks": [handler]})
    assert semconv.GEN_AI_RESPONSE_ID not in telemetry.span("chat gpt-4o-mini").attributes


def test_completion_model_gives_text_completion_span(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    FakeListLLM(responses=["four"]).invoke("2+2?", config={"callbacks": [handler]})
    [span] = telemetry.by_operation("text_completion")
    assert span.name.startswith("text_completion")
    assert span.kind is SpanKind.CLIENT
    assert span.attributes[semconv.SEMTRACE_USAGE_SOURCE] == "tiktoken"


def test_retrieval_span_has_document_count_and_ids(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER), k=3).invoke(QUESTION, config={"callbacks": [handler]})
    [retrieval] = telemetry.by_operation("retrieval")
    assert retrieval.attributes[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_COUNT] == 3
    ids = retrieval.attributes[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_IDS]
    assert len(ids) == 3 and all(i.startswith("doc-") for i in ids)
    assert retrieval.attributes[semconv.GEN_AI_DATA_SOURCE_ID] == "InMemoryVectorStore"


def test_retrieval_scores_are_recorded_when_the_retriever_gives_them(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class Scored(BaseRetriever):
        def _get_relevant_documents(self, query, *, run_manager):  # type: ignore[no-untyped-def]
            return [
                Document("a", id="a", metadata={"score": 0.9}),
                Document("b", id="b", metadata={"score": 0.4}),
            ]

    Scored().invoke("q", config={"callbacks": [handler]})
    [retrieval] = telemetry.by_operation("retrieval")
    assert retrieval.attributes[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_SCORES] == (0.9, 0.4)


def test_error_marks_span_failed_with_error_type_and_ends_it(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    def boom(_: str) -> str:
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        RunnableLambda(boom).invoke("x", config={"callbacks": [handler]})
    [root] = telemetry.spans()
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes[semconv.ERROR_TYPE] == "ValueError"
    assert any(e.name == "exception" for e in root.events)
    assert handler.recorder.open_runs == 0


def test_failing_model_fails_its_chat_span_and_the_workflow(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    chain = rag_chain(fake_chat())  # no replies left: the fake model raises
    with pytest.raises(StopIteration):
        chain.invoke(QUESTION, config={"callbacks": [handler]})
    chat = telemetry.by_operation("chat")[0]
    assert chat.status.status_code is StatusCode.ERROR
    assert telemetry.span("invoke_workflow RunnableSequence").status.status_code is StatusCode.ERROR


def test_top_level_run_nests_under_the_applications_current_span(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("GET /ask") as request:
        rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    root = telemetry.span("invoke_workflow RunnableSequence")
    assert root.parent is not None and root.parent.span_id == request.get_span_context().span_id


def test_no_span_is_left_current_after_a_run(
    handler: CallbackHandler, no_current_span: None
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert not trace.get_current_span().get_span_context().is_valid


def test_prompt_template_name_and_version_reach_the_chat_span(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    prompt.metadata = {"prompt_name": "support-answer", "prompt_version": "7"}
    (prompt | fake_chat("ok")).invoke({"q": "hi"}, config={"callbacks": [handler]})
    chat = telemetry.span("chat gpt-4o-mini").attributes
    assert chat[semconv.GEN_AI_PROMPT_NAME] == "support-answer"
    assert chat[semconv.SEMTRACE_PROMPT_VERSION] == "7"


def test_chat_without_a_named_prompt_has_no_prompt_name(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert semconv.GEN_AI_PROMPT_NAME not in telemetry.by_operation("chat")[0].attributes


def test_llm_only_preset_drops_retrieval_and_reparents(telemetry: Telemetry) -> None:
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, drop_operations="llm_only")
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert telemetry.tree() == ["invoke_workflow RunnableSequence", "  chat gpt-4o-mini"]


def test_dropping_tools_reparents_what_runs_inside_them(telemetry: Telemetry) -> None:
    from langchain_core.tools import tool

    inner = fake_chat("inner")

    @tool
    def ask(q: str) -> str:
        """Ask a model."""
        return str(inner.invoke(q).content)

    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, drop_operations={"execute_tool"}
    )
    RunnableLambda(lambda x: ask.invoke({"q": x})).invoke("hi", config={"callbacks": [handler]})
    assert telemetry.tree() == ["invoke_workflow RunnableLambda", "  chat gpt-4o-mini"]


def test_unknown_operation_to_drop_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="unknown"):
        CallbackHandler(drop_operations="tools")
