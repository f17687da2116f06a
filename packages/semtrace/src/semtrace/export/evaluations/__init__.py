"""Evaluation sinks: semtrace's verdicts and user feedback as each backend's own evaluations.

Spans carry every verdict as ``gen_ai.evaluation.result`` events and ``semtrace.quality.*``
attributes; a backend shows those as raw span data. A sink sends the same verdicts through
the backend's evaluation API, where its evaluation columns, filters and charts read them:

* ``phoenix`` (:class:`PhoenixSink`): span annotations.
* ``langfuse`` (:class:`LangfuseSink`): scores on the trace and observation.
* ``datadog`` (:class:`DatadogSink`): LLM Observability evaluations on OTLP-ingested spans.

Example:
    >>> import semtrace
    >>> semtrace.configure(evaluation_sinks="phoenix")  # doctest: +SKIP

or ``SEMTRACE_EVALUATION_SINKS=phoenix,datadog``; with neither, the Phoenix or Langfuse
view brings its sink. Sinks queue on the caller's side and send from a thread of their
own (:class:`EvaluationSink`): batched, bounded, retried with backoff, drops counted.
A sink of your own subclasses :class:`EvaluationSink` and implements ``requests``.
"""

from semtrace._telemetry.outbox import AnnotatorKind, EvaluationRecord
from semtrace.export.evaluations.datadog import DatadogSink
from semtrace.export.evaluations.langfuse import LangfuseSink
from semtrace.export.evaluations.phoenix import PhoenixSink
from semtrace.export.evaluations.sink import EvaluationSink, HttpRequest, HttpResponse

__all__ = [
    "AnnotatorKind",
    "DatadogSink",
    "EvaluationRecord",
    "EvaluationSink",
    "HttpRequest",
    "HttpResponse",
    "LangfuseSink",
    "PhoenixSink",
]
