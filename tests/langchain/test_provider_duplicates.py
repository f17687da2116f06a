"""One model span per LLM call when the provider SDK's instrumentation is also active.

``ChatOpenAI`` (langchain-openai) runs the real ``openai`` SDK against a fake server on
127.0.0.1, with semtrace's handler, ``opentelemetry-instrumentation-openai-v2`` and the
httpx instrumentation on the same tracer provider.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from typing import Any

# Dev dependencies (pyproject): a missing one is an error, never a skip.
import langchain_openai
import openai
import opentelemetry.instrumentation.httpx as otel_httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from semtrace import _worker as worker
from semtrace.export import dedupe
from semtrace.export.dedupe import DuplicateModelSpanFilter
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

try:  # the official OpenAI instrumentation: the workspace locks its successor package
    openai_v2: Any = importlib.import_module("opentelemetry.instrumentation.genai.openai")
except ImportError:  # .ci/versions.sh's profiles pin opentelemetry-instrumentation-openai-v2
    openai_v2 = importlib.import_module("opentelemetry.instrumentation.openai_v2")

from tests.langchain.fake_openai import INPUT_TOKENS, OUTPUT_TOKENS, FakeOpenAI

# openai>=3 sends its requests with httpx2, older versions with httpx.
_HTTPX2 = int(openai.__version__.split(".")[0]) >= 3
HttpInstrumentor = (
    otel_httpx.HTTPX2ClientInstrumentor if _HTTPX2 else otel_httpx.HTTPXClientInstrumentor
)
MODEL = "gpt-4o-mini"


# --- fixtures ---


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


class Instrumented:
    """The provider and HTTP instrumentations on one tracer and meter provider."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider

    def __enter__(self) -> Instrumented:
        openai_v2.OpenAIInstrumentor().instrument(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )
        HttpInstrumentor().instrument(tracer_provider=self.tracer_provider)
        return self

    def __exit__(self, *exc: object) -> None:
        HttpInstrumentor().uninstrument()
        openai_v2.OpenAIInstrumentor().uninstrument()


@pytest.fixture
def instrumented(telemetry: Telemetry) -> Iterator[None]:
    with Instrumented(telemetry.tracer_provider, telemetry.meter_provider):
        yield


@pytest.fixture
def guard(telemetry: Telemetry) -> DuplicateModelSpanFilter:
    installed = dedupe.install(telemetry.tracer_provider)
    assert installed is not None
    return installed


def chat_model(server: FakeOpenAI, **kw: Any) -> Any:
    return langchain_openai.ChatOpenAI(
        model=MODEL, base_url=server.base_url, api_key="test", max_retries=0, **kw
    )


