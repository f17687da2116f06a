"""The GenAI client metrics and semtrace's quality-signal histogram.

Under the released 1.41 conventions a model call's duration is
``gen_ai.client.operation.duration`` and its tokens ``gen_ai.client.token.usage`` (by
``gen_ai.token.type``); under the newest (:mod:`semtrace.semconv_latest`) inference and
embeddings each have a duration histogram, and tokens are counters by
``gen_ai.token.modality`` plus per-call histograms. ``Instruments.record_duration`` and
``Instruments.record_usage`` hide which.

Example:
    >>> from semtrace._telemetry.metrics import Instruments
    >>> instruments = Instruments(None)  # the global meter provider
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import Histogram, Meter

from semtrace import semconv, semconv_latest
from semtrace.records import Usage
from semtrace.semconv_latest import RELEASED, Conventions
from semtrace.version import __version__


def _histogram(
    meter: Meter, name: str, unit: str, description: str, buckets: Sequence[float] | None
) -> Histogram:
    try:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # opentelemetry-api < 1.30 (below the floor) has no bucket advice
        return meter.create_histogram(name, unit=unit, description=description)


class Instruments:
    """The histograms semtrace records, created once per recorder."""

    def __init__(
        self,
        meter_provider: Any,
        scope_name: str = semconv.SCOPE_NAME,
        scope_version: str = __version__,
        names: Conventions = RELEASED,
    ) -> None:
        meter = metrics.get_meter(
            scope_name, scope_version, meter_provider, schema_url=names.schema_url
        )
        # The token and duration instruments of the conventions chosen, called directly
        # (one call per point, as before the choice existed).
        model: _Released | _Latest = _Latest(meter) if names.latest else _Released(meter)
        #: ``record_duration(seconds, attrs)``: a model or embeddings call's duration
        #: (``attrs`` name its operation).
        self.record_duration: Callable[[float, Mapping[str, Any]], None] = model.record_duration
        #: ``record_usage(usage, attrs)``: a model or embeddings call's tokens.
        self.record_usage: Callable[[Usage, Mapping[str, Any]], None] = model.record_usage
        #: ``record_no_usage(attrs)``: a model call that failed, or whose tokens nobody
        #: counted (the newest conventions count 0 tokens of modality ``unknown``).
        self.record_no_usage: Callable[[Mapping[str, Any]], None] = model.record_no_usage
        #: ``record_run_duration(seconds, attrs)``: a tool's duration (newest only).
        self.record_run_duration: Callable[[float, Mapping[str, Any]], None] = (
            model.record_run_duration
        )
        self.time_to_first_chunk = _histogram(
            meter,
            names.time_to_first_chunk,
            "s",
            "Time to receive the first chunk of a streamed response.",
            semconv.DURATION_BUCKETS,
        )
        self.time_per_output_chunk = _histogram(
            meter,
            names.time_per_output_chunk,
            "s",
            "Time between consecutive chunks of a streamed response, after the first.",
            semconv.CHUNK_BUCKETS,
        )
        self.cost = meter.create_counter(
            semconv.METRIC_COST,
            unit="{currency}",
            description="Cost of GenAI calls from the price table, by model and currency.",
        )
        self.traces = meter.create_counter(
            semconv.METRIC_TRACES,
            unit="{trace}",
            description="Traces by semtrace.diagnosis (none when every signal passed).",
        )
        self.feedback_score = _histogram(
            meter,
            semconv.METRIC_FEEDBACK_SCORE,
            "1",
            "User feedback scores attached to traces with semtrace.feedback().",
            (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
        )
        self.quality_score = _histogram(
            meter,
            semconv.METRIC_QUALITY_SCORE,
            "1",
            "semtrace quality signals in [0, 1]: every score, and each flag when raised.",
            (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
        )


def _duration(meter: Meter, name: str, description: str) -> Histogram:
    return _histogram(meter, name, "s", description, semconv.DURATION_BUCKETS)


def _tokens(meter: Meter, name: str, description: str) -> Histogram:
    return _histogram(meter, name, "{token}", description, semconv.TOKEN_USAGE_BUCKETS)


class _Released:
    """1.41: one duration histogram for every model call, one token histogram by type."""

    def __init__(self, meter: Meter) -> None:
        self.token_usage = _tokens(
            meter, semconv.METRIC_TOKEN_USAGE, "Number of input and output tokens used."
        )
        self.operation_duration = _duration(
            meter, semconv.METRIC_OPERATION_DURATION, "GenAI operation duration."
        )

    def record_duration(self, seconds: float, attrs: Mapping[str, Any]) -> None:
        self.operation_duration.record(seconds, attrs)

    def record_run_duration(self, seconds: float, attrs: Mapping[str, Any]) -> None:
        pass  # 1.41 defines no tool, agent or workflow duration metric

    def record_no_usage(self, attrs: Mapping[str, Any]) -> None:
        pass  # 1.41: no count, no point

    def record_usage(self, usage: Usage, attrs: Mapping[str, Any]) -> None:
        for token_type, tokens in (
            (semconv.TOKEN_TYPE_INPUT, usage.input_tokens),
            (semconv.TOKEN_TYPE_OUTPUT, usage.output_tokens),
        ):
            if tokens is not None:
                self.token_usage.record(tokens, {**attrs, semconv.GEN_AI_TOKEN_TYPE: token_type})


class _Latest:
    """The newest conventions: inference and embeddings apart; token counters by modality."""

    def __init__(self, meter: Meter) -> None:
        self.inference_duration = _duration(
            meter, semconv_latest.METRIC_INFERENCE_DURATION, "GenAI client inference duration."
        )
        self.embeddings_duration = _duration(
            meter,
            semconv_latest.METRIC_EMBEDDINGS_DURATION,
            "GenAI client embeddings operation duration.",
        )
        self.execute_tool_duration = _duration(
            meter, semconv_latest.METRIC_EXECUTE_TOOL_DURATION, "Duration of a tool execution."
        )
        # Counters for totals and rates (what was spent), one per kind of token.
        self.counters = tuple(
            (
                field,
                meter.create_counter(name, unit="{token}", description=description),
            )
            for field, name, description in (
                ("input_tokens", semconv_latest.METRIC_USAGE_INPUT_TOKENS,
                 "Input (prompt) tokens used, cached tokens included."),
                ("output_tokens", semconv_latest.METRIC_USAGE_OUTPUT_TOKENS,
                 "Output (completion) tokens used, reasoning tokens included."),
                ("cache_read_input_tokens", semconv_latest.METRIC_USAGE_CACHE_READ_INPUT_TOKENS,
                 "Input tokens served from a provider-managed cache."),
                ("cache_creation_input_tokens",
                 semconv_latest.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS,
                 "Input tokens written to a provider-managed cache."),
                ("reasoning_output_tokens", semconv_latest.METRIC_USAGE_REASONING_OUTPUT_TOKENS,
                 "Output tokens used for reasoning."),
            )
        )  # fmt: skip
        # Histograms for per-call distributions (percentiles, not totals).
        self.input_tokens = _tokens(
            meter,
            semconv_latest.METRIC_OPERATION_INPUT_TOKENS,
            "Input (prompt) tokens used per inference operation.",
        )
        self.output_tokens = _tokens(
            meter,
            semconv_latest.METRIC_OPERATION_OUTPUT_TOKENS,
            "Output (completion) tokens used per inference operation.",
        )
        self.embeddings_input_tokens = _tokens(
            meter,
            semconv_latest.METRIC_EMBEDDINGS_INPUT_TOKENS,
            "Input tokens used per embeddings operation.",
        )

    def record_duration(self, seconds: float, attrs: Mapping[str, Any]) -> None:
        embeddings = attrs.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EMBEDDINGS
        (self.embeddings_duration if embeddings else self.inference_duration).record(seconds, attrs)

    def record_run_duration(self, seconds: float, attrs: Mapping[str, Any]) -> None:
        self.execute_tool_duration.record(seconds, attrs)

    def record_no_usage(self, attrs: Mapping[str, Any]) -> None:
        if attrs.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EMBEDDINGS:
            return  # an embeddings call has no usage counters
        unknown = {
            **attrs,
            semconv_latest.GEN_AI_TOKEN_MODALITY: semconv_latest.TOKEN_MODALITY_UNKNOWN,
        }
        for field, counter in self.counters:
            if field in ("input_tokens", "output_tokens"):
                counter.add(0, unknown)

    def record_usage(self, usage: Usage, attrs: Mapping[str, Any]) -> None:
        if attrs.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OP_EMBEDDINGS:
            if usage.input_tokens is not None:
                self.embeddings_input_tokens.record(usage.input_tokens, attrs)
            return
        if usage.input_tokens is not None:
            self.input_tokens.record(usage.input_tokens, attrs)
        if usage.output_tokens is not None:
            self.output_tokens.record(usage.output_tokens, attrs)
        # Providers report totals, not a split by modality; tiktoken counts text only.
        counted = attrs.get(semconv.SEMTRACE_USAGE_SOURCE) == semconv.USAGE_SOURCE_TIKTOKEN
        modality = (
            semconv_latest.TOKEN_MODALITY_TEXT if counted else semconv_latest.TOKEN_MODALITY_UNKNOWN
        )
        counter_attrs = {**attrs, semconv_latest.GEN_AI_TOKEN_MODALITY: modality}
        for field, counter in self.counters:
            tokens = getattr(usage, field)
            if tokens is not None:
                counter.add(tokens, counter_attrs)
