"""Fixtures of the LangChain integration's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler


@pytest.fixture
def handler(telemetry: Telemetry) -> CallbackHandler:
    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )


@pytest.fixture
def content_handler(telemetry: Telemetry) -> CallbackHandler:
    return CallbackHandler(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=True,
    )


@pytest.fixture
def no_current_span() -> Iterator[None]:
    from opentelemetry import trace

    yield
    assert not trace.get_current_span().get_span_context().is_valid, "a span was left current"