def scope(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope else ""


def http_spans(telemetry: Telemetry) -> list[ReadableSpan]:
    found = [s for s in telemetry.spans() if s.name.startswith("POST")]
    assert found, f"no HTTP span in {telemetry.tree()}"
    return found


def assert_no_orphans(telemetry: Telemetry) -> None:
    ids = {s.context.span_id for s in telemetry.spans()}
    orphans = [s.name for s in telemetry.spans() if s.parent and s.parent.span_id not in ids]
    assert not orphans, f"spans whose parent was not exported: {orphans}"


def assert_one_semtrace_chat_over_http(telemetry: Telemetry, calls: int = 1) -> None:
    chats = telemetry.by_operation("chat")
    assert len(chats) == calls, telemetry.tree()
    assert {scope(s) for s in chats} == {"semtrace_langchain"}
    for chat in chats:
        attrs = chat.attributes or {}
        assert attrs["gen_ai.usage.input_tokens"] == INPUT_TOKENS
        assert attrs["gen_ai.usage.output_tokens"] == OUTPUT_TOKENS
        assert attrs["semtrace.usage.source"] == "provider"
    http = http_spans(telemetry)
    assert len(http) == calls
    parents = {telemetry.parent_of(s).context.span_id for s in http}  # type: ignore[union-attr]
    assert parents == {c.context.span_id for c in chats}
    assert_no_orphans(telemetry)


# --- the problem, and the guard on a real ChatOpenAI ---


def test_without_the_guard_one_call_makes_two_model_spans(
    telemetry: Telemetry, handler: CallbackHandler, server: FakeOpenAI, instrumented: None
) -> None:
    chat_model(server).invoke("capital of France?", config={"callbacks": [handler]})
    chats = telemetry.by_operation("chat")
    assert len(chats) == 2, telemetry.tree()
    ours = next(s for s in chats if scope(s) == "semtrace_langchain")
    theirs = next(s for s in chats if scope(s) != "semtrace_langchain")
    assert telemetry.parent_of(theirs) is ours
    for span in chats:  # both report the call's tokens: a sum over spans doubles them
        assert (span.attributes or {})["gen_ai.usage.input_tokens"] == INPUT_TOKENS
    assert telemetry.tree() == [f"chat {MODEL}", f"  chat {MODEL}", "    POST"]


def test_guard_keeps_semtrace_chat_span_with_http_span_under_it(
    telemetry: Telemetry,
    handler: CallbackHandler,
    server: FakeOpenAI,
    instrumented: None,
    guard: DuplicateModelSpanFilter,
) -> None:
    reply = chat_model(server).invoke("capital of France?", config={"callbacks": [handler]})
    assert "Paris" in reply.content
    assert_one_semtrace_chat_over_http(telemetry)
    assert telemetry.tree() == [f"chat {MODEL}", "  POST"]
    assert guard.dropped == 1
    assert guard.tracked == 0
    assert len(server.requests) == 1


def test_guard_with_a_streamed_call(
    telemetry: Telemetry,
    handler: CallbackHandler,
    server: FakeOpenAI,
    instrumented: None,
    guard: DuplicateModelSpanFilter,
) -> None:
    model = chat_model(server, streaming=True, stream_usage=True)
    reply = model.invoke("capital of France?", config={"callbacks": [handler]})
    assert "Paris" in reply.content
    assert server.requests[0]["stream"] is True
    assert_one_semtrace_chat_over_http(telemetry)
    assert telemetry.by_operation("chat")[0].attributes["gen_ai.request.stream"] is True  # type: ignore[index]
    assert guard.dropped == 1


async def test_guard_with_async_calls(
    telemetry: Telemetry,
    handler: CallbackHandler,
    server: FakeOpenAI,
    instrumented: None,
    guard: DuplicateModelSpanFilter,
) -> None:
    model = chat_model(server)
    replies = await asyncio.gather(
        *(model.ainvoke(f"question {i}", config={"callbacks": [handler]}) for i in range(4))
    )
    assert all("Paris" in r.content for r in replies)
    assert_one_semtrace_chat_over_http(telemetry, calls=4)
    assert guard.dropped == 4
    assert guard.tracked == 0


def test_provider_metrics_double_unless_their_meter_is_dropped(
    telemetry: Telemetry, server: FakeOpenAI
) -> None:
    def token_points_by_scope(views: list[Any]) -> dict[str, int]:
        reader = InMemoryMetricReader()
        meters = MeterProvider(metric_readers=[reader], views=views)
        handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, meter_provider=meters)
        with Instrumented(telemetry.tracer_provider, meters):
            chat_model(server).invoke("capital of France?", config={"callbacks": [handler]})
        counts: dict[str, int] = {}
        worker.drain()  # semtrace's points are recorded on its worker
        data = reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope_metrics in resource.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == "gen_ai.client.token.usage":
                        points: list[Any] = list(metric.data.data_points)
                        counts[scope_metrics.scope.name] = int(sum(p.sum for p in points))
        meters.shutdown()
        return counts

    tokens = INPUT_TOKENS + OUTPUT_TOKENS
    doubled = token_points_by_scope([])
    assert doubled["semtrace_langchain"] == tokens
    assert sum(doubled.values()) == 2 * tokens
    assert token_points_by_scope(dedupe.provider_metric_views()) == {"semtrace_langchain": tokens}


# --- the filter on plain SDK spans ---


class Recording(SpanProcessor):
    """Notes what reaches it; optionally fails."""

    def __init__(self, fail: bool = False) -> None:
        self.started: list[str] = []
        self.ended: list[ReadableSpan] = []
        self.flushed: list[int] = []
        self.shut = False
        self.fail = fail

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.started.append(span.name)

    def on_end(self, span: ReadableSpan) -> None:
        if self.fail:
            raise RuntimeError("exporter down")
        self.ended.append(span)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.flushed.append(timeout_millis)
        return True

    def shutdown(self) -> None:
        self.shut = True


class Setup:
    def __init__(self, **options: Any) -> None:
        self.recording = Recording()
        self.guard = DuplicateModelSpanFilter(self.recording, **options)
        self.provider = TracerProvider()
        self.provider.add_span_processor(self.guard)
        self.semtrace = self.provider.get_tracer("semtrace")
        self.vendor = self.provider.get_tracer("vendor.instrumentation")
        self.http = self.provider.get_tracer("opentelemetry.instrumentation.httpx")

    def ours(self, name: str = "chat m", operation: str = "chat", parent: Any = None) -> Any:
        ctx = trace.set_span_in_context(parent) if parent is not None else None
        return self.semtrace.start_span(
            name, context=ctx, attributes={"gen_ai.operation.name": operation}
        )

    def theirs(self, parent: Any, attributes: dict[str, Any] | None = None) -> Any:
        ctx = trace.set_span_in_context(parent) if parent is not None else None
        attrs = {"gen_ai.operation.name": "chat"} if attributes is None else attributes
        return self.vendor.start_span("chat m", context=ctx, attributes=attrs)

    def post(self, parent: Any) -> Any:
        return self.http.start_span("POST", context=trace.set_span_in_context(parent))

    def ended(self) -> dict[str, ReadableSpan]:
        return {s.name: s for s in self.recording.ended}


