"""The Langfuse view: the ``langfuse.*`` attributes Langfuse's OTLP ingestion reads.

Read against Langfuse's ingestion code (langfuse/langfuse,
``packages/shared/src/server/otel/OtelIngestionProcessor.ts`` and
``ObservationTypeMapper.ts``; ``web/src/features/otel/server/`` in older releases) and its
OpenTelemetry docs page (langfuse.com/integrations/native/opentelemetry, "property mapping"):

==========================================  ================================================
Langfuse attribute                          from semtrace's
==========================================  ================================================
``langfuse.observation.type``               ``gen_ai.operation.name``; evaluation spans
``langfuse.observation.usage_details``      ``gen_ai.usage.*`` in Langfuse's usage types
``langfuse.observation.cost_details``       ``semtrace.usage.cost.*`` (USD only) and parts
``langfuse.observation.prompt.name``        ``gen_ai.prompt.name``
``langfuse.observation.prompt.version``     ``semtrace.prompt.version`` (integers only)
``langfuse.observation.completion_start_time``  start + ``gen_ai.response.time_to_first_chunk``
``langfuse.trace.name``                     the root's workflow or agent name
``langfuse.trace.tags``                     ``semtrace.tags``
==========================================  ================================================

Evaluation spans (late feedback, background evaluators) never carry a ``langfuse.trace.*``
attribute: a feedback span's parent is remote, but it is not the trace's root.

``user.id``, ``session.id`` and ``gen_ai.conversation.id``, which semtrace writes on every
span of a run, are what Langfuse reads for the trace's user and session already.

Usage types: without this view Langfuse turns every ``gen_ai.usage.X`` into a usage type
``X``, so cached tokens become ``cache_read.input_tokens``, a type its price table does not
know, while ``input`` (cached tokens included, per the conventions) is priced whole at the
uncached rate. The view sends ``input`` without the cached and cache-write tokens, and
those as ``input_cache_read`` and ``input_cache_creation``, the keys Langfuse's default
prices use for OpenAI and Anthropic models. Reasoning tokens stay inside ``output``, which
is how providers bill them.

Cost: Langfuse's costs are in USD; a cost in another currency is left out and Langfuse
infers one from its own price table. The parts are computed again from the price table
and sent only when they add up to the cost the span carries (a handler given its own
prices that this view does not know sends the total alone).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.util.types import AttributeValue

from semtrace import semconv, semconv_latest
from semtrace.cost import PriceTable
from semtrace.records import Usage

# Langfuse's own attribute keys (its LangfuseOtelSpanAttributes), spelled here only.
OBSERVATION_TYPE: Final = "langfuse.observation.type"
OBSERVATION_USAGE_DETAILS: Final = "langfuse.observation.usage_details"
OBSERVATION_COST_DETAILS: Final = "langfuse.observation.cost_details"
OBSERVATION_PROMPT_NAME: Final = "langfuse.observation.prompt.name"
OBSERVATION_PROMPT_VERSION: Final = "langfuse.observation.prompt.version"
OBSERVATION_COMPLETION_START_TIME: Final = "langfuse.observation.completion_start_time"
TRACE_NAME: Final = "langfuse.trace.name"
TRACE_TAGS: Final = "langfuse.trace.tags"

# Usage types of Langfuse's default model prices (OpenAI and Anthropic entries alike).
USAGE_INPUT: Final = "input"
USAGE_OUTPUT: Final = "output"
USAGE_TOTAL: Final = "total"
USAGE_CACHE_READ: Final = "input_cache_read"
USAGE_CACHE_CREATION: Final = "input_cache_creation"
#: Cost parts (:meth:`semtrace.cost.Price.parts`) to the usage type they price.
_COST_PART_TYPES: Final = {
    "input": USAGE_INPUT,
    "cache_read": USAGE_CACHE_READ,
    "cache_write": USAGE_CACHE_CREATION,
    "output": USAGE_OUTPUT,
}
LANGFUSE_CURRENCY: Final = "USD"

#: gen_ai.operation.name to Langfuse's observation type (its lowercase spelling).
OBSERVATION_TYPES: Final[Mapping[str, str]] = {
    semconv.OP_CHAT: "generation",
    semconv.OP_TEXT_COMPLETION: "generation",
    semconv.OP_EMBEDDINGS: "embedding",
    semconv.OP_RETRIEVAL: "retriever",
    # Langfuse has no reranker type; a rerank is a retrieval step (without a type it
    # would be a generation, since it names a model).
    semconv.OP_RERANK: "retriever",
    semconv.OP_EXECUTE_TOOL: "tool",
    semconv.OP_INVOKE_AGENT: "agent",
    semconv.OP_INVOKE_WORKFLOW: "chain",
}
TYPE_EVALUATOR: Final = "evaluator"
TYPE_CHAIN: Final = "chain"
#: A cost's parts must add up to it within this relative difference to be sent...
_PARTS_TOLERANCE: Final = 1e-6
#: ... or within the rounding of ``semtrace.usage.cost.amount`` (10 decimals).
_ROUNDING: Final = 1e-10


class LangfuseView:
    """Computes the Langfuse attributes of one finished span (see the module docstring).

    Args:
        prices: The price table for the cost parts; ``PriceTable.load()`` by default.
    """

    def __init__(self, prices: PriceTable | None = None) -> None:
        self._prices = prices if prices is not None else PriceTable.load()

    def __call__(self, span: ReadableSpan) -> dict[str, AttributeValue]:
        """The ``langfuse.*`` attributes for ``span``."""
        attrs: Mapping[str, Any] = span.attributes or {}
        out: dict[str, AttributeValue] = {}
        observation_type = _observation_type(attrs)
        if observation_type:
            out[OBSERVATION_TYPE] = observation_type
        usage = _usage(attrs)
        if usage is not None:
            out[OBSERVATION_USAGE_DETAILS] = json.dumps(usage_details(usage))
            cost = self.cost_details(attrs, usage)
            if cost:
                out[OBSERVATION_COST_DETAILS] = json.dumps(cost)
        out.update(_prompt(attrs))
        start = _completion_start(span, attrs)
        if start:
            out[OBSERVATION_COMPLETION_START_TIME] = start
        if _is_evaluation(attrs):
            # A feedback span's parent is remote, yet it is no root: it joins a trace
            # long after, and Langfuse would apply its trace-level attributes to the
            # whole trace (renaming it "feedback user_feedback").
            return out
        tags = attrs.get(semconv.SEMTRACE_TAGS)
        if tags:
            out[TRACE_TAGS] = [str(t) for t in tags]
        if span.parent is None or span.parent.is_remote:
            out[TRACE_NAME] = _trace_name(span.name, attrs)
        return out

    def cost_details(self, attrs: Mapping[str, Any], usage: Usage) -> dict[str, float]:
        """``{"total": ..., <usage type>: ...}`` in USD, or {} without a USD cost."""
        amount = _number(attrs.get(semconv.SEMTRACE_USAGE_COST_AMOUNT))
        if amount is None or attrs.get(semconv.SEMTRACE_USAGE_COST_CURRENCY) != LANGFUSE_CURRENCY:
            return {}
        details = {USAGE_TOTAL: amount}
        price = self._prices.price_of(
            attrs.get(semconv.GEN_AI_REQUEST_MODEL),
            attrs.get(semconv.GEN_AI_PROVIDER_NAME),
            attrs.get(semconv.GEN_AI_RESPONSE_MODEL),
        )
        parts = price.parts(usage) if price is not None else None
        if parts and price is not None and _adds_up(parts, amount, price.currency):
            for part, value in parts.items():
                if value:
                    details[_COST_PART_TYPES[part]] = value
        return details


def _adds_up(parts: Mapping[str, float], amount: float, currency: str) -> bool:
    """Whether re-pricing gave the span's own cost (same table, same currency)."""
    if currency != LANGFUSE_CURRENCY:
        return False
    total = sum(parts.values())
    return math.isclose(total, amount, rel_tol=_PARTS_TOLERANCE, abs_tol=_ROUNDING)


