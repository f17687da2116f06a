"""Prompt and completion text is recorded only when the user opts in."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain

CANARY = "canary-7f3a9"
CONTENT_KEYS = semconv.CONTENT_ATTRIBUTES


def everything_recorded(telemetry: Telemetry) -> str:
    parts = []
    for span in telemetry.spans():
        parts.append(repr(dict(span.attributes)))
        parts.extend(repr(dict(e.attributes)) for e in span.events)
    return "\n".join(parts)


def test_no_content_is_recorded_by_default(telemetry: Telemetry, handler: CallbackHandler) -> None:
    question = f"What does the with statement do? {CANARY}"
    rag_chain(fake_chat(f"{ANSWER} {CANARY}"), docs=[f"The with statement {CANARY}."]).invoke(
        question, config={"callbacks": [handler]}
    )
    assert CANARY not in everything_recorded(telemetry)
    assert not any(CONTENT_KEYS & set(s.attributes) for s in telemetry.spans())


def test_quality_signals_are_computed_with_content_off(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})
    assert "semtrace.quality.groundedness" in telemetry.by_operation("chat")[0].attributes


def test_captured_messages_are_genai_json(
    telemetry: Telemetry, content_handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [content_handler]})
    chat = telemetry.by_operation("chat")[0].attributes
    inputs = json.loads(chat[semconv.GEN_AI_INPUT_MESSAGES])
    assert inputs == [{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]
    system = json.loads(chat[semconv.GEN_AI_SYSTEM_INSTRUCTIONS])
    assert system[0]["type"] == "text" and system[0]["content"].startswith("Answer only")
    outputs = json.loads(chat[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert outputs[0]["role"] == "assistant"
    assert outputs[0]["parts"] == [{"type": "text", "content": ANSWER}]


def test_captured_retrieval_has_query_and_documents(
    telemetry: Telemetry, content_handler: CallbackHandler
) -> None:
    rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [content_handler]})
    retrieval = telemetry.by_operation("retrieval")[0].attributes
    assert retrieval[semconv.GEN_AI_RETRIEVAL_QUERY_TEXT] == QUESTION
    docs = json.loads(retrieval[semconv.GEN_AI_RETRIEVAL_DOCUMENTS])
    assert len(docs) == 2 and all(d["id"].startswith("doc-") and d["content"] for d in docs)


def test_tool_calls_are_captured_as_parts(
    telemetry: Telemetry, content_handler: CallbackHandler
) -> None:
    reply = AIMessage(content="", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "call_1"}])
    fake_chat(reply).invoke("add", config={"callbacks": [content_handler]})
    out = json.loads(telemetry.span("chat gpt-4o-mini").attributes[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert out[0]["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "add", "arguments": {"a": 1}}
    ]
    assert out[0]["finish_reason"] == "tool_call"


@pytest.mark.parametrize("value", ["SPAN_ONLY", "span_and_event", "true"])
def test_env_var_turns_capture_on(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider)
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
    assert semconv.GEN_AI_INPUT_MESSAGES in telemetry.span("chat gpt-4o-mini").attributes


def test_invalid_env_value_means_no_content(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "everything-please")
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider)
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
    assert semconv.GEN_AI_INPUT_MESSAGES not in telemetry.span("chat gpt-4o-mini").attributes


def test_invalid_capture_argument_fails_at_configuration() -> None:
    with pytest.raises(ValueError, match="capture_content"):
        CallbackHandler(capture_content="everything-please")


def test_long_content_is_cut_and_stays_valid_json(telemetry: Telemetry) -> None:
    from semtrace import Settings
    from semtrace.config import CaptureMode

    settings = Settings(capture=CaptureMode.SPAN_ONLY, max_content_length=200)
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, settings=settings)
    fake_chat("x" * 5000).invoke("y" * 5000, config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    for key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        assert len(attrs[key]) <= 200
        json.loads(attrs[key])


def test_redaction_hook_sees_text_before_it_is_recorded(telemetry: Telemetry) -> None:
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return text.replace("sk-secret", "[key]")

    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, capture_content=True, redact=redact
    )
    fake_chat("ok").invoke("my key is sk-secret", config={"callbacks": [handler]})
    attrs = telemetry.span("chat gpt-4o-mini").attributes
    assert "sk-secret" not in attrs[semconv.GEN_AI_INPUT_MESSAGES]
    assert "[key]" in attrs[semconv.GEN_AI_INPUT_MESSAGES]
    assert "my key is sk-secret" in seen


def test_builtin_secret_redactor_removes_keys_tokens_and_emails() -> None:
    from semtrace import redact_secrets

    text = (
        "key sk-abcdefghijklmnopqrstuv, Authorization: Bearer abc.def.ghijkl, mail bob@example.com"
    )
    out = redact_secrets(text)
    assert "sk-abcdefghijklmnopqrstuv" not in out and "abc.def.ghijkl" not in out
    assert "bob@example.com" not in out


def test_event_only_mode_puts_content_in_a_log_event_not_on_the_span(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        logger_provider=telemetry.logger_provider,
        capture_content="EVENT_ONLY",
    )
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
    chat = telemetry.span("chat gpt-4o-mini")
    assert semconv.GEN_AI_INPUT_MESSAGES not in chat.attributes
    assert not [e for e in chat.events if e.name == semconv.EVENT_INFERENCE_DETAILS]
    [event] = telemetry.events(semconv.EVENT_INFERENCE_DETAILS)
    assert (event.trace_id, event.span_id) == (chat.context.trace_id, chat.context.span_id)
    assert event.attributes[semconv.GEN_AI_INPUT_MESSAGES][0]["parts"][0]["content"] == "hello"
    assert event.attributes[semconv.GEN_AI_OUTPUT_MESSAGES][0]["parts"][0]["content"] == "ok"


def test_without_a_logger_provider_given_the_events_go_to_the_global_one(
    telemetry: Telemetry,
) -> None:
    # The suite's global logger provider hands its records to the running test's telemetry.
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, capture_content="EVENT_ONLY"
    )
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
    [event] = telemetry.events(semconv.EVENT_INFERENCE_DETAILS)
    assert event.span_id == telemetry.span("chat gpt-4o-mini").context.span_id


def test_span_and_event_mode_records_both(telemetry: Telemetry) -> None:
    handler = CallbackHandler(
        tracer_provider=telemetry.tracer_provider, capture_content="SPAN_AND_EVENT"
    )
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
    chat = telemetry.span("chat gpt-4o-mini")
    assert semconv.GEN_AI_OUTPUT_MESSAGES in chat.attributes
    assert any(e.name == semconv.EVENT_INFERENCE_DETAILS for e in chat.events)
