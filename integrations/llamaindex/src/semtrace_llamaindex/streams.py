"""Keep a streamed query in one trace, and end its span when the stream ends.

A streaming query engine returns before the answer exists: every dispatcher span of
the call has ended when ``query()`` returns, and the LLM call runs later, while the
caller iterates ``response.response_gen``. LlamaIndex then opens those spans with
``parent_span_id=None`` (the call's spans are gone from its context), which splits one
streamed query into several traces.

:func:`wrap` replaces ``response_gen`` with a generator that, around each step of the
original only, restores the query's span as LlamaIndex's active span (so the spans
opened while streaming get the query as parent) and as the current OpenTelemetry
context (so an HTTP client's span nests under it). Both are reset before the chunk is
handed to the caller, so nothing leaks into the caller's code or into a later query.
The query's span ends when the stream is exhausted, fails, is closed early, or is
garbage-collected without ever being iterated.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from contextvars import Token
from typing import Any, Protocol

from llama_index.core.instrumentation.span import active_span_id
from semtrace.integration import Recorder, record_fault


class StreamOwner(Protocol):
    """What a wrapped stream reports to (the :class:`~semtrace_llamaindex.tracker.Tracker`)."""

    recorder: Recorder
    capture: bool

    def stream_done(
        self, span_id: str, error: BaseException | None, cancelled: bool, text: str | None
    ) -> None:
        """The stream of span ``span_id`` ended."""


def wrap(response: Any, owner: StreamOwner, span_id: str) -> bool:
    """Replace ``response.response_gen`` by a wrapper bound to span ``span_id``.

    Returns:
        Whether the response had a stream to wrap.
    """
    inner: Any = getattr(response, "response_gen", None)
    wrapped: Iterator[Any] | AsyncIterator[Any]
    if hasattr(inner, "__anext__"):
        wrapped = _async_tokens(inner, owner, span_id)
    elif hasattr(inner, "__next__"):
        wrapped = _tokens(inner, owner, span_id)
    else:
        return False
    # Ends the span of a stream dropped without being iterated (its body never runs).
    finalizer = weakref.finalize(wrapped, owner.stream_done, span_id, None, True, None)
    finalizer.atexit = False
    response.response_gen = wrapped
    return True


class _Scope:
    """Makes span ``span_id`` LlamaIndex's active span and the current OpenTelemetry context.

    Entered and exited around each step of the original stream, in one frame. Never
    raises: a failure here costs the nesting of that step, never the caller's stream.
    """

    __slots__ = ("_activation", "_owner", "_span_id", "_token")

    def __init__(self, owner: StreamOwner, span_id: str) -> None:
        self._owner, self._span_id = owner, span_id
        self._token: Token[str | None] | None = None
        self._activation: AbstractContextManager[None] | None = None

    def __enter__(self) -> None:
        self._token = self._activation = None
        try:
            self._token = active_span_id.set(self._span_id)
            activation = self._owner.recorder.activate(self._span_id)
            activation.__enter__()
            self._activation = activation
        except Exception:
            record_fault("streams._Scope.__enter__")

    def __exit__(self, *exc_info: object) -> None:
        activation, token, self._activation, self._token = self._activation, self._token, None, None
        try:
            if activation is not None:
                activation.__exit__(None, None, None)
            if token is not None:
                active_span_id.reset(token)
        except Exception:
            record_fault("streams._Scope.__exit__")


def _tokens(inner: Iterator[Any], owner: StreamOwner, span_id: str) -> Iterator[Any]:
    chunks: list[str] | None = [] if owner.capture else None
    scope = _Scope(owner, span_id)
    try:
        while True:
            with scope:
                try:
                    item = next(inner)
                except StopIteration:
                    break
            if chunks is not None and isinstance(item, str):
                chunks.append(item)
            yield item
    except GeneratorExit:
        with scope:
            _close(inner)
        owner.stream_done(span_id, None, True, None)
        raise
    except BaseException as error:
        owner.stream_done(span_id, error, False, None)
        raise
    owner.stream_done(span_id, None, False, "".join(chunks) if chunks is not None else None)


async def _async_tokens(
    inner: AsyncIterator[Any], owner: StreamOwner, span_id: str
) -> AsyncIterator[Any]:
    chunks: list[str] | None = [] if owner.capture else None
    scope = _Scope(owner, span_id)
    try:
        while True:
            with scope:
                try:
                    item = await inner.__anext__()
                except StopAsyncIteration:
                    break
            if chunks is not None and isinstance(item, str):
                chunks.append(item)
            yield item
    except GeneratorExit:
        with scope:
            await _aclose(inner)
        owner.stream_done(span_id, None, True, None)
        raise
    except BaseException as error:
        owner.stream_done(span_id, error, False, None)
        raise
    owner.stream_done(span_id, None, False, "".join(chunks) if chunks is not None else None)


def _close(inner: Iterator[Any]) -> None:
    """Close the original stream (inside the query's span, so its LLM span ends cancelled)."""
    close = getattr(inner, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):  # uninstrumented: "Exception ignored in generator"
            close()


async def _aclose(inner: AsyncIterator[Any]) -> None:
    aclose = getattr(inner, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
