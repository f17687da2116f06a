"""Promise 2: every started span ends, exactly once, before its trace's root.

The ``telemetry`` fixture's span checker enforces it on every test that records spans;
these tests prove the checker (and this suite's ``sdk_misuse`` guard) can fail: each
kind of violation, made on purpose on a provider of its own, must be reported.
"""

from __future__ import annotations

import pytest
from opentelemetry import trace
from semtrace.testing import Telemetry

from tests.hardening.conftest import watch_sdk_misuse


def tracer(telemetry: Telemetry) -> trace.Tracer:
    """semtrace's own tracer: its roots are the ones that must end last."""
    return telemetry.tracer_provider.get_tracer("semtrace_langchain")


def problems(telemetry: Telemetry) -> str:
    with pytest.raises(AssertionError) as failed:
        telemetry.assert_spans_well_formed()
    return str(failed.value)


def test_a_well_formed_trace_passes(telemetry: Telemetry) -> None:
    root = tracer(telemetry).start_span("root")
    child = tracer(telemetry).start_span("child", context=trace.set_span_in_context(root))
    child.end()
    root.end()
    telemetry.assert_spans_well_formed()


def test_a_span_that_never_ends_is_caught() -> None:
    telemetry = Telemetry()
    tracer(telemetry).start_span("leaked")
    assert "leaked: never ended" in problems(telemetry)


def test_a_span_ended_after_its_root_is_caught() -> None:
    telemetry = Telemetry()
    root = tracer(telemetry).start_span("root")
    child = tracer(telemetry).start_span("late child", context=trace.set_span_in_context(root))
    root.end()
    child.end()
    assert "late child: ended after its trace's root" in problems(telemetry)


def test_an_apps_root_may_end_before_semtraces_spans_under_it() -> None:
    telemetry = Telemetry()
    request = telemetry.tracer_provider.get_tracer("app").start_span("POST /ask")
    chain = tracer(telemetry).start_span("chain", context=trace.set_span_in_context(request))
    request.end()  # the app's thread; semtrace's worker ends the chain's span just after
    chain.end()
    telemetry.assert_spans_well_formed()


def test_a_late_background_evaluation_span_is_allowed() -> None:
    telemetry = Telemetry()
    root = tracer(telemetry).start_span("root")
    root.end()
    late = tracer(telemetry).start_span(
        "evaluate judge",
        context=trace.set_span_in_context(root),
        attributes={"gen_ai.evaluation.name": "judge"},
    )
    late.end()
    telemetry.assert_spans_well_formed()


@pytest.mark.sdk_misuse_expected
def test_a_span_ended_twice_is_caught_by_this_suites_guard() -> None:
    telemetry = Telemetry()
    with watch_sdk_misuse() as found:
        span = tracer(telemetry).start_span("twice")
        span.end()
        span.end()
        span.set_attribute("after", "end")
    assert any("Calling end() on an ended span" in m for m in found)
    assert any("Setting attribute on ended span" in m for m in found)


@pytest.mark.sdk_misuse_expected
def test_a_span_ended_twice_is_caught_by_the_checker() -> None:
    """BUG (semtrace.testing.SpanChecker): the SDK swallows a second ``end()``.

    ``Span.end`` on an ended span only logs "Calling end() on an ended span." and calls
    no span processor, so ``SpanChecker.on_end`` never sees the second end and the
    "ended twice" violation it documents can never be reported. Fix: have ``Telemetry``
    also record the SDK's "Calling end() on an ended span" / "on ended span" warnings
    (a logging handler on ``opentelemetry.sdk.trace``, as ``watch_sdk_misuse`` does)
    as violations.
    """
    telemetry = Telemetry()
    with watch_sdk_misuse():
        span = tracer(telemetry).start_span("twice")
        span.end()
        span.end()
    assert "twice" in problems(telemetry)
