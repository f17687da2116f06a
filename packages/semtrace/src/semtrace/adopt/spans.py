"""What every translation of a finished span shares: reading its values, and the result.

A translation (:mod:`.genai`, :mod:`.openinference`, :mod:`.openllmetry`) turns one
finished span another instrumentation made into a :class:`Translated`: the core's start
and end records (:mod:`semtrace.records`), and the error the span ended with. The core's
signals, checks, diagnosis and cost then run on those records as on semtrace's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from semtrace.records import (
    End,
    Message,
    Part,
    Start,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    Usage,
    ValueEnd,
)

#: Longest attribute text read (a span can carry megabytes of content): the signals read
#: no more than the recorder keeps of a trace's context either.
MAX_TEXT = 100_000


class Translated(NamedTuple):
    """One foreign span as the core's records."""

    start: Start
    end: End | None
    error: BaseException | None


def text(attributes: Mapping[str, Any], key: str) -> str | None:
    """The string attribute ``key``, cut to :data:`MAX_TEXT`; None when absent or not text."""
    value = attributes.get(key)
    return value[:MAX_TEXT] if isinstance(value, str) and value else None


def number(attributes: Mapping[str, Any], *keys: str) -> int | None:
    """The first of ``keys`` holding a whole number."""
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def loads(value: Any) -> Any:
    """A JSON attribute's value, or None when it is not JSON."""
    if not isinstance(value, str) or len(value) > 4 * MAX_TEXT:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def usage(attributes: Mapping[str, Any], inputs: Sequence[str], outputs: Sequence[str]) -> Usage:
    """Token counts under the given keys, reported by the provider (or None when absent)."""
    return Usage(number(attributes, *inputs), number(attributes, *outputs))


def error_of(span: ReadableSpan) -> BaseException | None:
    """The exception a failed span ended with, rebuilt by name for the checks.

    The checks tell errors apart by class name along the MRO (a step limit, a parser's
    error) and by message: a class of the recorded name carries both.
    """
    if span.status.status_code is not StatusCode.ERROR:
        return None
    kind, message = "Exception", span.status.description or ""
    for event in span.events:
        if event.name == "exception" and event.attributes:
            kind = str(event.attributes.get("exception.type") or kind)
            message = str(event.attributes.get("exception.message") or message)
            break
    module, _, name = kind.rpartition(".")
    name = name if name.isidentifier() else "Exception"
    cls: type[Exception] = type(name, (Exception,), {"__module__": module or "builtins"})
    return cls(message)


def genai_messages(value: Any) -> list[Message]:
    """Messages in the GenAI conventions' JSON (``gen_ai.input.messages``) as records."""
    found = loads(value) if isinstance(value, str) else value
    if not isinstance(found, list):
        return []
    out = []
    for item in found:
        if not isinstance(item, dict):
            continue
        parts = [p for p in map(_part, item.get("parts") or []) if p is not None]
        role = item["role"] if isinstance(item.get("role"), str) else "user"
        reason = item.get("finish_reason")
        out.append(Message(role, parts, finish_reason=reason if isinstance(reason, str) else None))
    return out


def instructions(value: Any) -> list[Message]:
    """``gen_ai.system_instructions`` (a list of parts) as one system message."""
    found = loads(value) if isinstance(value, str) else None
    if not isinstance(found, list):
        return []
    parts = [p for p in map(_part, found) if p is not None]
    return [Message("system", parts)] if parts else []


def _part(item: Any) -> Part | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    if kind == "tool_call":
        return ToolCallPart(str(item.get("name") or ""), item.get("id"), item.get("arguments"))
    if kind == "tool_call_response":
        return ToolCallResponsePart(item.get("response", item.get("result")), item.get("id"))
    content = item.get("content")
    if kind in (None, "text") and isinstance(content, str):
        return TextPart(content[:MAX_TEXT])
    return None


def plain(role: str, content: str | None) -> list[Message]:
    """One message holding ``content`` as text (none without content)."""
    return [Message(role, [TextPart(content)])] if content else []


def value_end(output: Any) -> ValueEnd | None:
    """What a tool, agent or workflow returned; None when the span does not say.

    None, not an empty output: the checks would read an empty one as "no final answer".
    """
    return ValueEnd(output) if output is not None and output != "" else None


def answer_text(messages: Sequence[Message]) -> str | None:
    """The text of the last message that has some."""
    for message in reversed(messages):
        found = "".join(p.content for p in message.parts if isinstance(p, TextPart))
        if found:
            return found
    return None
