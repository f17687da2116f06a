"""Each backend's sink speaks that backend's documented request format, to a local server.

* Phoenix: ``POST /v1/span_annotations`` (the schema of the Phoenix the e2e tests run is
  checked end to end in tests/e2e/test_evaluation_sinks_phoenix.py).
* Langfuse: ``POST /api/public/scores``, each body valid against Langfuse's published
  ``CreateScoreRequest`` (tests/data/contracts/langfuse_create_score.schema.json).
  No Langfuse server runs here: this is a contract test, not an end-to-end one.
* Datadog: ``POST /api/intake/llm-obs/v2/eval-metric``, each body valid against the
  documented evaluations request (tests/data/contracts/datadog_eval_metric.schema.json).
  No Datadog account is reached: a contract test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from semtrace.export.evaluations import DatadogSink, LangfuseSink, PhoenixSink

from tests.core.evaluation_servers import backend, record

CONTRACTS = Path(__file__).resolve().parents[1] / "data" / "contracts"
ENV = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "PHOENIX_COLLECTOR_ENDPOINT",
    "PHOENIX_API_KEY",
    "LANGFUSE_HOST",
    "LANGFUSE_BASE_URL",
    "LANGFUSE_PUBLIC_KEY",
    "LANGFUSE_SECRET_KEY",
    "DD_API_KEY",
    "DD_SITE",
    "DD_LLMOBS_ML_APP",
    "SEMTRACE_EVALUATION_SINKS",
    "SEMTRACE_BACKEND_VIEW",
)
TRACE_HEX = "0af7651916cd43dd8448eb211c80319c"
SPAN_HEX = "00f067aa0ba902b7"
BASIC = "Basic " + base64.b64encode(b"pk-lf-1:sk-lf-2").decode()

#: One of each kind of verdict semtrace sends.
VERDICTS = [
    record("groundedness", 0.2, "fail"),
    record("answer_relevance", 0.9, "pass", explanation=None),
    record("empty_output", 1.0, "fail", flag=True),
    record("groundedness_judge", 0.0, "fail", "LLM"),
    record("diagnosis", None, "unsupported_answer", metadata={"semtrace.diagnosis.signal": "x"}),
    record("user_feedback", 0.0, "wrong", "HUMAN", explanation="It is Lyon."),
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    yield


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((CONTRACTS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _annotations(server: Any) -> list[dict[str, Any]]:
    """Every annotation Phoenix was sent, in order, whatever the batches were."""
    return [a for post in server.posts() for a in post.json()["data"]]


def _metrics(server: Any) -> list[dict[str, Any]]:
    return [m for post in server.posts() for m in post.json()["data"]["attributes"]["metrics"]]


def _deliver(sink: Any, records: list[Any]) -> None:
    for each in records:
        sink.offer(each)
    assert sink.flush(10)
    assert not sink.dropped, (sink.dropped, sink.last_error)


# ---------------------------------------------------------------------------------- Phoenix


def test_phoenix_gets_one_annotation_per_verdict_on_its_span() -> None:
    with backend() as server:
        sink = PhoenixSink(server.url, backoff_s=0)
        _deliver(sink, VERDICTS)
    assert {post.path for post in server.posts()} == {"/v1/span_annotations"}
    data = _annotations(server)
    assert [(a["name"], a["annotator_kind"]) for a in data] == [
        ("groundedness", "CODE"),
        ("answer_relevance", "CODE"),
        ("empty_output", "CODE"),
        ("groundedness_judge", "LLM"),
        ("diagnosis", "CODE"),
        ("user_feedback", "HUMAN"),
    ]
    assert {a["span_id"] for a in data} == {SPAN_HEX}
    assert data[0]["result"] == {
        "label": "fail",
        "score": 0.2,
        "explanation": "12% of words in the sources",
    }
    assert data[4]["result"] == {
        "label": "unsupported_answer",
        "explanation": "12% of words in the sources",
    }
    assert data[0]["metadata"]["trace_id"] == TRACE_HEX


def test_phoenix_feedback_accumulates_and_semtrace_verdicts_upsert() -> None:
    with backend() as server:
        _deliver(PhoenixSink(server.url), [record("user_feedback", annotator="HUMAN")] * 2)
        _deliver(PhoenixSink(server.url), [record("groundedness")])
    *feedback, verdict = _annotations(server)
    first, second = (a["identifier"] for a in feedback)
    assert first != second  # two users' feedback: two annotations
    assert "identifier" not in verdict  # Phoenix upserts on (span, name, "")


def test_phoenix_url_and_key_come_from_the_otlp_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://phoenix:6006/v1/traces")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20px-key")
    sink = PhoenixSink()
    assert sink.target() == "http://phoenix:6006/v1/span_annotations"
    [(_, probe)] = sink.probes()
    assert probe.headers["authorization"] == "Bearer px-key"


def test_phoenix_api_key_and_collector_endpoint_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://elsewhere:4318")
    monkeypatch.setenv("PHOENIX_COLLECTOR_ENDPOINT", "https://app.phoenix.arize.com/s/me")
    monkeypatch.setenv("PHOENIX_API_KEY", "px-1")
    sink = PhoenixSink()
    assert sink.target() == "https://app.phoenix.arize.com/s/me/v1/span_annotations"
    assert sink.probes()[0][1].headers["authorization"] == "Bearer px-1"


def test_phoenix_over_grpc_needs_its_http_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://phoenix:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(ValueError, match="PHOENIX_COLLECTOR_ENDPOINT"):
        PhoenixSink()


# --------------------------------------------------------------------------------- Langfuse


def test_langfuse_scores_match_the_published_create_score_request() -> None:
    validator = _validator("langfuse_create_score.schema.json")
    with backend() as server:
        _deliver(LangfuseSink(server.url, public_key="pk-lf-1", secret_key="sk-lf-2"), VERDICTS)
    posts = server.posts()
    assert len(posts) == len(VERDICTS)  # the scores API takes one score per request
    for post in posts:
        assert post.path == "/api/public/scores"
        assert post.headers["authorization"] == BASIC
        errors = [e.message for e in validator.iter_errors(post.json())]
        assert not errors, (post.json(), errors)


def test_langfuse_scores_name_the_trace_and_observation_in_otlp_hex_ids() -> None:
    with backend() as server:
        _deliver(LangfuseSink(server.url, public_key="pk", secret_key="sk"), [record()])
    body = server.posts()[0].json()
    assert (body["traceId"], body["observationId"]) == (TRACE_HEX, SPAN_HEX)


def test_langfuse_data_types_fit_each_verdict() -> None:
    with backend() as server:
        _deliver(LangfuseSink(server.url, public_key="pk", secret_key="sk"), VERDICTS)
    scores = {p.json()["name"]: p.json() for p in server.posts()}
    assert (scores["groundedness"]["dataType"], scores["groundedness"]["value"]) == ("NUMERIC", 0.2)
    assert scores["groundedness"]["comment"] == "fail: 12% of words in the sources"
    assert scores["groundedness"]["metadata"]["label"] == "fail"
    assert (scores["empty_output"]["dataType"], scores["empty_output"]["value"]) == ("BOOLEAN", 1)
    assert (scores["diagnosis"]["dataType"], scores["diagnosis"]["value"]) == (
        "CATEGORICAL",
        "unsupported_answer",
    )
    feedback = scores["user_feedback"]
    assert (feedback["dataType"], feedback["value"], feedback["comment"]) == (
        "NUMERIC",
        0.0,
        "wrong: It is Lyon.",
    )
    assert feedback["metadata"]["annotator"] == "HUMAN"


def test_langfuse_semtrace_scores_have_stable_ids_and_feedback_new_ones() -> None:
    with backend() as server:
        sink = LangfuseSink(server.url, public_key="pk", secret_key="sk")
        _deliver(sink, [record(), record(), record("user_feedback", annotator="HUMAN")] * 1)
        _deliver(sink, [record("user_feedback", annotator="HUMAN")])
    ids = [p.json()["id"] for p in server.posts()]
    assert ids[0] == ids[1]  # Langfuse upserts on id: a resend never doubles a verdict
    assert len({ids[2], ids[3], ids[0]}) == 3


def test_langfuse_reuses_the_otlp_exporters_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://cloud.langfuse.com/api/public/otel")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization={BASIC.replace(' ', '%20')}")
    sink = LangfuseSink()
    assert sink.target() == "https://cloud.langfuse.com/api/public/scores"
    health, scores = sink.probes()
    assert health[1].url == "https://cloud.langfuse.com/api/public/health"
    assert scores[1].headers["authorization"] == BASIC


def test_langfuse_without_credentials_raises_with_what_to_set() -> None:
    with pytest.raises(ValueError, match="LANGFUSE_PUBLIC_KEY"):
        LangfuseSink("https://cloud.langfuse.com")


# ---------------------------------------------------------------------------------- Datadog


def test_datadog_metrics_match_the_documented_evaluations_request() -> None:
    validator = _validator("datadog_eval_metric.schema.json")
    with backend([202]) as server:
        _deliver(DatadogSink("dd-key", ml_app="rag-demo", api_base=server.url), VERDICTS)
    for post in server.posts():
        assert post.path == "/api/intake/llm-obs/v2/eval-metric"
        assert post.headers["dd-api-key"] == "dd-key"
        errors = [e.message for e in validator.iter_errors(post.json())]
        assert not errors, errors
    assert len(_metrics(server)) == len(VERDICTS)


def test_datadog_joins_on_decimal_ids_tagged_source_otel() -> None:
    with backend([202]) as server:
        _deliver(DatadogSink("k", ml_app="rag-demo", api_base=server.url), [record()])
    [metric] = _metrics(server)
    assert metric["join_on"] == {
        "span": {"span_id": str(int(SPAN_HEX, 16)), "trace_id": str(int(TRACE_HEX, 16))}
    }
    assert "source:otel" in metric["tags"]
    assert metric["ml_app"] == "rag-demo"
    assert (metric["metric_type"], metric["score_value"], metric["assessment"]) == (
        "score",
        0.2,
        "fail",
    )
    assert metric["reasoning"] == "12% of words in the sources"


def test_datadog_labels_only_verdicts_are_categorical() -> None:
    with backend([202]) as server:
        _deliver(DatadogSink("k", ml_app="a", api_base=server.url), [VERDICTS[4]])
    [metric] = _metrics(server)
    assert (metric["metric_type"], metric["categorical_value"]) == (
        "categorical",
        "unsupported_answer",
    )


def test_datadog_key_site_and_ml_app_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "dd-api-key=abc,dd-otlp-source=llmobs")
    monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=rag-demo,env=prod")
    sink = DatadogSink()
    assert sink.target() == "https://api.datadoghq.eu/api/intake/llm-obs/v2/eval-metric"
    assert sink.ml_app == "rag-demo"
    [(_, probe)] = sink.probes()
    assert probe.url == "https://api.datadoghq.eu/api/v1/validate"
    assert probe.headers["dd-api-key"] == "abc"


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [({}, "DD_API_KEY"), ({"api_key": "k"}, "DD_LLMOBS_ML_APP")],
)
def test_datadog_without_key_or_app_raises_with_what_to_set(
    kwargs: dict[str, str], missing: str
) -> None:
    with pytest.raises(ValueError, match=missing):
        DatadogSink(**kwargs)
