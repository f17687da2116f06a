"""What the GenAI conventions (1.41) ask of spans and metrics, beyond their content schemas.

(The content attributes of every test are checked against the schemas by the suite's
``telemetry`` fixture; these are the rules a schema cannot state.)
"""

from __future__ import annotations

import json

from semtrace import CaptureMode, semconv
from semtrace.records import (
    AgentStart,
    Document,
    Message,
    ModelEnd,
    RetrievalEnd,
    RetrievalStart,
    TextPart,
    ToolCallPart,
    WorkflowStart,
)
from semtrace.testing import Telemetry

from tests.core.model_calls import answer, chat


def _attrs(telemetry: Telemetry, name: str) -> dict[str, object]:
    return dict(telemetry.span(name).attributes or {})


# --- finish reasons ---


def test_a_failed_model_call_finishes_with_error(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, chat())
    recorder.fail("call", TimeoutError("slow"))
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert list(attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS]) == ["error"]  # type: ignore[call-overload]


def test_a_cancelled_model_call_finishes_with_error(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, chat())
    recorder.cancel("call")
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert list(attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS]) == ["error"]  # type: ignore[call-overload]


def test_a_failed_tool_gets_no_finish_reason(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("run", None, WorkflowStart(name="pipeline"))
    recorder.fail("run", ValueError("no"))
    assert semconv.GEN_AI_RESPONSE_FINISH_REASONS not in _attrs(
        telemetry, "invoke_workflow pipeline"
    )


def _output(telemetry: Telemetry, end: ModelEnd) -> list[dict[str, object]]:
    recorder = telemetry.recorder(capture=CaptureMode.SPAN_ONLY)
    recorder.start("call", None, chat())
    recorder.end("call", end)
    value = _attrs(telemetry, "chat gpt-4o-mini")[semconv.GEN_AI_OUTPUT_MESSAGES]
    return json.loads(str(value))  # type: ignore[no-any-return]


def test_an_output_message_takes_the_finish_reason_the_call_reported(
    telemetry: Telemetry,
) -> None:
    end = answer(finish_reasons=["length"])
    assert _output(telemetry, end)[0]["finish_reason"] == "length"


def test_an_output_message_with_no_reported_reason_is_not_said_to_have_stopped(
    telemetry: Telemetry,
) -> None:
    end = answer()
    assert _output(telemetry, end)[0]["finish_reason"] == "unknown"


def test_an_output_message_calling_tools_finished_with_tool_call(telemetry: Telemetry) -> None:
    end = ModelEnd([Message("assistant", [ToolCallPart("c1", "add", {"a": 1})])])
    assert _output(telemetry, end)[0]["finish_reason"] == "tool_call"


# --- retrieved documents ---


def test_a_document_without_a_score_has_no_score_key(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(capture=CaptureMode.SPAN_ONLY)
    recorder.start("r", None, RetrievalStart(query="q"))
    recorder.end("r", RetrievalEnd([Document(content="text", id=None, score=None)]))
    value = _attrs(telemetry, "retrieval")[semconv.GEN_AI_RETRIEVAL_DOCUMENTS]
    assert json.loads(str(value)) == [{"content": "text"}]


# --- names ---


def test_a_workflow_without_a_name_records_none(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("run", None, WorkflowStart(name=""))
    recorder.end("run")
    assert semconv.GEN_AI_WORKFLOW_NAME not in _attrs(telemetry, "invoke_workflow")


def test_an_agent_without_a_name_records_none(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("run", None, AgentStart(name=""))
    recorder.end("run")
    assert semconv.GEN_AI_AGENT_NAME not in _attrs(telemetry, "invoke_agent")


def test_an_agent_takes_the_provider_of_its_first_model_call(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("agent", None, AgentStart(name="helper"))
    recorder.start("call", "agent", chat())
    recorder.end("call", answer())
    recorder.end("agent")
    assert _attrs(telemetry, "invoke_agent helper")[semconv.GEN_AI_PROVIDER_NAME] == "openai"


# --- streaming metrics ---


def test_a_stream_records_its_time_to_first_chunk_once(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, chat())
    for _ in range(3):
        recorder.chunk("call")
    recorder.end("call", answer())
    (point,) = telemetry.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert point.count == 1
    assert point.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


def test_a_stream_records_the_time_of_each_chunk_after_the_first(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, chat())
    for _ in range(4):
        recorder.chunk("call")
    recorder.end("call", answer())
    (point,) = telemetry.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 3


def test_a_call_that_did_not_stream_records_no_chunk_metrics(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, chat())
    recorder.end("call", answer())
    assert telemetry.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK) == []
    assert telemetry.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK) == []


# --- media ---


def test_inline_media_longer_than_the_content_limit_is_left_out_whole() -> None:
    from semtrace._telemetry.content import ContentPolicy
    from semtrace.records import MediaPart

    image = MediaPart("image", "image/png", data="A" * 1000)
    message = Message("user", [TextPart("what is it?"), image])
    [out] = json.loads(ContentPolicy(max_length=400).messages_json([message]))
    assert out["parts"][1] == {
        "type": "blob",
        "modality": "image",
        "mime_type": "image/png",
        "content": "",
        "omitted_length": 1000,
    }


def test_a_data_url_is_never_a_uri() -> None:
    from semtrace.normalize import media_part

    part = media_part("image", url="data:image/jpeg;base64,/9j/4AAQ")
    assert part is not None and part.uri is None
    assert (part.mime_type, part.data) == ("image/jpeg", "/9j/4AAQ")


def test_tool_call_arguments_sent_as_json_text_are_written_as_an_object() -> None:
    from semtrace._telemetry.content import ContentPolicy

    call = ToolCallPart("add", "c1", '{"a": 1, "b": 2}')
    [out] = json.loads(ContentPolicy().messages_json([Message("assistant", [call])]))
    assert out["parts"][0]["arguments"] == {"a": 1, "b": 2}
