"""Contract tests of the Langfuse view against Langfuse's documented OTLP mapping.

Langfuse's server cannot run here, so its ingestion rules are transcribed below (the
``langfuse_*`` functions) from its source, langfuse/langfuse:

* ``packages/shared/src/server/otel/ObservationTypeMapper.ts`` (``web/src/features/otel/
  server/`` in older releases): ``langfuse.observation.type`` first (priority 1), then
  ``openinference.span.kind``, then ``gen_ai.operation.name`` (chat, text_completion,
  embeddings, invoke_agent, create_agent, execute_tool only), then ``gen_ai.tool.name``,
  then any model attribute means GENERATION; else SPAN.
* ``packages/shared/src/server/otel/OtelIngestionProcessor.ts``: ``extractUsageDetails``
  parses ``langfuse.observation.usage_details`` (JSON) first and otherwise turns every
  ``gen_ai.usage.X`` but ``gen_ai.usage.cost`` into usage type ``X`` (``input_tokens`` ->
  ``input``, ``output_tokens`` -> ``output``); ``extractCostDetails`` parses
  ``langfuse.observation.cost_details`` first, else ``gen_ai.usage.cost`` -> ``total``;
  ``extractCompletionStartTime`` reads ``langfuse.observation.completion_start_time`` (an
  ISO date); prompt from ``langfuse.observation.prompt.name`` / ``.version``; trace name
  from ``langfuse.trace.name``; tags from ``langfuse.trace.tags``; user from
  ``langfuse.user.id`` / ``user.id``; session from ``langfuse.session.id`` / ``session.id``
  / ``gen_ai.conversation.id``.
* Its default model prices (``worker/src/constants/default-model-prices.json``) price the
  usage types ``input``, ``input_cache_read``, ``input_cache_creation`` and ``output`` for
  OpenAI and Anthropic models.
* Its OpenTelemetry docs page (langfuse.com/integrations/native/opentelemetry, "property
  mapping") lists the same ``langfuse.*`` attributes.

Each span goes through the real Recorder, the real SDK, the view and the real OTLP
protobuf encoder, then through these rules, as Langfuse receives it.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import semtrace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import Recorder, Settings
from semtrace.cost import PriceTable
from semtrace.export.views import ViewExporter
from semtrace.export.views.langfuse import LangfuseView, usage_details
from semtrace.records import Usage, ValueEnd, WorkflowStart

from tests.core.views_pipeline import (
    CHAT_COST,
    CHAT_USAGE,
    EMBEDDING_COST,
    TTFC_S,
    price_table,
    recorded_spans,
    run_pipeline,
)

# ---------------------------------------------------------------- Langfuse's rules, transcribed

_TYPE_DIRECT = {
    "span": "SPAN",
    "generation": "GENERATION",
    "event": "EVENT",
    "embedding": "EMBEDDING",
    "agent": "AGENT",
    "tool": "TOOL",
    "chain": "CHAIN",
    "retriever": "RETRIEVER",
    "guardrail": "GUARDRAIL",
    "evaluator": "EVALUATOR",
}
_TYPE_GENAI = {
    "chat": "GENERATION",
    "completion": "GENERATION",
    "text_completion": "GENERATION",
    "generate_content": "GENERATION",
    "generate": "GENERATION",
    "embeddings": "EMBEDDING",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "execute_tool": "TOOL",
}
_MODEL_KEYS = ("langfuse.observation.model.name", "gen_ai.request.model", "gen_ai.response.model")
_USAGE_KEY_MAPPING = {
    "prompt_tokens": "input",
    "completion_tokens": "output",
    "total_tokens": "total",
    "input_tokens": "input",
    "output_tokens": "output",
}


def langfuse_observation_type(attrs: Mapping[str, Any]) -> str:
    """ObservationTypeMapperRegistry.mapToObservationType, for non-SDK, non-Vercel spans."""
    for key, table in (
        ("langfuse.observation.type", _TYPE_DIRECT),
        ("gen_ai.operation.name", _TYPE_GENAI),
    ):
        if attrs.get(key) in table:
            return table[attrs[key]]
    if attrs.get("gen_ai.tool.name") or attrs.get("gen_ai.tool.call.id"):
        return "TOOL"
    if any(attrs.get(k) for k in _MODEL_KEYS):
        return "GENERATION"
    return "SPAN"


def langfuse_usage_details(attrs: Mapping[str, Any]) -> dict[str, float]:
    """OtelIngestionProcessor.extractUsageDetails for an instrumentation scope not special-cased."""
    if attrs.get("langfuse.observation.usage_details"):
        return dict(json.loads(attrs["langfuse.observation.usage_details"]))
    out: dict[str, float] = {}
    for key, value in attrs.items():
        if key.startswith("gen_ai.usage.") and key != "gen_ai.usage.cost":
            short = key.removeprefix("gen_ai.usage.")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[_USAGE_KEY_MAPPING.get(short, short)] = value
    return out


def langfuse_cost_details(attrs: Mapping[str, Any]) -> dict[str, float]:
    """OtelIngestionProcessor.extractCostDetails."""
    if attrs.get("langfuse.observation.cost_details"):
        return dict(json.loads(attrs["langfuse.observation.cost_details"]))
    if attrs.get("gen_ai.usage.cost"):
        return {"total": attrs["gen_ai.usage.cost"]}
    return {}


def langfuse_observation(span: Mapping[str, Any]) -> dict[str, Any]:
    """The observation Langfuse makes of one OTLP span (the fields these tests check)."""
    attrs = span["attributes"]
    tags = attrs.get("langfuse.trace.tags") or []
    return {
        "type": langfuse_observation_type(attrs),
        "usageDetails": langfuse_usage_details(attrs),
        "costDetails": langfuse_cost_details(attrs),
        "completionStartTime": attrs.get("langfuse.observation.completion_start_time"),
        "promptName": attrs.get("langfuse.observation.prompt.name"),
        "promptVersion": attrs.get("langfuse.observation.prompt.version"),
        "traceName": attrs.get("langfuse.trace.name"),
        "tags": [str(t) for t in tags],
        "userId": attrs.get("langfuse.user.id") or attrs.get("user.id"),
        "sessionId": (
            attrs.get("langfuse.session.id")
            or attrs.get("session.id")
            or attrs.get("gen_ai.conversation.id")
        ),
    }


# ------------------------------------------------------------------------- OTLP, as sent


def _plain(value: AnyValue) -> Any:
    """OtelIngestionProcessor.convertValueToPlainJavascript."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def over_otlp(spans: Sequence[ReadableSpan]) -> dict[str, dict[str, Any]]:
    """The spans as Langfuse receives them (OTLP protobuf), by name."""
    request = encode_spans(spans)
    out: dict[str, dict[str, Any]] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                attributes = {a.key: _plain(a.value) for a in span.attributes}
                out[span.name] = {
                    "attributes": attributes,
                    "start_time_unix_nano": span.start_time_unix_nano,
                }
    return out


