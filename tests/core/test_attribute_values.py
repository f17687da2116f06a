"""Framework values become valid OTLP attribute values in the core, whatever the path.

OTLP strings must be valid UTF-8 (a lone surrogate loses the whole export batch) and its
integers are int64. The hypothesis properties of ``tests/hardening/test_fuzz.py`` found
one path of each (a ``stop`` sequence, a rerank ``top_n``); these pin the other paths the
same fixes cover.
"""

from __future__ import annotations

import json

from semtrace import CaptureMode, Recorder, Settings, semconv
from semtrace._telemetry import attributes
from semtrace._telemetry.content import ContentPolicy
from semtrace._telemetry.operations import operation_for
from semtrace.records import (
    Document,
    Message,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    TextPart,
    ToolCallPart,
    Usage,
    WorkflowStart,
)
from semtrace.testing import Telemetry

SURROGATE = "\ud800"


def test_lone_surrogates_in_content_json_fields_are_replaced() -> None:
    message = Message(
        SURROGATE,
        [TextPart("hi"), ToolCallPart(SURROGATE, SURROGATE, {SURROGATE: 1})],
        name=SURROGATE,
        finish_reason=SURROGATE,
    )
    out = ContentPolicy(max_length=1000).messages_json([message])
    out.encode("utf-8")
    assert json.loads(out)[0]["role"] == "?"


def test_document_ids_with_a_lone_surrogate_are_replaced() -> None:
    end = RetrievalEnd([Document("text", id=SURROGATE), Document("text", id="ok")])
    start = RetrievalStart(query="q")
    attrs = operation_for(start).at_end(start, end)
    assert attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_IDS] == ["?", "ok"]


def test_prompt_name_with_a_lone_surrogate_is_replaced(telemetry: Telemetry) -> None:
    recorder = Recorder(
        Settings(capture=CaptureMode.NO_CONTENT), tracer_provider=telemetry.tracer_provider
    )
    recorder.start("root", None, WorkflowStart(name="w"))
    recorder.use_prompt("root", SURROGATE, "v" + SURROGATE)
    recorder.start("model", "root", ModelStart(provider="openai", model="m", messages=[]))
    recorder.end("model")
    recorder.end("root")
    attrs = telemetry.span("chat m").attributes or {}
    assert attrs[semconv.GEN_AI_PROMPT_NAME] == "?"
    assert attrs[semconv.SEMTRACE_PROMPT_VERSION] == "v?"


def test_request_params_past_int64_are_dropped() -> None:
    start = ModelStart(
        provider="openai", model="m", messages=[], params={"max_tokens": 2**63, "seed": 7}
    )
    attrs = attributes.request_attributes(start)
    assert semconv.GEN_AI_REQUEST_MAX_TOKENS not in attrs
    assert attrs[semconv.GEN_AI_REQUEST_SEED] == 7


def test_token_counts_past_int64_are_dropped() -> None:
    attrs = attributes.usage_attributes(
        Usage(input_tokens=2**63, output_tokens=5), "provider", None
    )
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5


def test_trace_token_totals_past_int64_are_left_out(telemetry: Telemetry) -> None:
    recorder = Recorder(
        Settings(capture=CaptureMode.NO_CONTENT), tracer_provider=telemetry.tracer_provider
    )
    recorder.start("root", None, WorkflowStart(name="w"))
    recorder.start("model", "root", ModelStart(provider="openai", model="m", messages=[]))
    recorder.end("model", ModelEnd(usage=Usage(input_tokens=2**63, output_tokens=5)))
    recorder.end("root")
    root = telemetry.span("invoke_workflow w").attributes or {}
    assert semconv.SEMTRACE_TRACE_INPUT_TOKENS not in root