def usage_details(usage: Usage) -> dict[str, int]:
    """``usage`` in Langfuse's usage types, uncached input apart from cache reads and writes.

    The parts add up to ``total``, as Langfuse's own ``total`` does.
    """
    inp = usage.input_tokens or 0
    out = usage.output_tokens or 0
    cached = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    # Counts the conventions forbid (more cached than input) must not make input negative.
    cached = min(cached, inp)
    written = min(written, inp - cached)
    details = {USAGE_INPUT: inp - cached - written, USAGE_OUTPUT: out}
    if cached:
        details[USAGE_CACHE_READ] = cached
    if written:
        details[USAGE_CACHE_CREATION] = written
    details[USAGE_TOTAL] = inp + out
    return details


def _usage(attrs: Mapping[str, Any]) -> Usage | None:
    keys = (
        semconv.GEN_AI_USAGE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    )
    values = [_count(attrs.get(k)) for k in keys]
    if values[3] is None:  # the newest conventions' name for it
        values[3] = _count(attrs.get(semconv_latest.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS))
    if values[0] is None and values[1] is None:
        return None
    return Usage(*values)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _is_evaluation(attrs: Mapping[str, Any]) -> bool:
    """A feedback or background evaluation span: about a trace, never naming it."""
    return semconv.GEN_AI_EVALUATION_NAME in attrs or semconv.SEMTRACE_FEEDBACK_SPAN_ID in attrs


def _observation_type(attrs: Mapping[str, Any]) -> str | None:
    operation = attrs.get(semconv.GEN_AI_OPERATION_NAME)
    if isinstance(operation, str) and operation in OBSERVATION_TYPES:
        return OBSERVATION_TYPES[operation]
    if semconv.GEN_AI_EVALUATION_NAME in attrs:
        return TYPE_EVALUATOR  # a background evaluator's ``evaluate {name}`` span
    if semconv.SEMTRACE_RUN_NAME in attrs:
        return TYPE_CHAIN  # a framework step recorded with trace_all_runs
    return None


def _prompt(attrs: Mapping[str, Any]) -> dict[str, AttributeValue]:
    name = attrs.get(semconv.GEN_AI_PROMPT_NAME)
    if not isinstance(name, str) or not name:
        return {}
    out: dict[str, AttributeValue] = {OBSERVATION_PROMPT_NAME: name}
    # Langfuse links a generation to a prompt by name and integer version.
    version = attrs.get(semconv.SEMTRACE_PROMPT_VERSION) or attrs.get(
        semconv_latest.GEN_AI_PROMPT_VERSION, ""
    )
    version = str(version).strip().lstrip("vV")
    if version.isdigit():
        out[OBSERVATION_PROMPT_VERSION] = int(version)
    return out


def _completion_start(span: ReadableSpan, attrs: Mapping[str, Any]) -> str | None:
    ttfc = _number(attrs.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK))
    if span.start_time is None or ttfc is None or ttfc < 0:
        return None
    ns = span.start_time + round(ttfc * 1e9)
    moment = datetime.datetime.fromtimestamp(ns // 10**9, tz=datetime.timezone.utc).replace(
        microsecond=ns % 10**9 // 1000
    )
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _trace_name(span_name: str, attrs: Mapping[str, Any]) -> str:
    for key in (semconv.GEN_AI_WORKFLOW_NAME, semconv.GEN_AI_AGENT_NAME):
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return span_name
