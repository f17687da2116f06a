"""Every string semtrace writes stays within its documented limit, marker included.

The limits (docs/configuration.md, "Limits"): content attributes ``max_content_length``;
the status description 1,024 characters; ``exception.message`` 4,096;
``exception.stacktrace`` 16,384, its head and its tail kept.
"""

from __future__ import annotations

from typing import Any

import pytest
from semtrace import CaptureMode, Settings, semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import FakeChat

MARKER = "…[truncated]"
HUGE_PROMPT = "x" * 5_000_000


class PromptTooLong(ValueError):
    pass


class RejectingChat(FakeChat):
    """A provider that refuses the prompt and quotes it back in its error, as some do."""

    def _generate(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        raise PromptTooLong(f"prompt too long: {messages[-1].content} (limit 128000 tokens)")


def fail_with_huge_prompt(telemetry: Telemetry, handler: CallbackHandler) -> Any:
    with pytest.raises(PromptTooLong):
        RejectingChat(messages=iter(())).invoke(HUGE_PROMPT, config={"callbacks": [handler]})
    [chat] = telemetry.by_operation("chat")
    return chat


def exception_event(span: Any) -> dict[str, Any]:
    [event] = [e for e in span.events if e.name == "exception"]
    return dict(event.attributes or {})


def test_an_error_quoting_a_huge_prompt_writes_a_bounded_exception_message(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    message = exception_event(fail_with_huge_prompt(telemetry, handler))["exception.message"]
    assert len(message) <= 4096
    assert message.startswith("prompt too long: xxx")
    assert message.endswith(MARKER)


def test_an_error_quoting_a_huge_prompt_writes_a_bounded_stack_trace_with_head_and_tail(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    stack = exception_event(fail_with_huge_prompt(telemetry, handler))["exception.stacktrace"]
    assert len(stack) <= 16384
    assert stack.startswith("Traceback (most recent call last):")
    assert "_generate" in stack  # the innermost frame, from the tail
    assert "PromptTooLong: prompt too long: xxx" in stack  # the exception line, cut
    assert MARKER in stack


def test_a_status_description_is_at_most_1024_characters_marker_included(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    description = fail_with_huge_prompt(telemetry, handler).status.description
    assert description is not None and len(description) <= 1024
    assert description.startswith("PromptTooLong: prompt too long: xxx")
    assert description.endswith(MARKER)


def test_the_exception_type_is_still_recorded_in_full(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    event = exception_event(fail_with_huge_prompt(telemetry, handler))
    assert event["exception.type"] == f"{__name__}.PromptTooLong"


def test_a_cut_text_attribute_is_at_most_max_content_length_marker_included(
    telemetry: Telemetry,
) -> None:
    settings = Settings(capture=CaptureMode.SPAN_ONLY)  # the default limit, 16,384
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, settings=settings)
    from langchain_core.tools import tool

    @tool
    def echo(text: str) -> str:
        """Echo the text."""
        return text

    echo.invoke("y" * 20_000, config={"callbacks": [handler]})
    [span] = telemetry.by_operation("execute_tool")
    attrs = span.attributes or {}
    for key in (semconv.GEN_AI_TOOL_CALL_ARGUMENTS, semconv.GEN_AI_TOOL_CALL_RESULT):
        assert len(attrs[key]) <= 16384, (key, len(attrs[key]))
        assert str(attrs[key]).endswith(MARKER)
