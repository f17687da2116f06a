"""What a model span must say, computed from the answer the local server gave."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from semtrace import semconv as sc
from semtrace.testing import Telemetry

from tests.providers.servers.base import Answer, ProviderServer

# One rate per token kind, all different, so a token billed at the wrong rate shows.
RATES: Mapping[str, float] = {
    "input": 2.0,
    "output": 8.0,
    "cache_read": 0.5,
    "cache_write": 2.5,
    "reasoning": 11.0,
}
MODELS = (
    "gpt-4o-mini",
    "gpt-4o-mini-2024-07-18",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "gemini-2.5-flash",
    "mistral-small-latest",
    "mistral-small-2506",
    "llama3.2",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "text-embedding-3-small",
    "nomic-embed-text",
)
PRICES: dict[str, Any] = {name: dict(RATES) for name in MODELS}


def expected_cost(answer: Answer) -> float:
    """The cost of ``answer`` at :data:`RATES` (input includes cache, output reasoning)."""
    fresh = answer.input_tokens - answer.cache_read - answer.cache_write
    visible = answer.output_tokens - answer.reasoning
    total = (
        fresh * RATES["input"]
        + answer.cache_read * RATES["cache_read"]
        + answer.cache_write * RATES["cache_write"]
        + visible * RATES["output"]
        + answer.reasoning * RATES["reasoning"]
    )
    return total / 1_000_000


def model_span(telemetry: Telemetry, operation: str = "chat") -> ReadableSpan:
    """The one model span of the test."""
    spans = telemetry.by_operation(operation)
    if len(spans) != 1:
        spans = [s for s in spans if sc.GEN_AI_PROVIDER_NAME in (s.attributes or {})]
    assert len(spans) == 1, [s.name for s in telemetry.spans()]
    return spans[0]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes as a plain dict (sequences as tuples)."""
    return dict(span.attributes or {})


class Mismatches(AssertionError):
    """Every attribute of a span that differs from what the server answered."""


def check_span(
    span: ReadableSpan,
    server: ProviderServer,
    *,
    provider: str,
    request_model: str,
    finish: Sequence[str] | None = None,
    response_model: bool = True,
    response_id: bool = True,
    usage: bool | None = True,
    cost: bool = True,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Check a model span against ``server.answer``, reporting every mismatch at once.

    Args:
        span: The model span.
        server: The server that answered (its host, port and answer).
        provider: The expected ``gen_ai.provider.name``.
        request_model: The expected ``gen_ai.request.model``.
        finish: The expected finish reasons (None: not checked).
        response_model: Check ``gen_ai.response.model`` against the answer's model.
        response_id: Check ``gen_ai.response.id`` against the answer's id.
        usage: True: counts as the conventions define them; False: no counts at all
            (a stream that carried none); None: not checked.
        cost: With usage, check the cost at :data:`RATES`.
        params: Request-parameter attributes and their values.
    """
    answer = server.answer
    want: dict[str, Any] = {
        sc.GEN_AI_PROVIDER_NAME: provider,
        sc.GEN_AI_REQUEST_MODEL: request_model,
        "server.address": server.host,
        "server.port": server.port,
    }
    if finish is not None:
        want[sc.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(finish)
    if response_model:
        want[sc.GEN_AI_RESPONSE_MODEL] = answer.model
    if response_id:
        want[sc.GEN_AI_RESPONSE_ID] = answer.id
    if usage:
        want[sc.GEN_AI_USAGE_INPUT_TOKENS] = answer.input_tokens
        want[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = answer.output_tokens
        # Zero counts may be left out; a count the answer had must be there.
        for key, value in (
            (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, answer.cache_read),
            (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, answer.cache_write),
            (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, answer.reasoning),
        ):
            if value or attrs(span).get(key) is not None:
                want[key] = value
        if cost:
            want[sc.SEMTRACE_USAGE_COST_AMOUNT] = pytest.approx(expected_cost(answer))
    elif usage is False:
        want[sc.GEN_AI_USAGE_INPUT_TOKENS] = None
        want[sc.SEMTRACE_USAGE_COST_AMOUNT] = None
    want.update(params or {})
    got = attrs(span)
    problems = []
    for key, value in want.items():
        have = got.get(key)
        if isinstance(have, Sequence) and not isinstance(have, str):
            have = tuple(have)
        if isinstance(value, float):
            value = pytest.approx(value)
        if have != value:
            problems.append(f"{key}: expected {value!r}, got {have!r}")
    if problems:
        raise Mismatches(f"{span.name}:\n  " + "\n  ".join(problems))


def check_token_metric(telemetry: Telemetry, server: ProviderServer) -> None:
    """The token-usage histogram holds the answer's input and output counts, with the server."""
    points = telemetry.metric_points(sc.METRIC_TOKEN_USAGE)
    sums = {p.attributes.get(sc.GEN_AI_TOKEN_TYPE): p.sum for p in points}
    assert sums == {
        sc.TOKEN_TYPE_INPUT: server.answer.input_tokens,
        sc.TOKEN_TYPE_OUTPUT: server.answer.output_tokens,
    }
    for point in points:
        assert point.attributes.get("server.address") == server.host
        assert point.attributes.get("server.port") == server.port


def check_truncated(span: ReadableSpan) -> None:
    """A ``length`` finish raises the truncated quality flag."""
    assert attrs(span).get("semtrace.quality.truncated") == 1


def check_error(span: ReadableSpan, error: BaseException) -> None:
    """ERROR status, ``error.type`` naming the exception, an exception event; the span ended."""
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.ERROR
    cls = type(error)
    assert attrs(span).get(sc.ERROR_TYPE) in (
        cls.__qualname__,
        f"{cls.__module__}.{cls.__qualname__}",
    )
    assert any(e.name == "exception" for e in span.events)
