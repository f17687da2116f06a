"""Attribute values shared by every operation: bounded names, numbers, usage and cost.

Pure functions. What each operation's span gets is in :mod:`.operations`; these make sure
a value from a framework or a user can never become an invalid attribute (a name that is
not a string, a number past int64, a float that is not finite).

Example:
    >>> attrs = {}
    >>> put(attrs, "gen_ai.request.seed", 2**64)
    >>> attrs
    {}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.util.types import AttributeValue

from semtrace import semconv
from semtrace._telemetry.content import bounded_text, valid_utf8
from semtrace.cost import Cost
from semtrace.records import (
    EmbeddingStart,
    ModelStart,
    Usage,
)
from semtrace.semconv_latest import RELEASED, Conventions

Attributes = dict[str, AttributeValue]

#: Longest name, id or model string kept on a span.
_MAX_NAME_CHARS: Final = 256

# Request parameter names, as the integrations report them, to the GenAI key and type.
REQUEST_PARAMS: Final[Mapping[str, tuple[str, type]]] = {
    "temperature": (semconv.GEN_AI_REQUEST_TEMPERATURE, float),
    "top_p": (semconv.GEN_AI_REQUEST_TOP_P, float),
    "top_k": (semconv.GEN_AI_REQUEST_TOP_K, float),
    "max_tokens": (semconv.GEN_AI_REQUEST_MAX_TOKENS, int),
    "seed": (semconv.GEN_AI_REQUEST_SEED, int),
    "frequency_penalty": (semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
    "presence_penalty": (semconv.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
    "choice_count": (semconv.GEN_AI_REQUEST_CHOICE_COUNT, int),
}
MODEL_OPERATIONS: Final = (semconv.OP_CHAT, semconv.OP_TEXT_COMPLETION, semconv.OP_EMBEDDINGS)


def request_attributes(start: ModelStart, names: Conventions = RELEASED) -> Attributes:
    """``gen_ai.request.*`` parameters (temperature, max tokens, stop sequences, ...).

    Set by the worker, not at start: the conventions ask for operation, provider, model
    and server at span creation (samplers read those); reading a model object's
    parameters costs the caller's thread as much as starting its span. ``top_k`` is a
    double in 1.41 and an int in the newest conventions.
    """
    attrs: Attributes = {}
    for param, value in start.params.items():
        spec = REQUEST_PARAMS.get(param)
        if spec is not None:
            kind = names.request_top_k_type if param == "top_k" else spec[1]
            put(attrs, spec[0], number(value, kind))
    level = start.params.get("reasoning_level") if names.reasoning_level else None
    if isinstance(level, str) and names.reasoning_level:
        attrs[names.reasoning_level] = valid_utf8(level)
    stop = start.params.get("stop")
    if isinstance(stop, str):
        attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [valid_utf8(stop)]
    elif isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
        attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [valid_utf8(s) for s in stop]
    return attrs


def put_server(attrs: Attributes, start: ModelStart | EmbeddingStart) -> None:
    """``server.address`` and ``server.port``, set at start as the conventions ask."""
    put(attrs, semconv.SERVER_ADDRESS, text(start.server_address))
    port = number(start.server_port, int)
    if port is not None and 0 < port < 65536:
        attrs[semconv.SERVER_PORT] = port


def usage_attributes(
    usage: Usage, source: str, encoding: str | None, names: Conventions = RELEASED
) -> Attributes:
    """``gen_ai.usage.*`` plus where the numbers came from."""
    attrs: Attributes = {semconv.SEMTRACE_USAGE_SOURCE: source}
    put(attrs, semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens)
    put(attrs, semconv.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens)
    put(attrs, semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens)
    put(attrs, names.cache_write_input_tokens, usage.cache_creation_input_tokens)
    put(attrs, semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_output_tokens)
    put(attrs, semconv.SEMTRACE_USAGE_ENCODING, encoding)
    return attrs


def cost_attributes(cost: Cost) -> Attributes:
    """``semtrace.usage.cost.*`` of one call, and whether its tokens were estimated."""
    return {
        semconv.SEMTRACE_USAGE_COST_AMOUNT: round(cost.amount, 10),
        semconv.SEMTRACE_USAGE_COST_CURRENCY: cost.currency,
        semconv.SEMTRACE_USAGE_COST_SOURCE: cost.source,
        semconv.SEMTRACE_USAGE_COST_ESTIMATED: cost.estimated,
    }


def text(value: Any) -> str | None:
    """A name-like value as a string of bounded length, or None."""
    if type(value) is str and len(value) <= _MAX_NAME_CHARS and value.isascii():
        return value  # the common case, as bounded_text would return it (about 20 a run)
    return bounded_text(value, _MAX_NAME_CHARS)


_INT64: Final = 2**63


def named(operation: str, detail: str | None) -> str:
    return f"{operation} {detail}" if detail else operation


def fits_int64(value: int) -> bool:
    """OTLP integers are int64: one past it would lose the whole export batch."""
    return -_INT64 <= value < _INT64


def put(attrs: Attributes, key: str, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, int) and not -_INT64 <= value < _INT64:  # fits_int64, inlined
        return
    attrs[key] = value


def number(value: Any, kind: type) -> Any:
    """``value`` as ``kind`` if it is a finite number, else None (bad input is dropped)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return kind(value)


def first_text(value: Any) -> str | None:
    """The text of a workflow input, when it has one obvious text (for the signals)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        texts = [v for v in value.values() if isinstance(v, str)]
        if len(texts) == 1:
            return texts[0]
        for key in ("question", "query", "input", "query_str"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return None
