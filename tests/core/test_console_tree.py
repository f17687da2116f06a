"""The console exporter prints each finished trace as a tree, with bounded buffering."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags
from semtrace.export.console import ConsoleTreeExporter

MS = 1_000_000  # nanoseconds


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


def make_tracer(exporter: ConsoleTreeExporter) -> trace.Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


@pytest.fixture
def tracer(out: io.StringIO) -> Iterator[trace.Tracer]:
    yield make_tracer(ConsoleTreeExporter(out))


def child_of(parent: trace.Span) -> trace.Context:
    return trace.set_span_in_context(parent)


def test_tree_nests_children_and_orders_them_by_start_time(
    tracer: trace.Tracer, out: io.StringIO
) -> None:
    root = tracer.start_span("invoke_workflow RunnableSequence", start_time=0)
    # Created out of order; the tree must follow start times, not end order.
    tool = tracer.start_span("execute_tool get_weather", child_of(root), start_time=10 * MS)
    chat = tracer.start_span("chat gpt-4o-mini", child_of(root), start_time=2 * MS)
    retr = tracer.start_span("retrieval", child_of(root), start_time=1 * MS)
    embed = tracer.start_span("embeddings", child_of(retr), start_time=1 * MS)
    embed.end(end_time=1 * MS + 500_000)
    retr.end(end_time=2 * MS + 100_000)
    tool.end(end_time=10 * MS + 400_000)
    chat.end(end_time=10 * MS)
    assert out.getvalue() == ""  # nothing until the root ends
    root.end(end_time=12 * MS + 300_000)

    assert out.getvalue() == (
        "invoke_workflow RunnableSequence  12.3 ms\n"
        "├── retrieval  1.1 ms\n"
        "│   └── embeddings  0.5 ms\n"
        "├── chat gpt-4o-mini  8.0 ms\n"
        "└── execute_tool get_weather  0.4 ms\n"
    )


def test_summary_shows_tokens_finish_docs_quality_and_error(
    tracer: trace.Tracer, out: io.StringIO
) -> None:
    root = tracer.start_span("invoke_workflow rag", start_time=0)
    retr = tracer.start_span("retrieval", child_of(root), start_time=0)
    retr.set_attribute("semtrace.retrieval.document_count", 4)
    retr.end(end_time=1 * MS)
    chat = tracer.start_span("chat gpt-4o-mini", child_of(root), start_time=1 * MS)
    chat.set_attributes(
        {
            "gen_ai.usage.input_tokens": 812,
            "gen_ai.usage.output_tokens": 46,
            "semtrace.usage.source": "tiktoken",
            "gen_ai.response.finish_reasons": ("stop",),
            "semtrace.quality.groundedness": 0.82,
        }
    )
    chat.end(end_time=9 * MS)
    tool = tracer.start_span("execute_tool get_weather", child_of(root), start_time=9 * MS)
    tool.set_attribute("error.type", "TimeoutError")
    tool.set_status(Status(StatusCode.ERROR, "timed out"))
    tool.end(end_time=10 * MS)
    root.end(end_time=10 * MS)

    lines = out.getvalue().splitlines()
    assert lines[1] == "├── retrieval  1.0 ms  docs=4"
    assert lines[2] == (
        "├── chat gpt-4o-mini  8.0 ms  tokens=812→46 (tiktoken)  finish=stop  groundedness=0.82"
    )
    assert lines[3] == "└── execute_tool get_weather  1.0 ms  ERROR: TimeoutError"


def test_provider_reported_tokens_show_no_source(tracer: trace.Tracer, out: io.StringIO) -> None:
    span = tracer.start_span("chat m", start_time=0)
    span.set_attributes(
        {
            "gen_ai.usage.input_tokens": 3,
            "gen_ai.usage.output_tokens": 2,
            "semtrace.usage.source": "provider",
        }
    )
    span.end(end_time=MS)
    assert out.getvalue() == "chat m  1.0 ms  tokens=3→2\n"


def test_error_without_error_type_falls_back_to_exception_type(
    tracer: trace.Tracer, out: io.StringIO
) -> None:
    with pytest.raises(KeyError), tracer.start_as_current_span("lookup"):
        raise KeyError("x")
    assert out.getvalue().rstrip("\n").endswith("ERROR: KeyError")


def test_span_with_remote_parent_is_printed_as_a_local_root(
    tracer: trace.Tracer, out: io.StringIO
) -> None:
    remote = SpanContext(
        trace_id=0xABC, span_id=0xDEF, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED)
    )
    ctx = trace.set_span_in_context(NonRecordingSpan(remote))
    server = tracer.start_span("handle request", ctx, start_time=0)
    inner = tracer.start_span("chat m", child_of(server), start_time=0)
    inner.end(end_time=MS)
    server.end(end_time=2 * MS)
    assert out.getvalue() == "handle request  2.0 ms\n└── chat m  1.0 ms\n"


def test_orphan_whose_parent_never_ended_is_printed_under_the_root(
    tracer: trace.Tracer, out: io.StringIO
) -> None:
    root = tracer.start_span("root", start_time=0)
    lost = tracer.start_span("never ends", child_of(root), start_time=0)
    orphan = tracer.start_span("orphan", child_of(lost), start_time=MS)
    orphan.end(end_time=2 * MS)
    root.end(end_time=3 * MS)
    assert out.getvalue() == "root  3.0 ms\n└── orphan  1.0 ms  (parent not seen)\n"


def test_each_trace_is_printed_separately(tracer: trace.Tracer, out: io.StringIO) -> None:
    a = tracer.start_span("a", start_time=0)
    b = tracer.start_span("b", start_time=0)
    a_child = tracer.start_span("a.1", child_of(a), start_time=0)
    b_child = tracer.start_span("b.1", child_of(b), start_time=0)
    b_child.end(end_time=MS)
    a_child.end(end_time=MS)
    b.end(end_time=MS)
    a.end(end_time=MS)
    assert out.getvalue() == (
        "b  1.0 ms\n└── b.1  1.0 ms\n"  # b's root ended first
        "a  1.0 ms\n└── a.1  1.0 ms\n"
    )


def test_buffer_drops_oldest_trace_past_max_traces(out: io.StringIO) -> None:
    exporter = ConsoleTreeExporter(out, max_traces=2)
    tracer = make_tracer(exporter)
    roots = [tracer.start_span(f"root{i}", start_time=0) for i in range(3)]
    for i, root in enumerate(roots):
        tracer.start_span(f"child{i}", child_of(root), start_time=0).end(end_time=MS)

    assert exporter.buffered_traces == 2
    assert exporter.buffered_spans == 2
    roots[0].end(end_time=MS)  # its child was dropped: only the root is printed
    roots[1].end(end_time=MS)
    assert out.getvalue() == "root0  1.0 ms\nroot1  1.0 ms\n└── child1  1.0 ms\n"
    assert exporter.buffered_traces == 1


def test_buffer_drops_oldest_spans_past_max_spans(out: io.StringIO) -> None:
    exporter = ConsoleTreeExporter(out, max_spans=3)
    tracer = make_tracer(exporter)
    root = tracer.start_span("root", start_time=0)
    for i in range(5):
        tracer.start_span(f"c{i}", child_of(root), start_time=i * MS).end(end_time=(i + 1) * MS)
    assert exporter.buffered_spans == 3
    root.end(end_time=5 * MS)
    assert out.getvalue() == (
        "root  5.0 ms\n"
        "├── c2  1.0 ms\n"
        "├── c3  1.0 ms\n"
        "├── c4  1.0 ms\n"
        "└── … 2 more span(s) dropped (console buffer full)\n"
    )
    assert exporter.buffered_spans == 0


def test_shutdown_prints_traces_whose_root_never_ended(out: io.StringIO) -> None:
    exporter = ConsoleTreeExporter(out)
    tracer = make_tracer(exporter)
    root = tracer.start_span("root", start_time=0)
    step = tracer.start_span("step", child_of(root), start_time=0)
    tracer.start_span("inner", child_of(step), start_time=0).end(end_time=MS)
    step.end(end_time=2 * MS)
    exporter.shutdown()
    assert out.getvalue() == "step  2.0 ms  (parent not seen)\n└── inner  1.0 ms\n"


def test_export_never_raises_when_the_file_fails() -> None:
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("disk full")

    exporter = ConsoleTreeExporter(Broken())
    tracer = make_tracer(exporter)
    span = tracer.start_span("x")
    span.end()  # must not raise
    assert exporter.export([span]) is SpanExportResult.FAILURE  # type: ignore[list-item]


def test_falls_back_to_ascii_when_the_stream_cannot_encode_box_characters() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    tracer = make_tracer(ConsoleTreeExporter(stream))
    root = tracer.start_span("root", start_time=0)
    child = tracer.start_span("chat", child_of(root), start_time=0)
    child.set_attributes({"gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 2})
    child.end(end_time=MS)
    root.end(end_time=MS)
    assert raw.getvalue().decode() == "root  1.0 ms\n`-- chat  1.0 ms  tokens=1->2\n"


def test_default_file_is_stderr_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    tracer = make_tracer(ConsoleTreeExporter())
    tracer.start_span("hello", start_time=0).end(end_time=MS)
    captured = capsys.readouterr()
    assert captured.err == "hello  1.0 ms\n"
    assert captured.out == ""


def test_failing_scores_are_marked_and_only_raised_flags_are_shown(
    tracer: trace.Tracer, out: io.StringIO
) -> None:
    span = tracer.start_span("chat m", start_time=0)
    span.set_attributes(
        {
            "semtrace.quality.groundedness": 0.2,
            "semtrace.quality.groundedness.label": "fail",
            "semtrace.quality.non_answer": True,
            "semtrace.quality.truncated": False,
        }
    )
    span.end(end_time=1 * MS)
    assert out.getvalue().splitlines()[0] == "chat m  1.0 ms  groundedness=0.2✗  ⚠ non_answer"