@pytest.fixture(scope="module")
def with_view() -> dict[str, dict[str, Any]]:
    exporter = InMemorySpanExporter()
    run_pipeline(ViewExporter(exporter, LangfuseView(price_table()), "langfuse"))
    return {
        name: langfuse_observation(s)
        for name, s in over_otlp(exporter.get_finished_spans()).items()
    }


@pytest.fixture(scope="module")
def without_view() -> dict[str, dict[str, Any]]:
    return {name: langfuse_observation(s) for name, s in over_otlp(recorded_spans()).items()}


# --------------------------------------------------------------------------------- tests


@pytest.mark.parametrize(
    ("span", "observation_type"),
    [
        pytest.param("chat gpt-4o-mini", "GENERATION", id="chat"),
        pytest.param("embeddings text-embedding-3-small", "EMBEDDING", id="embeddings"),
        pytest.param("retrieval docs", "RETRIEVER", id="retrieval"),
        pytest.param("execute_tool search", "TOOL", id="execute_tool"),
        pytest.param("invoke_agent researcher", "AGENT", id="invoke_agent"),
        pytest.param("invoke_workflow rag", "CHAIN", id="invoke_workflow"),
        pytest.param("evaluate judge", "EVALUATOR", id="evaluation"),
        # Langfuse has no reranker type; without one a rerank (it names a model) would be
        # a generation.
        pytest.param("rerank rerank-v1", "RETRIEVER", id="rerank"),
        pytest.param("parser", "CHAIN", id="framework-step"),
    ],
)
def test_each_span_type_maps_to_its_observation_type(
    with_view: dict[str, dict[str, Any]], span: str, observation_type: str
) -> None:
    assert with_view[span]["type"] == observation_type


