"""Settings and every ``SEMTRACE_*`` environment variable: the one module that reads them.

Two ways to build :class:`Settings`:

* ``Settings(...)``: exactly the values given, defaults for the rest; the environment
  is **not** read.
* ``Settings.resolve(...)``: the values given, and for each one left ``None`` its
  environment variable, then the default. Handlers and instrumentors use this.

Settings are read once, when a handler or instrumentor is built, never on the hot path.
An explicit argument that is wrong raises ``ValueError`` at configuration time; an
environment variable that is wrong logs a warning and falls back to its default, as
the OpenTelemetry conventions ask.

Example:
    >>> from semtrace.config import Settings, CaptureMode
    >>> Settings.resolve(capture_content=True).capture is CaptureMode.SPAN_ONLY
    True
"""

from __future__ import annotations

import enum
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from semtrace import semconv_latest

logger = logging.getLogger(__name__)

# Each constant's value is the variable's own name.
#: NO_CONTENT (default) | SPAN_ONLY | EVENT_ONLY | SPAN_AND_EVENT (also true/false).
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: Final = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
)
#: "false" turns the tiktoken fallback off (default true).
SEMTRACE_COUNT_TOKENS: Final = "SEMTRACE_COUNT_TOKENS"
#: Encoding used for models tiktoken does not know (default o200k_base).
SEMTRACE_DEFAULT_ENCODING: Final = "SEMTRACE_DEFAULT_ENCODING"
#: Longest text kept in one content attribute, in characters (default 16384).
SEMTRACE_MAX_CONTENT_LENGTH: Final = "SEMTRACE_MAX_CONTENT_LENGTH"
#: "true" makes every framework run a span, plumbing included (default false).
SEMTRACE_TRACE_ALL_RUNS: Final = "SEMTRACE_TRACE_ALL_RUNS"
#: "false" turns the built-in quality signals off (default true).
SEMTRACE_QUALITY_SIGNALS: Final = "SEMTRACE_QUALITY_SIGNALS"
#: "true" adds a gen_ai.evaluation.result event for built-in signals that pass too
#: (default false: events for the ones that fail; attributes and metrics have them all).
SEMTRACE_ALL_EVALUATION_EVENTS: Final = "SEMTRACE_ALL_EVALUATION_EVENTS"
#: Span kinds not to record: a preset name or comma-separated operation names.
SEMTRACE_DROP_OPERATIONS: Final = "SEMTRACE_DROP_OPERATIONS"
#: Most runs held open at once; the oldest is ended past it (default 10000).
SEMTRACE_MAX_OPEN_RUNS: Final = "SEMTRACE_MAX_OPEN_RUNS"
#: Seconds after which a run that never ended is ended and dropped (default 3600).
SEMTRACE_RUN_TIMEOUT: Final = "SEMTRACE_RUN_TIMEOUT"
#: Path of a JSON (or .toml) price table, layered over the shipped defaults.
SEMTRACE_PRICES: Final = "SEMTRACE_PRICES"
#: "false" turns the shipped default prices off (default true).
SEMTRACE_DEFAULT_PRICES: Final = "SEMTRACE_DEFAULT_PRICES"
#: Backend view added at OTLP export: langfuse | phoenix | none (default: langfuse when the
#: OTLP traces endpoint is Langfuse's ``/api/public/otel``, else none). See semtrace.views.
SEMTRACE_BACKEND_VIEW: Final = "SEMTRACE_BACKEND_VIEW"
#: Where verdicts go as the backend's own evaluations: phoenix,langfuse,datadog | none
#: (default: the backend view's, if it has one). See semtrace.export.evaluations.
SEMTRACE_EVALUATION_SINKS: Final = "SEMTRACE_EVALUATION_SINKS"
#: ``true`` turns on the opt-in ``consistency`` signal (default off).
SEMTRACE_CONSISTENCY: Final = "SEMTRACE_CONSISTENCY"
SEMTRACE_GROUNDING: Final = "SEMTRACE_GROUNDING"
#: "false" turns runs into telemetry on the caller's thread, not the worker's (default true).
SEMTRACE_BACKGROUND: Final = "SEMTRACE_BACKGROUND"
#: "false" stops writing the GenAI events as span events too (default true: trace-only
#: backends show them); they always go through the OpenTelemetry Logs API.
SEMTRACE_SPAN_EVENTS: Final = "SEMTRACE_SPAN_EVENTS"

DEFAULT_ENCODING: Final = "o200k_base"
DEFAULT_MAX_CONTENT_LENGTH: Final = 16384
DEFAULT_MAX_OPEN_RUNS: Final = 10000
DEFAULT_RUN_TIMEOUT_S: Final = 3600.0

