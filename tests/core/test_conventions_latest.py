"""The newest GenAI conventions, behind ``OTEL_SEMCONV_STABILITY_OPT_IN``.

With ``gen_ai_latest_experimental`` in the variable (``latest_conventions=True`` in the
settings), semtrace writes the names and shapes of ``semantic-conventions-genai``; without
it, the released 1.41 ones (the rest of the suite pins those down). Each test below states
one difference, as ``docs/conventions-latest.md`` lists them. The content these tests
capture is also checked against the newest conventions' schemas by the ``telemetry``
fixture (the spans' ``schema_url`` says which).
"""

from __future__ import annotations

import json

import pytest
from semtrace import CaptureMode, semconv, semconv_latest
from semtrace.config import Settings
from semtrace.records import (
    AgentStart,
    Document,
    EmbeddingEnd,
    EmbeddingStart,
    Message,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    TextPart,
    ToolStart,
    Usage,
    ValueEnd,
    WorkflowStart,
)
from semtrace.testing import Telemetry

LATEST = {"latest_conventions": True}
CAPTURE = {**LATEST, "capture": CaptureMode.SPAN_ONLY}


def _chat(**params: object) -> ModelStart:
    return ModelStart(
        "openai", "gpt-4o-mini", [Message("user", [TextPart("hello")])], params=params
    )


def _answer(usage: Usage | None = None) -> ModelEnd:
    return ModelEnd([Message("assistant", [TextPart("hi")])], usage=usage)


def _attrs(telemetry: Telemetry, name: str) -> dict[str, object]:
    return dict(telemetry.span(name).attributes or {})


def _one_point(telemetry: Telemetry, name: str) -> object:
    (point,) = telemetry.metric_points(name)
    return point