@pytest.mark.parametrize("span", ["retrieval docs", "invoke_workflow rag", "evaluate judge"])
def test_without_the_view_these_types_fall_through_to_plain_spans(
    without_view: dict[str, dict[str, Any]], span: str
) -> None:
    assert without_view[span]["type"] == "SPAN"


def test_chat_usage_keeps_uncached_input_apart_from_cache_reads_and_writes(
    with_view: dict[str, dict[str, Any]],
) -> None:
    assert with_view["chat gpt-4o-mini"]["usageDetails"] == {
        "input": 500,
        "input_cache_read": 400,
        "input_cache_creation": 100,
        "output": 50,
        "total": 1050,
    }


def test_without_the_view_cached_tokens_are_an_unpriced_usage_type(
    without_view: dict[str, dict[str, Any]],
) -> None:
    usage = without_view["chat gpt-4o-mini"]["usageDetails"]
    assert usage["input"] == 1000  # cached tokens priced again at the uncached rate
    assert "cache_read.input_tokens" in usage
    assert "input_cache_read" not in usage


def test_chat_cost_details_have_the_total_and_its_parts_in_usage_types(
    with_view: dict[str, dict[str, Any]],
) -> None:
    cost = with_view["chat gpt-4o-mini"]["costDetails"]
    assert cost["total"] == pytest.approx(CHAT_COST)
    assert cost == pytest.approx(
        {
            "total": CHAT_COST,
            "input": 500 * 0.15 / 1e6,
            "input_cache_read": 400 * 0.075 / 1e6,
            "input_cache_creation": 100 * 0.3 / 1e6,
            "output": 50 * 0.6 / 1e6,
        }
    )
    # Each cost part is keyed by the usage type it prices.
    usage = with_view["chat gpt-4o-mini"]["usageDetails"]
    assert set(cost) - {"total"} <= set(usage)


def test_without_the_view_semtraces_cost_is_not_langfuses(
    without_view: dict[str, dict[str, Any]],
) -> None:
    chat = without_view["chat gpt-4o-mini"]
    assert chat["costDetails"] == {}
    assert not any("cost" in key for key in chat["usageDetails"])


def test_embeddings_usage_and_cost(with_view: dict[str, dict[str, Any]]) -> None:
    span = with_view["embeddings text-embedding-3-small"]
    assert span["usageDetails"] == {"input": 5, "output": 0, "total": 5}
    assert span["costDetails"] == pytest.approx({"total": EMBEDDING_COST, "input": EMBEDDING_COST})


@pytest.mark.parametrize(
    "span", ["retrieval docs", "execute_tool search", "invoke_agent researcher"]
)
def test_spans_without_usage_carry_no_usage_or_cost(
    with_view: dict[str, dict[str, Any]], span: str
) -> None:
    assert with_view[span]["usageDetails"] == {}
    assert with_view[span]["costDetails"] == {}


def test_chat_links_its_prompt_by_name_and_integer_version(
    with_view: dict[str, dict[str, Any]],
) -> None:
    chat = with_view["chat gpt-4o-mini"]
    assert (chat["promptName"], chat["promptVersion"]) == ("qa", 3)


def test_completion_start_time_is_start_plus_time_to_first_chunk() -> None:
    exporter = InMemorySpanExporter()
    run_pipeline(ViewExporter(exporter, LangfuseView(price_table()), "langfuse"))
    chat = over_otlp(exporter.get_finished_spans())["chat gpt-4o-mini"]
    attrs = chat["attributes"]
    stamp = attrs["langfuse.observation.completion_start_time"]
    assert stamp.endswith("Z")
    moment = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    start = datetime.datetime.fromtimestamp(
        chat["start_time_unix_nano"] / 1e9, tz=datetime.timezone.utc
    )
    ttfc = attrs["gen_ai.response.time_to_first_chunk"]
    assert ttfc >= TTFC_S
    assert (moment - start).total_seconds() == pytest.approx(ttfc, abs=2e-6)


def test_trace_name_and_tags(with_view: dict[str, dict[str, Any]]) -> None:
    root = with_view["invoke_workflow rag"]
    assert root["traceName"] == "rag"
    # Tags on every span of the run: Langfuse aggregates each observation's tags onto its
    # trace. (A background evaluator's late span carries no run context.)
    run = {n: s for n, s in with_view.items() if n != "evaluate judge"}
    assert len(run) == 8
    assert all(span["tags"] == ["beta", "rag"] for span in run.values())
    assert [n for n, span in with_view.items() if span["traceName"]] == ["invoke_workflow rag"]


