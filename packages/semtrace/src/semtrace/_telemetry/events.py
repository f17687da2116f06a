"""The GenAI events, as the conventions define them: log records through the Logs API.

Two events: ``gen_ai.client.inference.operation.details`` (a model call's attributes and
its content, with content capture on the event) and ``gen_ai.evaluation.result`` (every
signal, check and evaluator verdict recorded as an event). Each is one log record with
its event name, the attributes the conventions define for it, and the context of the
span it belongs to, so that a backend joins it to its trace and span.

Their older form, span events, is also written while ``Settings.span_events`` is on (the
default): backends that read traces only (Jaeger, Tempo, Phoenix) keep showing them. The
inference-details span event holds content, so it is written only where content may go
on spans (``SPAN_AND_EVENT``): ``EVENT_ONLY`` keeps content out of the trace backend.

Without a logger provider (none given, and none set globally) the Logs API is a no-op
and :meth:`Logger.enabled` says so, so nothing is built. An OpenTelemetry API older than
1.35 has no event name on its log records: there, only the span-event form is written.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import trace
from opentelemetry._logs import Logger, LogRecord, SeverityNumber, get_logger

from semtrace import semconv
from semtrace._telemetry.attributes import Attributes
from semtrace.config import Settings
from semtrace.safety import record_fault

#: Whether the installed API's log records carry an event name and a context (1.35+).
LOGS_API_EVENTS: Final = {"event_name", "context"} <= set(
    inspect.signature(LogRecord.__init__).parameters
)

#: Content the spans hold as JSON text and the events as structured values.
_STRUCTURED: Final = frozenset(
    {
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_DEFINITIONS,
    }
)
#: The attributes of the inference span the details event repeats (the conventions'
#: ``gen_ai.client.inference`` group: ``gen_ai.*``, ``server.*`` and ``error.type``).
_SPAN_PREFIXES: Final = ("gen_ai.", "server.")
#: The conventions ask for DEBUG on the details event (it can be large and is opt-in).
_DETAILS_SEVERITY: Final = SeverityNumber.DEBUG
_EVALUATION_SEVERITY: Final = SeverityNumber.INFO


class Events:
    """Writes the GenAI events of one recorder: log records, and their span-event form.

    Args:
        settings: ``span_events`` and the capture mode are read.
        logger_provider: Where the log records go; None: the global provider.
        scope_name: The instrumentation scope (the integration's package).
        scope_version: Its version.
    """

    def __init__(
        self,
        settings: Settings,
        logger_provider: Any = None,
        scope_name: str = semconv.SCOPE_NAME,
        scope_version: str = "",
    ) -> None:
        self.span_events = settings.span_events
        #: The details span event holds content: written only where spans may hold it.
        self.details_on_span = settings.span_events and settings.capture.on_span
        self._logger: Logger | None = None
        if LOGS_API_EVENTS:
            self._logger = get_logger(
                scope_name, scope_version, logger_provider, schema_url=semconv.SCHEMA_URL
            )

    def inference_details(
        self, span: trace.Span, attributes: Mapping[str, Any], content: Mapping[str, Any]
    ) -> None:
        """A model call's ``gen_ai.client.inference.operation.details`` event.

        Args:
            span: The model call's span (not ended yet).
            attributes: The span's attributes gathered at its end (request, response,
                usage, error type) and its metric attributes (operation, provider,
                models, server); only the conventions' keys are kept.
            content: The call's content as the span would hold it (JSON text, already
                redacted and within ``max_content_length``).
        """
        if self.details_on_span:
            span.add_event(semconv.EVENT_INFERENCE_DETAILS, dict(content))
        if not self._wanted(span, semconv.EVENT_INFERENCE_DETAILS):
            return
        attrs: dict[str, Any] = {
            k: v
            for k, v in attributes.items()
            if (k.startswith(_SPAN_PREFIXES) or k == semconv.ERROR_TYPE) and k not in _STRUCTURED
        }
        attrs.update((k, _structured(k, v)) for k, v in content.items())
        self._emit(span, semconv.EVENT_INFERENCE_DETAILS, attrs, _DETAILS_SEVERITY)

    def evaluation(self, span: trace.Span, details: Attributes, about: Attributes) -> None:
        """One ``gen_ai.evaluation.result`` event on the evaluated span.

        Args:
            span: The span evaluated (or the ``evaluate`` span of a late result).
            details: The event's own attributes (name, score value and label,
                explanation, response id), as the span event holds them.
            about: The evaluated operation (``gen_ai.operation.name``, provider, model),
                added to the log record only: backends reading logs alone need them.
        """
        if self.span_events:
            span.add_event(semconv.EVENT_EVALUATION_RESULT, details)
        self.evaluation_record(span, {**about, **details})

    def evaluation_record(self, span: trace.Span, attrs: Attributes) -> None:
        """The log record of a ``gen_ai.evaluation.result`` event, without its span event.

        User feedback's: the span event is the feedback span's whole point, always written.
        """
        if self._wanted(span, semconv.EVENT_EVALUATION_RESULT):
            self._emit(span, semconv.EVENT_EVALUATION_RESULT, dict(attrs), _EVALUATION_SEVERITY)

    def _wanted(self, span: trace.Span, name: str) -> bool:
        """Whether a log record would go anywhere (no provider: nothing is built)."""
        logger = self._logger
        if logger is None:
            return False
        enabled = getattr(logger, "enabled", None)
        if enabled is None:
            return True
        try:
            return bool(enabled(context=trace.set_span_in_context(span), event_name=name))
        except Exception:
            return True  # an SDK that cannot say: emit, its processors decide

    def _emit(
        self, span: trace.Span, name: str, attrs: dict[str, Any], severity: SeverityNumber
    ) -> None:
        logger = self._logger
        if logger is None:
            return
        try:
            logger.emit(
                LogRecord(
                    timestamp=time.time_ns(),
                    context=trace.set_span_in_context(span),
                    severity_number=severity,
                    severity_text=severity.name,
                    event_name=name,
                    attributes=attrs,
                )
            )
        except Exception:
            # A processor or exporter that raises on the worker loses this event only.
            record_fault(f"event {name}")


def _structured(key: str, value: Any) -> Any:
    """A content attribute as the event holds it: JSON text made a value again.

    The text was bounded and redacted as a whole; parsing it back keeps both.
    """
    if key not in _STRUCTURED or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