Redactor = Callable[[str], str]

#: Named sets of operations to leave out (their children attach to the nearest kept run).
DROP_PRESETS: Final[dict[str, frozenset[str]]] = {
    "none": frozenset(),
    # Model calls and the runs around them only: no retrieval, tools, embeddings, reranks.
    "llm_only": frozenset({"retrieval", "execute_tool", "embeddings", "rerank"}),
    # Everything but embeddings and reranks (the noisiest spans in indexing pipelines).
    "no_embeddings": frozenset({"embeddings", "rerank"}),
}
OPERATIONS: Final = frozenset(
    {"invoke_workflow", "invoke_agent", "chat", "text_completion", "embeddings", "retrieval",
     "rerank", "execute_tool"}
)  # fmt: skip


def parse_drop_operations(value: str | frozenset[str] | set[str] | None) -> frozenset[str]:
    """A preset name, a comma-separated list or a set of operation names, checked.

    Raises:
        ValueError: If a name is neither a preset nor an operation.
    """
    if value is None:
        return frozenset()
    if isinstance(value, str):
        if value.strip() in DROP_PRESETS:
            return DROP_PRESETS[value.strip()]
        value = {v.strip() for v in value.split(",") if v.strip()}
    unknown = set(value) - OPERATIONS
    if unknown:
        raise ValueError(
            f"drop_operations: unknown {sorted(unknown)}; use a preset "
            f"({', '.join(DROP_PRESETS)}) or operations from {sorted(OPERATIONS)}"
        )
    return frozenset(value)


#: The backend views ``configure(backend_view=...)`` and ``SEMTRACE_BACKEND_VIEW`` accept.
BACKEND_VIEWS: Final = ("langfuse", "phoenix", "none")


def parse_backend_view(value: str) -> str:
    """A backend view name, lowercased and checked.

    Raises:
        ValueError: If the name is not one of :data:`BACKEND_VIEWS`.
    """
    name = value.strip().lower() if isinstance(value, str) else ""
    if name not in BACKEND_VIEWS:
        raise ValueError(f"backend_view must be one of {', '.join(BACKEND_VIEWS)}, not {value!r}")
    return name


def env_backend_view() -> str | None:
    """``SEMTRACE_BACKEND_VIEW`` checked, or None if unset (a bad value warns, and is None)."""
    value = _env(SEMTRACE_BACKEND_VIEW)
    if value is None:
        return None
    try:
        return parse_backend_view(value)
    except ValueError as exc:
        logger.warning("%s: %s; choosing the view from the endpoint", SEMTRACE_BACKEND_VIEW, exc)
        return None


#: The evaluation sinks ``configure(evaluation_sinks=...)`` and ``SEMTRACE_EVALUATION_SINKS`` name.
EVALUATION_SINKS: Final = ("phoenix", "langfuse", "datadog", "none")


def parse_evaluation_sinks(value: str) -> tuple[str, ...]:
    """Comma-separated sink names, lowercased, checked and deduplicated (``none``: empty).

    Raises:
        ValueError: If a name is not one of :data:`EVALUATION_SINKS`, or ``none`` is
            given with others.
    """
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in EVALUATION_SINKS]
    if unknown or not names:
        raise ValueError(
            f"evaluation sinks must be among {', '.join(EVALUATION_SINKS)}, not {value!r}"
        )
    if "none" in names and len(names) > 1:
        raise ValueError(f"evaluation sinks: 'none' cannot be combined with others ({value!r})")
    return tuple(dict.fromkeys(n for n in names if n != "none"))


def env_evaluation_sinks() -> tuple[str, ...] | None:
    """``SEMTRACE_EVALUATION_SINKS`` checked, or None if unset (a bad value warns, and is None)."""
    value = _env(SEMTRACE_EVALUATION_SINKS)
    if value is None:
        return None
    try:
        return parse_evaluation_sinks(value)
    except ValueError as exc:
        logger.warning(
            "%s: %s; choosing the sinks from the backend view", SEMTRACE_EVALUATION_SINKS, exc
        )
        return None


def _env_drop() -> frozenset[str]:
    value = _env(SEMTRACE_DROP_OPERATIONS)
    try:
        return parse_drop_operations(value)
    except ValueError as exc:
        logger.warning("%s: %s; recording every operation", SEMTRACE_DROP_OPERATIONS, exc)
        return frozenset()


