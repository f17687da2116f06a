"""The texts of a model call's messages, as the signals and checks read them.

One place for "what did the model answer" and "which tool calls did it make", written as
plain loops: these run on every model call, and a generator or comprehension per message
costs a frame each time.
"""

from __future__ import annotations

from collections.abc import Sequence

from semtrace.records import Message, ModelEnd, TextPart, ToolCallPart


def answer_text(end: ModelEnd) -> str:
    """The text of the model's answer (its text parts, one per line), stripped."""
    texts: list[str] = []
    for message in end.output:
        for part in message.parts:
            if isinstance(part, TextPart):
                texts.append(part.content)
    return "\n".join(texts).strip()


def tool_calls(end: ModelEnd) -> list[ToolCallPart]:
    """The tool calls the model made, in order."""
    calls: list[ToolCallPart] = []
    for message in end.output:
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                calls.append(part)
    return calls


def texts(messages: Sequence[Message]) -> list[str]:
    """The text parts of every message, in order."""
    found: list[str] = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, TextPart):
                found.append(part.content)
    return found