def test_duplicate_is_hidden_and_its_children_reparented() -> None:
    s = Setup()
    ours = s.ours()
    theirs = s.theirs(ours)
    nested = s.theirs(theirs, {"openinference.span.kind": "LLM"})  # a second provider layer
    post = s.post(nested)
    for span in (post, nested, theirs, ours):
        span.end()
    assert s.recording.started == ["chat m", "POST"]
    assert [x.name for x in s.recording.ended] == ["POST", "chat m"]
    forwarded = s.ended()
    assert forwarded["POST"].parent == ours.get_span_context()
    assert forwarded["POST"].context == post.get_span_context()
    assert forwarded["POST"].attributes == post.attributes
    assert forwarded["chat m"].context == ours.get_span_context()
    assert s.guard.dropped == 2
    assert s.guard.tracked == 0


def test_child_ending_after_its_duplicate_is_still_reparented() -> None:
    s = Setup()
    ours = s.ours()
    theirs = s.theirs(ours)
    post = s.post(theirs)
    theirs.end()
    post.end()
    ours.end()
    assert s.ended()["POST"].parent == ours.get_span_context()


@pytest.mark.parametrize(
    "case",
    ["provider span without semtrace", "under a semtrace agent span", "not a model span"],
)
def test_other_spans_pass_unchanged(case: str) -> None:
    s = Setup()
    if case == "provider span without semtrace":
        parent, child = None, s.theirs(None)
    elif case == "under a semtrace agent span":
        parent = s.ours("invoke_agent a", operation="invoke_agent")
        child = s.theirs(parent)
    else:
        parent = s.ours()
        child = s.theirs(parent, {"db.system": "redis"})
    child.end()
    if parent is not None:
        parent.end()
    forwarded = next(x for x in s.recording.ended if x.context == child.get_span_context())
    assert forwarded.parent == child.parent
    assert s.guard.dropped == 0
    assert s.guard.tracked == 0


def test_state_is_bounded_and_a_forgotten_owner_means_the_duplicate_is_kept() -> None:
    s = Setup(max_spans=2)
    never_ended = [s.ours(f"chat {i}") for i in range(5)]
    assert s.guard.tracked == 2
    forgotten, remembered = never_ended[0], never_ended[-1]
    kept, hidden = s.theirs(forgotten), s.theirs(remembered)
    kept.end()
    hidden.end()
    assert [x.context for x in s.recording.ended] == [kept.get_span_context()]
    for _ in range(10):  # duplicates that never end: bounded too
        s.theirs(remembered)
    assert s.guard.tracked <= 2 * 3


def test_never_raises_and_still_feeds_the_other_processors() -> None:
    failing, recording = Recording(fail=True), Recording()

    def broken(span: ReadableSpan) -> bool:
        raise ValueError("bad predicate")

    guard = DuplicateModelSpanFilter(failing, recording, is_model_span=broken)
    provider = TracerProvider()
    provider.add_span_processor(guard)
    ours = provider.get_tracer("semtrace").start_span(
        "chat m", attributes={"gen_ai.operation.name": "chat"}
    )
    theirs = provider.get_tracer("vendor").start_span(
        "chat m", context=trace.set_span_in_context(ours)
    )
    theirs.end()  # the predicate fails: forwarded as it is
    ours.end()
    assert len(recording.ended) == 2
    guard.on_end(object())  # type: ignore[arg-type]
    guard.on_start(object())  # type: ignore[arg-type]


def test_flush_and_shutdown_reach_every_downstream_processor() -> None:
    first, second = Recording(), Recording()
    guard = DuplicateModelSpanFilter(first)
    guard.add_span_processor(second)
    assert guard.downstream == (first, second)
    assert guard.force_flush(1000) is True
    assert first.flushed and second.flushed and first.flushed[0] <= 1000
    guard.shutdown()
    assert first.shut and second.shut
    with pytest.raises(ValueError):
        DuplicateModelSpanFilter(first, max_spans=0)


def test_install_wraps_the_providers_processors_once() -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    guard = dedupe.install(provider)
    assert guard is not None
    later = Recording()
    provider.add_span_processor(later)
    assert dedupe.install(provider) is guard
    assert guard.downstream[-1] is later
    ours = provider.get_tracer("semtrace").start_span(
        "chat m", attributes={"gen_ai.operation.name": "chat"}
    )
    theirs = provider.get_tracer("vendor").start_span(
        "chat m", context=trace.set_span_in_context(ours), attributes={"llm.request.type": "chat"}
    )
    theirs.end()
    ours.end()
    assert [s.context for s in exporter.get_finished_spans()] == [ours.get_span_context()]
    assert later.started == ["chat m"]
    assert dedupe.install(trace.NoOpTracerProvider()) is None
