"""The records of one model call, as the core's tests build them: its request and its answer."""

from __future__ import annotations

from collections.abc import Sequence

from semtrace.records import Message, ModelEnd, ModelStart, TextPart, Usage


def chat(text: str = "hello") -> ModelStart:
    """A gpt-4o-mini chat call (provider openai) with one user message."""
    return ModelStart("openai", "gpt-4o-mini", [Message("user", [TextPart(text)])])


def answer(
    text: str = "hi", usage: Usage | None = None, finish_reasons: Sequence[str] = ()
) -> ModelEnd:
    """The call's answer: one assistant message, and the usage and reasons the provider gave."""
    return ModelEnd(
        [Message("assistant", [TextPart(text)])], usage=usage, finish_reasons=finish_reasons
    )
