"""The GenAI client metrics and semtrace's quality-signal histogram.

Example:
    >>> from semtrace._telemetry.metrics import Instruments
    >>> instruments = Instruments(None)  # the global meter provider
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import Histogram, Meter

from semtrace import semconv
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
    ) -> None:
        meter = metrics.get_meter(
            scope_name, scope_version, meter_provider, schema_url=semconv.SCHEMA_URL
        )
        self.token_usage = _histogram(
            meter,
            semconv.METRIC_TOKEN_USAGE,
            "{token}",
            "Number of input and output tokens used.",
            semconv.TOKEN_USAGE_BUCKETS,
        )
        self.operation_duration = _histogram(
            meter,
            semconv.METRIC_OPERATION_DURATION,
            "s",
            "GenAI operation duration.",
            semconv.DURATION_BUCKETS,
        )
        self.time_to_first_chunk = _histogram(
            meter,
            semconv.METRIC_TIME_TO_FIRST_CHUNK,
            "s",
            "Time to receive the first chunk of a streamed response.",
            semconv.DURATION_BUCKETS,
        )
        self.time_per_output_chunk = _histogram(
            meter,
            semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
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
