"""Which evaluation sinks run: configure(evaluation_sinks=...), else the variable, else the view.

Named sinks that cannot work raise at configure time; a sink the view brings by itself and
that lacks credentials only warns. configure() itself runs in a fresh interpreter (global
providers can be set once per process) against a local server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from semtrace.config import parse_evaluation_sinks
from semtrace.export.evaluations import DatadogSink, LangfuseSink, PhoenixSink
from semtrace.export.evaluations.registry import choose

from tests.core.evaluation_servers import backend
from tests.core.test_evaluation_sink_backends import ENV


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def everything_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """What each sink needs, as an app that exports to all three would have it."""
    monkeypatch.setenv("PHOENIX_COLLECTOR_ENDPOINT", "http://phoenix:6006")
    monkeypatch.setenv("LANGFUSE_HOST", "https://cloud.langfuse.com")
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk")
    monkeypatch.setenv("DD_API_KEY", "dd")


def _kinds(sinks: list[object]) -> list[type]:
    return [type(s) for s in sinks]


@pytest.mark.usefixtures("everything_set")
def test_named_sinks_run_in_the_order_given() -> None:
    assert _kinds(choose("datadog, Phoenix", "none", "rag")) == [DatadogSink, PhoenixSink]
    assert _kinds(choose(["langfuse"], "phoenix", "rag")) == [LangfuseSink]


def test_a_sink_object_is_used_as_it_is() -> None:
    mine = PhoenixSink("http://phoenix:6006")
    assert choose([mine], "langfuse") == [mine]


@pytest.mark.usefixtures("everything_set")
def test_none_turns_the_views_sink_off() -> None:
    assert choose("none", "phoenix") == []


def test_an_unknown_name_raises_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="phoenix, langfuse, datadog, none"):
        choose("honeycomb", "none")
    with pytest.raises(ValueError, match="cannot be combined"):
        parse_evaluation_sinks("none,phoenix")


def test_something_else_than_a_name_or_a_sink_raises() -> None:
    with pytest.raises(TypeError, match="neither a sink name nor an EvaluationSink"):
        choose([42], "none")  # type: ignore[list-item]


def test_a_named_sink_without_its_credentials_raises_at_configure_time() -> None:
    with pytest.raises(ValueError, match="DD_API_KEY"):
        choose("datadog", "none", "rag")


@pytest.mark.usefixtures("everything_set")
def test_the_variable_is_read_when_no_argument_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "langfuse,datadog")
    assert _kinds(choose(None, "phoenix", "rag")) == [LangfuseSink, DatadogSink]
    assert _kinds(choose("phoenix", "none")) == [PhoenixSink]  # the argument wins


@pytest.mark.usefixtures("everything_set")
def test_a_bad_variable_warns_and_the_view_decides(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SEMTRACE_EVALUATION_SINKS", "honeycomb")
    assert _kinds(choose(None, "phoenix")) == [PhoenixSink]
    assert "SEMTRACE_EVALUATION_SINKS" in caplog.text


@pytest.mark.usefixtures("everything_set")
def test_the_phoenix_and_langfuse_views_bring_their_sinks() -> None:
    assert _kinds(choose(None, "phoenix")) == [PhoenixSink]
    assert _kinds(choose(None, "langfuse")) == [LangfuseSink]
    assert choose(None, "none") == []


def test_a_views_sink_without_credentials_is_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://cloud.langfuse.com/api/public/otel")
    assert choose(None, "langfuse") == []
    assert "langfuse view's evaluation sink is off" in caplog.text


def test_datadogs_ml_app_defaults_to_the_configured_service_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DD_API_KEY", "dd")
    [sink] = choose(["datadog"], "none", "rag-demo")
    assert isinstance(sink, DatadogSink) and sink.ml_app == "rag-demo"


# --------------------------------------------------------------- configure(), a fresh process


def _run(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ENV and not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**clean, "OTEL_TRACES_EXPORTER": "none", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_configure_sends_feedback_to_the_named_sink_before_exit() -> None:
    script = """
        import semtrace
        semtrace.configure(evaluation_sinks="phoenix")
        assert semtrace.feedback(("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7"), 1.0,
                                 label="helpful")
        # no flush(): the exit hook sends what is queued, within its timeout
    """
    with backend() as server:
        done = _run(script, PHOENIX_COLLECTOR_ENDPOINT=server.url)
        assert done.returncode == 0, done.stderr
    [annotation] = [a for post in server.posts() for a in post.json()["data"]]
    assert (annotation["name"], annotation["annotator_kind"], annotation["span_id"]) == (
        "user_feedback",
        "HUMAN",
        "00f067aa0ba902b7",
    )


def test_configure_refuses_a_bad_sink_before_setting_anything() -> None:
    script = """
        from opentelemetry import trace
        import semtrace
        try:
            semtrace.configure(evaluation_sinks="datadog")
        except ValueError as exc:
            print("refused:", exc)
        print(type(trace.get_tracer_provider()).__name__)
    """
    done = _run(script)
    assert done.returncode == 0, done.stderr
    assert "refused: the datadog evaluation sink needs an API key" in done.stdout
    assert "ProxyTracerProvider" in done.stdout