class CaptureMode(enum.Enum):
    """Where prompt and completion text may be recorded (the GenAI conventions' values)."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        """Whether content goes into span attributes."""
        return self in (CaptureMode.SPAN_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        """Whether content goes into a ``gen_ai.client.inference.operation.details`` event.

        The event goes through the Logs API; its span-event form is written only where
        content may go on spans too (``SPAN_AND_EVENT``), so ``EVENT_ONLY`` keeps content
        out of the trace backend.
        """
        return self in (CaptureMode.EVENT_ONLY, CaptureMode.SPAN_AND_EVENT)

    @property
    def enabled(self) -> bool:
        """Whether any content is captured."""
        return self is not CaptureMode.NO_CONTENT


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_capture_mode(value: str | bool | CaptureMode) -> CaptureMode:
    """Turn an argument or env value into a :class:`CaptureMode`.

    Args:
        value: A mode, its name (any case), or a boolean-like (true means SPAN_ONLY).

    Returns:
        The mode.

    Raises:
        ValueError: If the value names no mode.
    """
    if isinstance(value, CaptureMode):
        return value
    if isinstance(value, bool):
        return CaptureMode.SPAN_ONLY if value else CaptureMode.NO_CONTENT
    text = str(value).strip()
    if text.lower() in _TRUE:
        return CaptureMode.SPAN_ONLY
    if text.lower() in _FALSE or not text:
        return CaptureMode.NO_CONTENT
    try:
        return CaptureMode(text.upper())
    except ValueError:
        names = ", ".join(m.value for m in CaptureMode)
        raise ValueError(
            f"capture_content must be one of {names} or a boolean, not {value!r}"
        ) from None


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value and value.strip() else None


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    logger.warning("%s=%r is not a boolean; using %s", name, value, default)
    return default


def _env_number(name: str, default: float, minimum: float) -> float:
    value = _env(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        logger.warning("%s=%r is not a number >= %s; using %s", name, value, minimum, default)
        return default
    return number


def env_prices_path() -> str | None:
    """The price table file named by ``SEMTRACE_PRICES``, if any (read by ``PriceTable.load``)."""
    value = _env(SEMTRACE_PRICES)
    return value.strip() if value else None


def env_default_prices() -> bool:
    """Whether the shipped prices apply (``SEMTRACE_DEFAULT_PRICES``, default true)."""
    return _env_bool(SEMTRACE_DEFAULT_PRICES, True)


def _env_capture() -> CaptureMode:
    value = _env(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)
    if value is None:
        return CaptureMode.NO_CONTENT
    try:
        return parse_capture_mode(value)
    except ValueError:
        logger.warning(
            "%s=%r is not a capture mode; no content is captured",
            OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
            value,
        )
        return CaptureMode.NO_CONTENT


#: ``Settings.grounding``: guess from the prompt, or one kind for every answer.
GROUNDING_CHOICES: Final = ("auto", "qa", "summary", "dialogue")


def _env_grounding() -> str:
    value = (_env(SEMTRACE_GROUNDING) or "auto").strip().lower()
    if value in GROUNDING_CHOICES:
        return value
    logger.warning(
        "%s=%r is not one of %s; using auto", SEMTRACE_GROUNDING, value, GROUNDING_CHOICES
    )
    return "auto"


Check = Callable[[str], Iterable[str] | bool]


@dataclass(frozen=True)
class SensitiveRule:
    """A ``sensitive_output`` rule of your own: what matches it in an answer is a violation.

    :mod:`semtrace.quality.sensitive` applies the rules; they live here so that
    :class:`Settings` checks them when it is built.

    Attributes:
        name: Recorded as the detector's name (never the matched text).
        match: A regular expression (``str`` or compiled), or a callable that takes the
            answer and returns the matched values (or ``True`` for "violated": such a
            violation is raised whatever the prompt held).
    """

    name: str
    match: str | re.Pattern[str] | Check

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError("a sensitive rule needs a name")
        if isinstance(self.match, str):
            object.__setattr__(self, "match", re.compile(self.match))
        elif not isinstance(self.match, re.Pattern) and not callable(self.match):
            raise ValueError(f"rule {self.name}: match must be a pattern or a callable")

    def find(self, text: str) -> list[str] | bool:
        """The values of ``text`` this rule matches (or ``True`` from a boolean callable)."""
        match = self.match
        if isinstance(match, re.Pattern):
            return [m.group(0) for m in match.finditer(text)]
        found = match(text)  # type: ignore[operator]
        if isinstance(found, bool):
            return found
        return [str(v) for v in found]


@dataclass(frozen=True)
class Settings:
    """Everything that changes what semtrace records, fixed when a handler is built.

    The constructor takes the values as given and never reads the environment; use
    :meth:`resolve` for "these arguments, else the ``SEMTRACE_*`` variables".

    Attributes:
        capture: Where prompt/completion text may be recorded.
        count_tokens: Count tokens with tiktoken when the provider reports none.
        default_encoding: tiktoken encoding for models tiktoken does not know.
        max_content_length: Longest text kept in one content string, in characters.
        redact: Called on every text before it is recorded (capture on only).
        trace_all_runs: Record framework plumbing (sequences, parsers, ...) as spans too.
        quality_signals: Compute the built-in quality signals.
        all_evaluation_events: Record a ``gen_ai.evaluation.result`` event for passing
            built-in signals too, not only for failing ones.
        drop_operations: Operations not recorded as spans (``DROP_PRESETS`` has presets).
        max_open_runs: Most runs held open at once.
        run_timeout_s: Seconds after which a run that never ended is ended and dropped.
        sensitive_rules: Your own rules for the ``sensitive_output`` check, on top of the
            built-in detectors.
        consistency: Score each model call's output against the earlier outputs of the same
            prompt for the same input (``SEMTRACE_CONSISTENCY``; bounded memory).
        background: Turn ended runs into telemetry (counts, signals, content, cost, metric
            points, span ends) on semtrace's worker thread, not the caller's.
        grounding: What groundedness judges an answer as: ``auto`` (guess from the
            prompt: retrieved passages, a text to summarise, knowledge in a system
            message), or always ``qa``, ``summary`` or ``dialogue``.
        span_events: Also write the GenAI events (``gen_ai.evaluation.result``, and
            ``gen_ai.client.inference.operation.details`` with ``SPAN_AND_EVENT``) as span
            events, for backends that read traces only. They always go through the Logs API.
        latest_conventions: Write the newest GenAI conventions (``semantic-conventions-genai``,
            in development) instead of the released 1.41 ones
            (``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``).
    """

    capture: CaptureMode = CaptureMode.NO_CONTENT
    count_tokens: bool = True
    default_encoding: str = DEFAULT_ENCODING
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    redact: Redactor | None = None
    trace_all_runs: bool = False
    quality_signals: bool = True
    all_evaluation_events: bool = False
    drop_operations: frozenset[str] = frozenset()
    max_open_runs: int = DEFAULT_MAX_OPEN_RUNS
    run_timeout_s: float = DEFAULT_RUN_TIMEOUT_S
    sensitive_rules: tuple[SensitiveRule, ...] = ()
    consistency: bool = False
    background: bool = True
    grounding: str = "auto"
    span_events: bool = True
    latest_conventions: bool = False

    def __post_init__(self) -> None:
        if self.max_content_length < 16:
            raise ValueError(f"max_content_length must be >= 16, not {self.max_content_length}")
        if self.max_open_runs < 1:
            raise ValueError(f"max_open_runs must be >= 1, not {self.max_open_runs}")
        if not self.run_timeout_s > 0:
            raise ValueError(f"run_timeout_s must be > 0, not {self.run_timeout_s}")
        parse_drop_operations(self.drop_operations)
        if self.redact is not None and not callable(self.redact):
            raise ValueError("redact must be a callable taking and returning a str")
        rules = tuple(self.sensitive_rules)
        if not all(isinstance(r, SensitiveRule) for r in rules):
            raise ValueError("sensitive_rules must hold SensitiveRule objects")
        object.__setattr__(self, "sensitive_rules", rules)
        if not isinstance(self.span_events, bool):
            raise ValueError(f"span_events must be True or False, not {self.span_events!r}")
        if self.grounding not in GROUNDING_CHOICES:
            raise ValueError(
                f"grounding must be one of {', '.join(GROUNDING_CHOICES)}, not {self.grounding!r}"
            )
        if not isinstance(self.latest_conventions, bool):
            raise ValueError(f"latest_conventions must be a bool, not {self.latest_conventions!r}")

    @classmethod
    def resolve(
        cls,
        *,
        capture_content: str | bool | CaptureMode | None = None,
        count_tokens: bool | None = None,
        redact: Redactor | None = None,
        trace_all_runs: bool | None = None,
        quality_signals: bool | None = None,
        all_evaluation_events: bool | None = None,
        max_content_length: int | None = None,
        drop_operations: str | frozenset[str] | set[str] | None = None,
        default_encoding: str | None = None,
        max_open_runs: int | None = None,
        run_timeout_s: float | None = None,
        consistency: bool | None = None,
        sensitive_rules: Sequence[SensitiveRule] | None = None,
        background: bool | None = None,
        grounding: str | None = None,
        span_events: bool | None = None,
        latest_conventions: bool | None = None,
    ) -> Settings:
        """Build settings from explicit arguments, else environment variables, else defaults.

        Unlike ``Settings(...)``, every argument left ``None`` is read from its
        environment variable (``redact`` has none).

        Args:
            capture_content: Capture mode; None reads
                ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (default no content).
            count_tokens: tiktoken fallback; None reads ``SEMTRACE_COUNT_TOKENS``.
            redact: Hook applied to every text before it is recorded.
            trace_all_runs: None reads ``SEMTRACE_TRACE_ALL_RUNS``.
            quality_signals: None reads ``SEMTRACE_QUALITY_SIGNALS``.
            all_evaluation_events: None reads ``SEMTRACE_ALL_EVALUATION_EVENTS``.
            max_content_length: None reads ``SEMTRACE_MAX_CONTENT_LENGTH``.
            drop_operations: A preset or operation names; None reads
                ``SEMTRACE_DROP_OPERATIONS``.
            default_encoding: None reads ``SEMTRACE_DEFAULT_ENCODING``.
            max_open_runs: None reads ``SEMTRACE_MAX_OPEN_RUNS``.
            run_timeout_s: None reads ``SEMTRACE_RUN_TIMEOUT``.
            consistency: The opt-in ``consistency`` signal; None reads
                ``SEMTRACE_CONSISTENCY`` (default off).
            sensitive_rules: Your own ``sensitive_output`` rules (no variable).
            background: The worker thread; None reads ``SEMTRACE_BACKGROUND`` (default on).
            grounding: ``auto``, ``qa``, ``summary`` or ``dialogue``; None reads
                ``SEMTRACE_GROUNDING`` (default ``auto``).
            span_events: The span-event form of the GenAI events; None reads
                ``SEMTRACE_SPAN_EVENTS`` (default on).
            latest_conventions: None reads ``OTEL_SEMCONV_STABILITY_OPT_IN`` (the newest
                conventions when it lists ``gen_ai_latest_experimental``).

        Returns:
            The settings.

        Raises:
            ValueError: If an explicit argument is invalid.
        """
        capture = _env_capture() if capture_content is None else parse_capture_mode(capture_content)
        return cls(
            capture=capture,
            count_tokens=(
                _env_bool(SEMTRACE_COUNT_TOKENS, True) if count_tokens is None else count_tokens
            ),
            default_encoding=(
                default_encoding or _env(SEMTRACE_DEFAULT_ENCODING) or DEFAULT_ENCODING
            ),
            max_content_length=(
                int(_env_number(SEMTRACE_MAX_CONTENT_LENGTH, DEFAULT_MAX_CONTENT_LENGTH, 16))
                if max_content_length is None
                else max_content_length
            ),
            redact=redact,
            trace_all_runs=(
                _env_bool(SEMTRACE_TRACE_ALL_RUNS, False)
                if trace_all_runs is None
                else trace_all_runs
            ),
            quality_signals=(
                _env_bool(SEMTRACE_QUALITY_SIGNALS, True)
                if quality_signals is None
                else quality_signals
            ),
            all_evaluation_events=(
                _env_bool(SEMTRACE_ALL_EVALUATION_EVENTS, False)
                if all_evaluation_events is None
                else all_evaluation_events
            ),
            drop_operations=(
                _env_drop() if drop_operations is None else parse_drop_operations(drop_operations)
            ),
            max_open_runs=(
                int(_env_number(SEMTRACE_MAX_OPEN_RUNS, DEFAULT_MAX_OPEN_RUNS, 1))
                if max_open_runs is None
                else max_open_runs
            ),
            run_timeout_s=(
                _env_number(SEMTRACE_RUN_TIMEOUT, DEFAULT_RUN_TIMEOUT_S, 0.001)
                if run_timeout_s is None
                else run_timeout_s
            ),
            consistency=(
                _env_bool(SEMTRACE_CONSISTENCY, False) if consistency is None else consistency
            ),
            sensitive_rules=tuple(sensitive_rules or ()),
            background=_env_bool(SEMTRACE_BACKGROUND, True) if background is None else background,
            grounding=grounding or _env_grounding(),
            span_events=(
                _env_bool(SEMTRACE_SPAN_EVENTS, True) if span_events is None else span_events
            ),
            latest_conventions=(
                semconv_latest.opted_in(_env(semconv_latest.OTEL_SEMCONV_STABILITY_OPT_IN))
                if latest_conventions is None
                else latest_conventions
            ),
        )