def test_user_and_session_reach_langfuse_on_every_span(
    with_view: dict[str, dict[str, Any]],
) -> None:
    for name, span in with_view.items():
        if name != "evaluate judge":  # a background evaluator's late span: no run context
            assert (span["userId"], span["sessionId"]) == ("u-1", "s-1"), name


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param(
            CHAT_USAGE,
            {"input": 500, "input_cache_read": 400, "input_cache_creation": 100, "output": 50},
            id="cached",
        ),
        pytest.param(
            Usage(input_tokens=10, output_tokens=5),
            {"input": 10, "output": 5},
            id="uncached",
        ),
        pytest.param(
            Usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=30),
            {"input": 0, "input_cache_read": 10, "output": 5},
            id="impossible-counts-never-negative",
        ),
        pytest.param(
            Usage(input_tokens=10, output_tokens=50, reasoning_output_tokens=40),
            {"input": 10, "output": 50},
            id="reasoning-stays-in-output",
        ),
    ],
)
def test_usage_details_parts_add_up_to_the_total(usage: Any, expected: dict[str, int]) -> None:
    details = usage_details(usage)
    assert {k: v for k, v in details.items() if k != "total"} == expected
    assert details["total"] == (usage.input_tokens or 0) + (usage.output_tokens or 0)


def test_cost_in_another_currency_is_left_to_langfuse() -> None:
    view = LangfuseView(price_table())
    attrs = {
        "semtrace.usage.cost.amount": 0.5,
        "semtrace.usage.cost.currency": "EUR",
        "gen_ai.request.model": "gpt-4o-mini",
    }
    assert view.cost_details(attrs, CHAT_USAGE) == {}


def test_cost_parts_left_out_when_they_do_not_add_up_to_the_spans_cost() -> None:
    # The span was priced with a table the view does not know: send the total alone.
    view = LangfuseView(price_table())
    attrs = {
        "semtrace.usage.cost.amount": 1.0,
        "semtrace.usage.cost.currency": "USD",
        "gen_ai.request.model": "gpt-4o-mini",
    }
    assert view.cost_details(attrs, CHAT_USAGE) == {"total": 1.0}


def test_cost_parts_survive_the_rounding_of_the_spans_cost() -> None:
    # semtrace rounds the span's cost to 10 decimals: 7 tokens at 0.123456/M is
    # 8.64192e-7, recorded as 8.642e-7 (a relative difference of about 1e-5).
    table = PriceTable.load({"odd": {"input": 0.123456, "output": 0}}, include_defaults=False)
    usage = Usage(input_tokens=7, output_tokens=0)
    attrs = {
        "semtrace.usage.cost.amount": round(7 * 0.123456 / 1e6, 10),
        "semtrace.usage.cost.currency": "USD",
        "gen_ai.request.model": "odd",
    }
    details = LangfuseView(table).cost_details(attrs, usage)
    assert details["input"] == pytest.approx(7 * 0.123456 / 1e6)


def test_without_the_view_a_rerank_is_taken_for_a_generation(
    without_view: dict[str, dict[str, Any]],
) -> None:
    assert without_view["rerank rerank-v1"]["type"] == "GENERATION"


def test_late_feedback_never_renames_or_retags_its_trace() -> None:
    """The feedback span's parent is remote, but it is not the trace's root: Langfuse would
    apply a ``langfuse.trace.*`` attribute of it to the whole trace, however late."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(ViewExporter(exporter, LangfuseView(price_table()), "langfuse"))
    )
    settings = Settings(quality_signals=False, background=False)  # the root ends at once
    recorder = Recorder(settings, tracer_provider=provider)
    with semtrace.context(tags=["beta"]):
        recorder.start("wf", None, WorkflowStart(name="rag", input="What is semtrace?"))
        recorder.end("wf", ValueEnd(output="A tracer."))
        assert semtrace.feedback("wf", 0.0, label="wrong", comment="Not a tracer.")
    provider.shutdown()
    spans = over_otlp(exporter.get_finished_spans())
    feedback = spans["feedback user_feedback"]["attributes"]
    assert not [key for key in feedback if key.startswith("langfuse.trace.")]
    assert langfuse_observation(spans["feedback user_feedback"])["type"] == "EVALUATOR"
    assert langfuse_observation(spans["invoke_workflow rag"])["traceName"] == "rag"
