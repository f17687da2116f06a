"""Verdicts leaving for the backends' own evaluation APIs: one record each, handed to the sinks.

Every verdict semtrace records as a ``gen_ai.evaluation.result`` (a signal, a check, the
judge's, the trace's diagnosis, user feedback) is also offered here as an
:class:`EvaluationRecord`. With no sink installed (the default) that is one test of an
empty tuple. Sinks (:mod:`semtrace.export.evaluations`, installed by ``configure()``) only
queue the record: their HTTP runs on their own thread, never on the caller's or the worker's.

The hub sits in ``_telemetry`` so that both the worker (``ending``) and the caller's side
(``feedback``) reach it, and ``export`` installs the sinks from above.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol

from opentelemetry import trace
from opentelemetry.context import Context

from semtrace import semconv
from semtrace._telemetry.content import cut, safe_str, valid_utf8
from semtrace.quality import checks, judge, signals
from semtrace.quality.types import Evaluation
from semtrace.safety import record_fault

#: Who made a verdict, in Phoenix's words (the others map it to their own).
AnnotatorKind = Literal["CODE", "LLM", "HUMAN"]
#: The evaluation name of the trace's diagnosis.
DIAGNOSIS: Final = "diagnosis"
#: Longest explanation a record carries, as on the ``gen_ai.evaluation.result`` event.
MAX_EXPLANATION_CHARS: Final = 2000
_LLM_VERDICTS: Final = frozenset({judge.JUDGE, judge.FINAL})


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One verdict on one span, in the vocabulary of ``gen_ai.evaluation.result``.

    Attributes:
        trace_id: The evaluated span's trace id (128-bit int).
        span_id: The evaluated span's id (64-bit int).
        name: ``gen_ai.evaluation.name`` (``groundedness``, ``user_feedback``, ``diagnosis``).
        score: ``gen_ai.evaluation.score.value``; None when the verdict is only a label.
        label: ``gen_ai.evaluation.score.label`` (``pass``, ``fail``, ``uncertain``...).
        explanation: ``gen_ai.evaluation.explanation``, bounded.
        annotator: ``CODE`` (semtrace's signals and checks), ``LLM`` (the judge) or
            ``HUMAN`` (user feedback).
        time_ns: When the verdict was made.
        metadata: A few strings about it (the operation evaluated, the diagnosis' signal).
        flag: Whether the verdict is a raised flag rather than a score.
    """

    trace_id: int
    span_id: int
    name: str
    score: float | None
    label: str | None
    explanation: str | None
    annotator: AnnotatorKind
    time_ns: int = field(default_factory=time.time_ns)
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: A raised flag (``empty_output``, ``truncated``...): its score is 1.0, a yes.
    flag: bool = False

    @property
    def trace_id_hex(self) -> str:
        """32 hex digits, as OTLP backends show trace ids."""
        return format(self.trace_id, "032x")

    @property
    def span_id_hex(self) -> str:
        """16 hex digits."""
        return format(self.span_id, "016x")


class Receiver(Protocol):
    """What the hub hands records to: a sink's ``offer`` must only queue, never block."""

    name: str

    def offer(self, record: EvaluationRecord) -> None:
        """Queue ``record`` for sending (drop it, counted, when the queue is full)."""


_receivers: tuple[Receiver, ...] = ()


def install(receivers: Sequence[Receiver]) -> None:
    """Send every record from now on to ``receivers`` (empty: to none)."""
    global _receivers
    _receivers = tuple(receivers)


def installed() -> tuple[Receiver, ...]:
    """The sinks records go to."""
    return _receivers


def publish(record: EvaluationRecord) -> None:
    """Offer ``record`` to every sink; a sink that fails costs only its own copy."""
    for receiver in _receivers:
        try:
            receiver.offer(record)
        except Exception:
            record_fault(f"evaluation sink {getattr(receiver, 'name', '?')}")


def evaluation(context: Context, ev: Evaluation, operation: str | None = None) -> None:
    """A signal's, a check's or an evaluator's verdict on the span current in ``context``.

    ``context`` is the run's: its current span is the evaluated one, also for a background
    result recorded on a child ``evaluate`` span.
    """
    if not _receivers:
        return
    ctx = trace.get_current_span(context).get_span_context()
    if not (ctx.is_valid and ctx.trace_flags.sampled):
        return  # a span that is not exported: nothing in the backend to attach it to
    annotator: AnnotatorKind = "LLM" if ev.call is not None or ev.name in _LLM_VERDICTS else "CODE"
    publish(
        EvaluationRecord(
            ctx.trace_id,
            ctx.span_id,
            ev.name,
            float(ev.value),
            ev.label or None,
            _explanation(ev.explanation),
            annotator,
            metadata={semconv.GEN_AI_OPERATION_NAME: operation} if operation else {},
            flag=ev.name in signals.FLAGS or ev.name in checks.FLAGS,
        )
    )


def diagnosis(span: trace.Span, name: str, signal: str | None, at_span: int | None) -> None:
    """The trace's diagnosis (``none`` when nothing failed), on its root span."""
    if not _receivers:
        return
    ctx = span.get_span_context()
    if not (ctx.is_valid and ctx.trace_flags.sampled):
        return  # an unsampled trace: no root in the backend, and no verdict was computed
    metadata: dict[str, str] = {}
    explanation = None
    if signal:
        metadata[semconv.SEMTRACE_DIAGNOSIS_SIGNAL] = signal
        explanation = f"{signal} failed"
    if at_span:
        metadata[semconv.SEMTRACE_DIAGNOSIS_SPAN_ID] = format(at_span, "016x")
        explanation = f"{explanation or 'failed'} on span {at_span:016x}"
    publish(
        EvaluationRecord(
            ctx.trace_id, ctx.span_id, DIAGNOSIS, None, name, explanation, "CODE", metadata=metadata
        )
    )


def feedback(
    trace_id: int, span_id: int, score: float, label: str | None, comment: str | None
) -> None:
    """A user's feedback on a span (the trace's root, or the span the app named)."""
    if not _receivers:
        return
    publish(
        EvaluationRecord(
            trace_id,
            span_id,
            semconv.EVALUATION_USER_FEEDBACK,
            score,
            label,
            _explanation(comment),
            "HUMAN",
        )
    )


def _explanation(text: str | None) -> str | None:
    if not text:
        return None
    return valid_utf8(cut(safe_str(text), MAX_EXPLANATION_CHARS)) or None


__all__ = [
    "AnnotatorKind",
    "EvaluationRecord",
    "Receiver",
    "diagnosis",
    "evaluation",
    "feedback",
    "install",
    "installed",
    "publish",
]
