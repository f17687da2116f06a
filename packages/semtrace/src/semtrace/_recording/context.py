"""Who and what a run is for: user, session, conversation and tags on every span of it.

Example:
    >>> import semtrace
    >>> with semtrace.context(user_id="u-42", session_id="s-7", tags=["beta"], tenant="acme"):
    ...     pass  # chain.invoke(...): every span of the run carries these

The values live in a :class:`contextvars.ContextVar`, so they follow the call: each
``asyncio`` task, each ``batch`` worker thread (LangChain copies the context into its
thread pool) and each request sees its own, and nothing leaks from one call into another.
The context is read once, when a run's root span starts, and applied to every span of
that run.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace._telemetry.content import bounded_text

_current: contextvars.ContextVar[Mapping[str, AttributeValue] | None] = contextvars.ContextVar(
    "semtrace_context", default=None
)
_MAX_ATTRIBUTES: Final = 32
_MAX_VALUE_CHARS: Final = 256
_MAX_TAGS: Final = 32


def current() -> Mapping[str, AttributeValue]:
    """The attributes set by the enclosing :func:`context` blocks (empty if none)."""
    return _current.get() or {}


@contextmanager
def context(
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    conversation_id: str | None = None,
    tags: Sequence[str] | None = None,
    **attributes: AttributeValue,
) -> Iterator[None]:
    """Attach user, session, conversation, tags and custom attributes to the runs inside.

    Nested blocks add to (and override) the enclosing ones. Also usable as a decorator.

    Args:
        user_id: Recorded as ``user.id``.
        session_id: Recorded as ``session.id``.
        conversation_id: Recorded as ``gen_ai.conversation.id``.
        tags: Recorded as ``semtrace.tags``.
        **attributes: Recorded as they are (keys should be namespaced, e.g. ``app.tenant``).

    Raises:
        ValueError: If a value is not a valid OpenTelemetry attribute value.
    """
    merged = dict(current())
    merged.update(context_attributes(user_id, session_id, conversation_id, tags))
    for key, value in attributes.items():
        merged[key] = _checked(key, value)
    if len(merged) > _MAX_ATTRIBUTES:
        raise ValueError(f"semtrace.context holds at most {_MAX_ATTRIBUTES} attributes")
    token = _current.set(merged)
    try:
        yield
    finally:
        _current.reset(token)


def context_attributes(
    user_id: Any = None,
    session_id: Any = None,
    conversation_id: Any = None,
    tags: Any = None,
) -> dict[str, AttributeValue]:
    """The attributes for these ids and tags, skipping what is missing."""
    out: dict[str, AttributeValue] = {}
    for key, value in (
        (semconv.USER_ID, user_id),
        (semconv.SESSION_ID, session_id),
        (semconv.GEN_AI_CONVERSATION_ID, conversation_id),
    ):
        if value is not None and value != "":
            out[key] = _bounded(value)
    if tags:
        out[semconv.SEMTRACE_TAGS] = [_bounded(t) for t in list(tags)[:_MAX_TAGS]]
    return out


def _bounded(value: Any) -> str:
    """Ids and tags come from request metadata: keep them short and encodable."""
    text = bounded_text(value, _MAX_VALUE_CHARS)
    return "<unprintable>" if text is None else text


def _checked(key: str, value: Any) -> AttributeValue:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (str, bool, int, float)) for v in value
    ):
        return list(value)
    raise ValueError(
        f"semtrace.context attribute {key!r} must be a str, bool, int, float or a list of them"
    )