# --- the opt-in: read once, from the standard variable ----------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "gen_ai_latest_experimental",
        "http, gen_ai_latest_experimental",
        " gen_ai_latest_experimental ,database/dup",
        "something_unknown,gen_ai_latest_experimental",
    ],
)
def test_the_variable_listing_the_token_opts_in(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", value)
    assert Settings.resolve().latest_conventions is True


@pytest.mark.parametrize(
    "value", ["", "http", "gen_ai_latest", "GEN_AI", "gen_ai_latest_experimental_x"]
)
def test_other_or_unknown_tokens_are_ignored(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", value)
    assert Settings.resolve().latest_conventions is False


def test_the_released_conventions_are_the_default() -> None:
    assert Settings.resolve().latest_conventions is False
    assert Settings().latest_conventions is False


def test_an_explicit_argument_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    assert Settings.resolve(latest_conventions=False).latest_conventions is False


def test_a_non_boolean_choice_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="latest_conventions"):
        Settings(latest_conventions="yes")  # type: ignore[arg-type]


# --- schema_url -----------------------------------------------------------------------


def test_spans_and_metrics_claim_the_newest_schema(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer(Usage(input_tokens=3, output_tokens=1)))
    telemetry.metric_points(semconv_latest.METRIC_INFERENCE_DURATION)  # drains the worker
    (span,) = telemetry.spans()
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.schema_url == semconv_latest.SCHEMA_URL
    data = telemetry.metric_reader.get_metrics_data()
    assert data is not None
    schemas = {sm.scope.schema_url for rm in data.resource_metrics for sm in rm.scope_metrics}
    assert schemas == {semconv_latest.SCHEMA_URL}


def test_by_default_spans_claim_the_released_schema(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    (span,) = telemetry.spans()
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.schema_url == semconv.SCHEMA_URL


# --- chat ---------------------------------------------------------------------------------


def test_cache_writes_are_cache_write_tokens(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    usage = Usage(input_tokens=100, output_tokens=5, cache_creation_input_tokens=40)
    recorder.end("call", _answer(usage))
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert attrs[semconv_latest.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] == 40
    assert semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS not in attrs


def test_request_top_k_is_an_int(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat(top_k=40, temperature=0.2))
    recorder.end("call", _answer())
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert attrs[semconv.GEN_AI_REQUEST_TOP_K] == 40
    assert type(attrs[semconv.GEN_AI_REQUEST_TOP_K]) is int
    assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2


def test_request_top_k_stays_a_double_by_default(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, _chat(top_k=40))
    recorder.end("call", _answer())
    assert type(_attrs(telemetry, "chat gpt-4o-mini")[semconv.GEN_AI_REQUEST_TOP_K]) is float


def test_the_reasoning_effort_requested_is_the_reasoning_level(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat(reasoning_level="high"))
    recorder.end("call", _answer())
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert attrs[semconv_latest.GEN_AI_REQUEST_REASONING_LEVEL] == "high"


def test_by_default_no_reasoning_level_is_written(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, _chat(reasoning_level="high"))
    recorder.end("call", _answer())
    assert semconv_latest.GEN_AI_REQUEST_REASONING_LEVEL not in _attrs(
        telemetry, "chat gpt-4o-mini"
    )


def test_the_prompt_version_is_gen_ai_prompt_version(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("chain", None, WorkflowStart(name="qa"))
    recorder.use_prompt("chain", "answer-question", "3")
    recorder.start("call", "chain", _chat())
    recorder.end("call", _answer())
    recorder.end("chain")
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert attrs[semconv.GEN_AI_PROMPT_NAME] == "answer-question"
    assert attrs[semconv_latest.GEN_AI_PROMPT_VERSION] == "3"
    assert semconv.SEMTRACE_PROMPT_VERSION not in attrs


def test_a_prompt_version_an_integration_gives_is_renamed(telemetry: Telemetry) -> None:
    # LlamaIndex's integration hands the prompt over as attributes, under the 1.41 names.
    recorder = telemetry.recorder(**LATEST)
    given = {semconv.GEN_AI_PROMPT_NAME: "qa", semconv.SEMTRACE_PROMPT_VERSION: "2"}
    recorder.start("call", None, _chat(), attributes=given)
    recorder.end("call", _answer())
    attrs = _attrs(telemetry, "chat gpt-4o-mini")
    assert attrs[semconv_latest.GEN_AI_PROMPT_VERSION] == "2"
    assert semconv.SEMTRACE_PROMPT_VERSION not in attrs


# --- metrics of a model call ------------------------------------------------------------


def test_a_chat_call_duration_is_the_inference_duration(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    point = _one_point(telemetry, semconv_latest.METRIC_INFERENCE_DURATION)
    assert point.count == 1  # type: ignore[attr-defined]
    assert point.attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"  # type: ignore[attr-defined]
    assert telemetry.metric_points(semconv.METRIC_OPERATION_DURATION) == []


def test_a_failed_chat_call_duration_carries_its_error_type(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    recorder.fail("call", TimeoutError("slow"))
    point = _one_point(telemetry, semconv_latest.METRIC_INFERENCE_DURATION)
    assert point.attributes[semconv.ERROR_TYPE] == "TimeoutError"  # type: ignore[attr-defined]


def test_tokens_are_counters_by_modality(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    usage = Usage(
        input_tokens=100,
        output_tokens=20,
        cache_read_input_tokens=30,
        cache_creation_input_tokens=10,
        reasoning_output_tokens=5,
    )
    recorder.end("call", _answer(usage))
    expected = {
        semconv_latest.METRIC_USAGE_INPUT_TOKENS: 100,
        semconv_latest.METRIC_USAGE_OUTPUT_TOKENS: 20,
        semconv_latest.METRIC_USAGE_CACHE_READ_INPUT_TOKENS: 30,
        semconv_latest.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS: 10,
        semconv_latest.METRIC_USAGE_REASONING_OUTPUT_TOKENS: 5,
    }
    for name, tokens in expected.items():
        point = _one_point(telemetry, name)
        assert point.value == tokens, name  # type: ignore[attr-defined]
        attributes = point.attributes  # type: ignore[attr-defined]
        # The provider said how many, not which modality: the conventions' "unknown".
        assert attributes[semconv_latest.GEN_AI_TOKEN_MODALITY] == "unknown"
        assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
        assert semconv.GEN_AI_TOKEN_TYPE not in attributes
    assert telemetry.metric_points(semconv.METRIC_TOKEN_USAGE) == []


def test_tokens_tiktoken_counted_are_text(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)  # count_tokens is on by default
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    point = _one_point(telemetry, semconv_latest.METRIC_USAGE_INPUT_TOKENS)
    attributes = point.attributes  # type: ignore[attr-defined]
    assert attributes[semconv_latest.GEN_AI_TOKEN_MODALITY] == "text"
    assert attributes[semconv.SEMTRACE_USAGE_SOURCE] == "tiktoken"


def test_tokens_of_each_call_are_histograms_too(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer(Usage(input_tokens=100, output_tokens=20)))
    for name, tokens in (
        (semconv_latest.METRIC_OPERATION_INPUT_TOKENS, 100),
        (semconv_latest.METRIC_OPERATION_OUTPUT_TOKENS, 20),
    ):
        point = _one_point(telemetry, name)
        assert (point.count, point.sum) == (1, tokens)  # type: ignore[attr-defined]
        assert semconv_latest.GEN_AI_TOKEN_MODALITY not in point.attributes  # type: ignore[attr-defined]


def test_stream_metrics_are_the_inference_ones(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    for _ in range(3):
        recorder.chunk("call")
    recorder.end("call", _answer())
    assert _one_point(telemetry, semconv_latest.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK).count == 1  # type: ignore[attr-defined]
    point = _one_point(telemetry, semconv_latest.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK)
    assert point.count == 2  # type: ignore[attr-defined]
    assert telemetry.metric_points(semconv.METRIC_TIME_TO_FIRST_CHUNK) == []
    assert telemetry.metric_points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK) == []


# --- embeddings ---------------------------------------------------------------------------


def test_an_embeddings_call_has_its_own_duration_and_token_histograms(
    telemetry: Telemetry,
) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("embed", None, EmbeddingStart("openai", "text-embedding-3-small", ["a", "b"]))
    recorder.end("embed", EmbeddingEnd(dimension=3, usage=Usage(input_tokens=7)))
    duration = _one_point(telemetry, semconv_latest.METRIC_EMBEDDINGS_DURATION)
    assert duration.attributes[semconv.GEN_AI_OPERATION_NAME] == "embeddings"  # type: ignore[attr-defined]
    tokens = _one_point(telemetry, semconv_latest.METRIC_EMBEDDINGS_INPUT_TOKENS)
    assert (tokens.count, tokens.sum) == (1, 7)  # type: ignore[attr-defined]
    # Not an inference: none of the inference metrics.
    for name in (
        semconv_latest.METRIC_INFERENCE_DURATION,
        semconv_latest.METRIC_USAGE_INPUT_TOKENS,
        semconv_latest.METRIC_OPERATION_INPUT_TOKENS,
        semconv.METRIC_OPERATION_DURATION,
    ):
        assert telemetry.metric_points(name) == [], name


# --- retrieval ----------------------------------------------------------------------------


def _retrieve(telemetry: Telemetry, **settings: object) -> dict[str, object]:
    recorder = telemetry.recorder(**settings)
    recorder.start("r", None, RetrievalStart("capital of France?", "wiki", top_k=2))
    docs = [Document("Paris is the capital.", "d1", 0.9), Document("Lyon.", "d2", 0.4)]
    recorder.end("r", RetrievalEnd(docs))
    return _attrs(telemetry, "retrieval wiki")


def test_a_retrievals_top_k_is_retrieval_top_k_as_an_int(telemetry: Telemetry) -> None:
    attrs = _retrieve(telemetry, **LATEST)
    assert attrs[semconv_latest.GEN_AI_RETRIEVAL_TOP_K] == 2
    assert type(attrs[semconv_latest.GEN_AI_RETRIEVAL_TOP_K]) is int
    assert semconv.GEN_AI_REQUEST_TOP_K not in attrs


def test_retrieved_ids_and_scores_are_in_the_standard_documents(telemetry: Telemetry) -> None:
    attrs = _retrieve(telemetry, **LATEST)
    documents = json.loads(str(attrs[semconv.GEN_AI_RETRIEVAL_DOCUMENTS]))
    assert documents == [{"id": "d1", "score": 0.9}, {"id": "d2", "score": 0.4}]
    assert semconv.SEMTRACE_RETRIEVAL_DOCUMENT_IDS not in attrs
    assert semconv.SEMTRACE_RETRIEVAL_DOCUMENT_SCORES not in attrs
    assert attrs[semconv.SEMTRACE_RETRIEVAL_DOCUMENT_COUNT] == 2  # no standard count


def test_retrieved_content_joins_them_only_with_capture_on(telemetry: Telemetry) -> None:
    attrs = _retrieve(telemetry, **CAPTURE)
    documents = json.loads(str(attrs[semconv.GEN_AI_RETRIEVAL_DOCUMENTS]))
    assert documents[0] == {"id": "d1", "score": 0.9, "content": "Paris is the capital."}


def test_without_capture_no_document_text_is_recorded(telemetry: Telemetry) -> None:
    attrs = _retrieve(telemetry, **LATEST)
    assert "Paris" not in json.dumps({k: str(v) for k, v in attrs.items()})
    assert semconv.GEN_AI_RETRIEVAL_QUERY_TEXT not in attrs


# --- agents and workflows -----------------------------------------------------------------


def test_an_agents_input_and_output_are_standard_messages(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**CAPTURE)
    recorder.start("agent", None, AgentStart(name="helper", input="What is 2+2?"))
    recorder.end("agent", ValueEnd("4"))
    attrs = _attrs(telemetry, "invoke_agent helper")
    assert json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is 2+2?"}]}
    ]
    assert json.loads(str(attrs[semconv.GEN_AI_OUTPUT_MESSAGES])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "4"}]}
    ]
    assert semconv.SEMTRACE_INPUT_VALUE not in attrs
    assert semconv.SEMTRACE_OUTPUT_VALUE not in attrs


def test_a_workflows_input_and_output_are_standard_messages(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**CAPTURE)
    state = {"question": "capital?", "context": ["a", "b"]}
    recorder.start("wf", None, WorkflowStart(name="rag", input=state))
    recorder.end("wf", ValueEnd({"answer": "Paris"}))
    attrs = _attrs(telemetry, "invoke_workflow rag")
    (message,) = json.loads(str(attrs[semconv.GEN_AI_INPUT_MESSAGES]))
    # Not a string: the whole value, as JSON, in one text part (what 1.41's
    # semtrace.input.value holds, as a message).
    assert message["role"] == "user"
    assert json.loads(message["parts"][0]["content"]) == state
    (output,) = json.loads(str(attrs[semconv.GEN_AI_OUTPUT_MESSAGES]))
    assert output["role"] == "assistant"
    assert json.loads(output["parts"][0]["content"]) == {"answer": "Paris"}
    assert semconv.SEMTRACE_INPUT_VALUE not in attrs


def test_agent_content_stays_out_without_capture(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("agent", None, AgentStart(name="helper", input="secret question"))
    recorder.end("agent", ValueEnd("secret answer"))
    attrs = _attrs(telemetry, "invoke_agent helper")
    assert semconv.GEN_AI_INPUT_MESSAGES not in attrs
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in attrs


def test_an_internal_agent_span_carries_no_provider_or_agent_id(telemetry: Telemetry) -> None:
    # The newest conventions removed both from the internal invoke_agent span.
    recorder = telemetry.recorder(**LATEST)
    recorder.start("agent", None, AgentStart(name="helper", id="a-1", provider="openai"))
    recorder.start("call", "agent", _chat())
    recorder.end("call", _answer())
    recorder.end("agent")
    attrs = _attrs(telemetry, "invoke_agent helper")
    assert attrs[semconv.GEN_AI_AGENT_NAME] == "helper"
    assert semconv.GEN_AI_PROVIDER_NAME not in attrs
    assert semconv.GEN_AI_AGENT_ID not in attrs
    # Its model call keeps its provider.
    assert _attrs(telemetry, "chat gpt-4o-mini")[semconv.GEN_AI_PROVIDER_NAME] == "openai"


def test_by_default_an_agent_keeps_its_provider_and_id(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("agent", None, AgentStart(name="helper", id="a-1", provider="openai"))
    recorder.end("agent")
    attrs = _attrs(telemetry, "invoke_agent helper")
    assert (attrs[semconv.GEN_AI_PROVIDER_NAME], attrs[semconv.GEN_AI_AGENT_ID]) == (
        "openai",
        "a-1",
    )


# --- tools ------------------------------------------------------------------------------


def test_each_tool_run_records_its_duration(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("ok", None, ToolStart(name="search"))
    recorder.end("ok", ValueEnd("found"))
    recorder.start("broken", None, ToolStart(name="search"))
    recorder.fail("broken", RuntimeError("down"))
    points = telemetry.metric_points(semconv_latest.METRIC_EXECUTE_TOOL_DURATION)
    by_error = {p.attributes.get(semconv.ERROR_TYPE): p for p in points}
    assert set(by_error) == {None, "RuntimeError"}
    ok = by_error[None]
    assert ok.count == 1
    assert dict(ok.attributes) == {
        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
        semconv.GEN_AI_TOOL_NAME: "search",
        semconv.GEN_AI_TOOL_TYPE: "function",
    }


def test_by_default_a_tool_run_records_no_metric(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("ok", None, ToolStart(name="search"))
    recorder.end("ok", ValueEnd("found"))
    assert telemetry.metric_points(semconv_latest.METRIC_EXECUTE_TOOL_DURATION) == []


def test_a_failed_call_counts_zero_tokens_of_unknown_modality(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(**LATEST)
    recorder.start("call", None, _chat())
    recorder.fail("call", TimeoutError("slow"))
    for name in (
        semconv_latest.METRIC_USAGE_INPUT_TOKENS,
        semconv_latest.METRIC_USAGE_OUTPUT_TOKENS,
    ):
        point = _one_point(telemetry, name)
        assert point.value == 0  # type: ignore[attr-defined]
        assert point.attributes[semconv_latest.GEN_AI_TOKEN_MODALITY] == "unknown"  # type: ignore[attr-defined]
    # The per-call histograms are for calls that completed.
    assert telemetry.metric_points(semconv_latest.METRIC_OPERATION_INPUT_TOKENS) == []


def test_a_call_nobody_counted_counts_zero_tokens(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(latest_conventions=True, count_tokens=False)
    recorder.start("call", None, _chat())
    recorder.end("call", _answer())
    assert _one_point(telemetry, semconv_latest.METRIC_USAGE_INPUT_TOKENS).value == 0  # type: ignore[attr-defined]


def test_by_default_a_failed_call_records_no_token_point(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("call", None, _chat())
    recorder.fail("call", TimeoutError("slow"))
    assert telemetry.metric_points(semconv.METRIC_TOKEN_USAGE) == []
    assert telemetry.metric_points(semconv_latest.METRIC_USAGE_INPUT_TOKENS) == []


# --- the docs page lists every name --------------------------------------------------------


def test_the_docs_page_names_every_newest_name() -> None:
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "conventions-latest.md").read_text()
    names = [
        value
        for key, value in vars(semconv_latest).items()
        if key.startswith(("GEN_AI_", "METRIC_")) and isinstance(value, str)
    ]
    assert names

    def listed(name: str) -> bool:
        # A family may be listed once in full, then by its tails: `.output_tokens`, ...
        tails = [name.split(".", depth)[-1] for depth in range(2, name.count(".") + 1)]
        return f"`{name}`" in page or any(
            f"`.{tail}`" in page and f"`{name[: -len(tail)]}" in page for tail in tails
        )

    missing = [n for n in names if not listed(n)]
    assert missing == []
    assert semconv_latest.SCHEMA_URL in page


# --- backend views read the newest names too ------------------------------------------------


def test_the_langfuse_view_reads_cache_writes_and_the_prompt_version(telemetry: Telemetry) -> None:
    from semtrace.export.views.langfuse import LangfuseView

    recorder = telemetry.recorder(**LATEST)
    recorder.start("chain", None, WorkflowStart(name="qa"))
    recorder.use_prompt("chain", "answer-question", "v3")
    recorder.start("call", "chain", _chat())
    usage = Usage(input_tokens=100, output_tokens=5, cache_creation_input_tokens=40)
    recorder.end("call", _answer(usage))
    recorder.end("chain")
    view = LangfuseView()(telemetry.span("chat gpt-4o-mini"))
    assert json.loads(str(view["langfuse.observation.usage_details"]))["input_cache_creation"] == 40
    assert view["langfuse.observation.prompt.version"] == 3


def test_the_doctor_says_which_conventions_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    from semtrace.doctor.settings import conventions_finding

    default = conventions_finding()
    assert (default.severity.value, default.details["schema_url"]) == ("ok", semconv.SCHEMA_URL)
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http,gen_ai_latest_experimental")
    latest = conventions_finding()
    assert latest.severity.value == "info"
    assert latest.details["schema_url"] == semconv_latest.SCHEMA_URL
