"""The keyword arguments every integration takes, defined once.

LangChain's ``CallbackHandler`` and both instrumentors' ``instrument()`` build an
:class:`Options` from what they were given, so they accept the same arguments by
construction: an unknown keyword raises ``TypeError`` (as any Python call does), and
``settings=`` together with one of the arguments it replaces raises ``TypeError``
instead of silently dropping it.

Example:
    >>> from semtrace._recording.options import Options
    >>> Options(capture_content=True, quality_signals=False).resolve_settings().quality_signals
    False
    >>> Options(colour="blue")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    TypeError: unexpected keyword argument 'colour'
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, Final

from semtrace._recording.recorder import Recorder
from semtrace.config import CaptureMode, Redactor, SensitiveRule, Settings
from semtrace.cost import PriceTable
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.signals import Thresholds

#: The arguments that :meth:`Settings.resolve` takes, which ``settings=`` replaces.
SETTINGS_ARGUMENTS: Final = tuple(inspect.signature(Settings.resolve).parameters)


@dataclass(frozen=True)
class Options:
    """What an integration is asked to record, and where.

    The first four may be given by position (``CallbackHandler(tracer_provider)``);
    the rest by keyword only.

    Args:
        tracer_provider: Provider for spans; the global one by default.
        meter_provider: Provider for metrics; the global one by default.
        capture_content: Record prompt/completion text: a :class:`CaptureMode`, its name,
            or a boolean. None reads ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``
            (default: no content).
        count_tokens: Count tokens with tiktoken when the provider reports none; None
            reads ``SEMTRACE_COUNT_TOKENS`` (default: on).
        redact: Called on every text before it is recorded.
        trace_all_runs: Also record framework plumbing (sequences, prompts, parsers) as
            spans; None reads ``SEMTRACE_TRACE_ALL_RUNS``.
        quality_signals: Compute the built-in quality signals; None reads
            ``SEMTRACE_QUALITY_SIGNALS`` (default: on).
        all_evaluation_events: A ``gen_ai.evaluation.result`` event for passing built-in
            signals too; None reads ``SEMTRACE_ALL_EVALUATION_EVENTS`` (default: off).
        max_content_length: Longest text kept in one content attribute; None reads
            ``SEMTRACE_MAX_CONTENT_LENGTH``.
        drop_operations: Span kinds not to record: a preset (``llm_only``,
            ``no_embeddings``) or operation names; None reads ``SEMTRACE_DROP_OPERATIONS``.
        default_encoding: tiktoken encoding for unknown models; None reads
            ``SEMTRACE_DEFAULT_ENCODING``.
        max_open_runs: Most runs held open at once; None reads ``SEMTRACE_MAX_OPEN_RUNS``.
        run_timeout_s: Seconds before a run that never ended is ended; None reads
            ``SEMTRACE_RUN_TIMEOUT``.
        consistency: The opt-in ``consistency`` signal; None reads ``SEMTRACE_CONSISTENCY``.
        sensitive_rules: Your own ``sensitive_output`` rules (``SensitiveRule``).
        background: Turn ended runs into telemetry on semtrace's worker thread, not the
            caller's; None reads ``SEMTRACE_BACKGROUND`` (default: on).
        grounding: What groundedness judges an answer as: ``auto`` (from the prompt),
            ``qa``, ``summary`` or ``dialogue``; None reads ``SEMTRACE_GROUNDING``.
        span_events: Also write the GenAI events as span events (for trace-only
            backends); None reads ``SEMTRACE_SPAN_EVENTS`` (default: on).
        logger_provider: Provider for the GenAI events (the Logs API); the global one by
            default.
        latest_conventions: Write the newest GenAI conventions, still in development,
            instead of the released 1.41 ones; None reads ``OTEL_SEMCONV_STABILITY_OPT_IN``
            (on when it lists ``gen_ai_latest_experimental``).
        thresholds: Verdict thresholds of the quality signals (``pass``, ``uncertain``,
            ``fail``).
        evaluators: Your own evaluators, run inline or in the background.
        prices: Price table (a ``PriceTable``, a JSON/TOML path or a mapping) for
            ``semtrace.usage.cost.*``; None reads ``SEMTRACE_PRICES``, else shipped prices.
        settings: Complete :class:`Settings`, instead of the settings arguments above
            (``capture_content`` to ``latest_conventions``); giving both raises
            ``TypeError``.

    Raises:
        TypeError: An unknown keyword, or ``settings`` together with a settings argument.
    """

    tracer_provider: Any = None
    meter_provider: Any = None
    capture_content: bool | str | CaptureMode | None = None
    count_tokens: bool | None = None
    _: KW_ONLY
    redact: Redactor | None = None
    trace_all_runs: bool | None = None
    quality_signals: bool | None = None
    all_evaluation_events: bool | None = None
    max_content_length: int | None = None
    drop_operations: str | frozenset[str] | set[str] | None = None
    default_encoding: str | None = None
    max_open_runs: int | None = None
    run_timeout_s: float | None = None
    consistency: bool | None = None
    sensitive_rules: Sequence[SensitiveRule] | None = None
    background: bool | None = None
    grounding: str | None = None
    span_events: bool | None = None
    logger_provider: Any = None
    latest_conventions: bool | None = None
    thresholds: Thresholds | None = None
    evaluators: Sequence[Evaluator] = ()
    prices: PriceTable | str | Path | Mapping[str, Any] | None = None
    settings: Settings | None = None

    def __post_init__(self) -> None:
        if self.settings is None:
            return
        given = [name for name in SETTINGS_ARGUMENTS if getattr(self, name) is not None]
        if given:
            raise TypeError(
                f"settings= replaces {', '.join(given)}: pass them in the Settings, or drop "
                "settings="
            )

    def resolve_settings(self) -> Settings:
        """``settings`` if given, else :meth:`Settings.resolve` of the arguments.

        Raises:
            ValueError: If an argument is invalid.
        """
        if self.settings is not None:
            return self.settings
        return Settings.resolve(**{name: getattr(self, name) for name in SETTINGS_ARGUMENTS})

    def recorder(self, framework: str, scope_name: str, scope_version: str) -> Recorder:
        """The recorder these options describe, for one integration.

        Args:
            framework: Recorded as ``semtrace.framework`` on root spans.
            scope_name: The integration's package, the spans' instrumentation scope.
            scope_version: The integration's version.

        Raises:
            ValueError: If an argument or the price table is invalid.
        """
        prices = self.prices
        return Recorder(
            self.resolve_settings(),
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            logger_provider=self.logger_provider,
            thresholds=self.thresholds,
            evaluators=self.evaluators,
            prices=prices if isinstance(prices, PriceTable) else PriceTable.load(prices),
            framework=framework,
            scope_name=scope_name,
            scope_version=scope_version,
        )
