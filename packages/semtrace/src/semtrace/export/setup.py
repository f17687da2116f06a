"""One call to send traces, metrics and GenAI events somewhere, set by the OTEL_* variables.

Example:
    >>> from semtrace.export.setup import configure, flush
    >>> providers = configure(service_name="rag-demo")  # doctest: +SKIP
    >>> # ... run a chain: with no OTLP endpoint set, each trace prints as a tree on stderr
    >>> flush()  # doctest: +SKIP

What ``configure()`` sets up, per signal:

* ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` /
  ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``) set: an OTLP exporter, ``http/protobuf``
  unless ``OTEL_EXPORTER_OTLP_PROTOCOL`` (or ``OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL``) is
  ``grpc``. The exporters read endpoint, headers, timeout, compression and TLS settings
  from the environment themselves; the HTTP exporter appends ``/v1/traces`` or
  ``/v1/metrics`` to ``OTEL_EXPORTER_OTLP_ENDPOINT`` and uses a signal-specific endpoint
  as given. Spans go through a ``BatchSpanProcessor`` (``OTEL_BSP_*``), metrics through
  a ``PeriodicExportingMetricReader`` (``OTEL_METRIC_EXPORT_*``).
* No endpoint for traces: each finished trace is printed as a tree
  (:class:`semtrace.export.console.ConsoleTreeExporter`) on ``file``, by default ``sys.stderr``
  so that it never mixes with a program's own output. ``console=True`` prints the tree
  in addition to OTLP; ``console=False`` never prints it.
* No endpoint for metrics: no meter provider is set, so metrics are not exported (and
  flow to whatever meter provider the app sets later).
* ``OTEL_TRACES_EXPORTER=none`` / ``OTEL_METRICS_EXPORTER=none`` turn that signal's OTLP
  export off (and, for traces, the default tree; ``console=True`` still prints it).
* A backend view (:mod:`semtrace.views`, ``backend_view=`` or ``SEMTRACE_BACKEND_VIEW``)
  adds the attributes Langfuse or Phoenix read to the OTLP-exported spans only; the Langfuse
  view is chosen by itself when the traces endpoint is Langfuse's ``/api/public/otel``.
* Evaluation sinks (:mod:`semtrace.export.evaluations`, ``evaluation_sinks=`` or
  ``SEMTRACE_EVALUATION_SINKS``) send every verdict and user feedback to Phoenix, Langfuse
  or Datadog as their own evaluations; the Phoenix and Langfuse views bring theirs.
* ``OTEL_METRICS_EXPORTER=prometheus``: metrics are served for Prometheus to scrape, by an
  ``opentelemetry-exporter-prometheus`` ``PrometheusMetricReader`` and a ``/metrics`` HTTP
  server on ``OTEL_EXPORTER_PROMETHEUS_HOST`` (default ``localhost``) :
  ``OTEL_EXPORTER_PROMETHEUS_PORT`` (default ``9464``), as the OpenTelemetry specification
  says. No OTLP endpoint is needed; metrics go over OTLP too only if the (comma-separated)
  list also names ``otlp``. Needs ``pip install "semtrace[prometheus]"``.
* Logs (the GenAI events): OTLP when a logs endpoint is known, and ``OTEL_LOGS_EXPORTER``
  (``otlp``, ``console``, ``none``); not to backends known to take traces only (Langfuse,
  Phoenix). See :mod:`semtrace.export.logs`. No logger provider is set when nothing is exported.

A provider the application already set is never replaced, and a second call returns
what the first one did. Spans still queued are exported when the interpreter exits.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider as SdkLoggerProvider
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from semtrace import _worker as worker
from semtrace._telemetry.events import LOGS_API_EVENTS
from semtrace.export import logs, views
from semtrace.export.console import ConsoleTreeExporter
from semtrace.export.dedupe import DuplicateModelSpanFilter
from semtrace.export.evaluations import registry as evaluation_sinks_registry
from semtrace.export.evaluations.sink import EvaluationSink
from semtrace.private_apis import is_unset_logger_provider, is_unset_meter_provider
from semtrace.quality.evaluators import wait_for_evaluations

__all__ = ["Providers", "configure", "flush", "shutdown"]

_logger = logging.getLogger(__name__)

Signal = Literal["traces", "metrics", "logs"]
OtlpProtocol = Literal["http/protobuf", "grpc"]

_PROTOCOLS: tuple[OtlpProtocol, ...] = ("http/protobuf", "grpc")
_GRPC_EXTRA = 'pip install "semtrace[grpc]"'
_PROMETHEUS_EXTRA = 'pip install "semtrace[prometheus]"'
#: Defaults from the OpenTelemetry specification (SDK environment variables).
_PROMETHEUS_DEFAULT_HOST = "localhost"
_PROMETHEUS_DEFAULT_PORT = 9464
_EXPORTER_MODULES: dict[tuple[Signal, OtlpProtocol], tuple[str, str]] = {
    ("traces", "http/protobuf"): (
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "OTLPSpanExporter",
    ),
    ("traces", "grpc"): (
        "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        "OTLPSpanExporter",
    ),
    ("metrics", "http/protobuf"): (
        "opentelemetry.exporter.otlp.proto.http.metric_exporter",
        "OTLPMetricExporter",
    ),
    ("metrics", "grpc"): (
        "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
        "OTLPMetricExporter",
    ),
    ("logs", "http/protobuf"): (
        "opentelemetry.exporter.otlp.proto.http._log_exporter",
        "OTLPLogExporter",
    ),
    ("logs", "grpc"): (
        "opentelemetry.exporter.otlp.proto.grpc._log_exporter",
        "OTLPLogExporter",
    ),
}


@dataclass(frozen=True)
class Providers:
    """The providers in effect after :func:`configure`.

    These are the global providers: the SDK ones ``configure()`` made, or whatever the
    application had set before (which may not be an SDK provider). When metrics are not
    exported, ``meter_provider`` is the API's default (a no-op proxy until someone sets
    one).

    Attributes:
        tracer_provider: The global tracer provider.
        meter_provider: The global meter provider.
        logger_provider: The global logger provider (the GenAI events); the API's
            default, a no-op until one is set, when logs are not exported.
    """

    tracer_provider: trace.TracerProvider
    meter_provider: metrics.MeterProvider
    logger_provider: _logs.LoggerProvider | None = None


_lock = threading.Lock()
_configured: Providers | None = None
_owned_tracer_provider: SdkTracerProvider | None = None
_owned_meter_provider: SdkMeterProvider | None = None
_owned_logger_provider: SdkLoggerProvider | None = None


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _exporter_names(signal: Signal) -> list[str]:
    """The exporters listed (comma-separated) in ``OTEL_{SIGNAL}_EXPORTER``, lowercased."""
    value = _env(f"OTEL_{signal.upper()}_EXPORTER").lower()
    return [name.strip() for name in value.split(",") if name.strip()]


def _prometheus_wanted() -> bool:
    return "prometheus" in _exporter_names("metrics")


def _otlp_wanted(signal: Signal) -> bool:
    """Whether an OTLP endpoint is configured for the signal and its exporter not ``none``.

    For metrics, ``OTEL_METRICS_EXPORTER=prometheus`` (without ``otlp`` in the list) also
    turns OTLP off.
    """
    upper = signal.upper()
    if _env(f"OTEL_{upper}_EXPORTER").lower() == "none":
        return False
    names = _exporter_names(signal)
    if "prometheus" in names and "otlp" not in names:
        return False
    return bool(_env("OTEL_EXPORTER_OTLP_ENDPOINT") or _env(f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT"))


def _protocol(signal: Signal) -> OtlpProtocol:
    """The OTLP protocol for the signal, from the signal-specific variable first.

    Raises:
        ValueError: The variable holds a protocol this package cannot send.
    """
    specific = f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL"
    name = specific if _env(specific) else "OTEL_EXPORTER_OTLP_PROTOCOL"
    value = _env(name).lower() or "http/protobuf"
    for protocol in _PROTOCOLS:
        if value == protocol:
            return protocol
    raise ValueError(
        f"{name}={os.environ.get(name)!r} is not a supported OTLP protocol; "
        f"use one of: {', '.join(_PROTOCOLS)}"
    )


def _exporter_class(signal: Signal, protocol: OtlpProtocol) -> Any:
    """The OTLP exporter class for a signal and protocol.

    Raises:
        ImportError: gRPC was asked for but its exporter package is not installed.
    """
    module_name, class_name = _EXPORTER_MODULES[(signal, protocol)]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if protocol == "grpc":
            raise ImportError(
                f"OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the gRPC exporter, which is not "
                f"installed: {_GRPC_EXTRA} (or use the default http/protobuf)"
            ) from exc
        raise
    return getattr(module, class_name)


def _prometheus_reader() -> MetricReader:
    """A ``PrometheusMetricReader`` whose ``/metrics`` server is already listening.

    Raises:
        ImportError: ``opentelemetry-exporter-prometheus`` is not installed.
        ValueError: ``OTEL_EXPORTER_PROMETHEUS_PORT`` is not a port number.
        OSError: The server could not listen on the host and port (e.g. port in use).
    """
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import start_http_server
    except ImportError as exc:
        raise ImportError(
            "OTEL_METRICS_EXPORTER=prometheus needs the Prometheus exporter, which is not "
            f"installed: {_PROMETHEUS_EXTRA}"
        ) from exc
    host = _env("OTEL_EXPORTER_PROMETHEUS_HOST") or _PROMETHEUS_DEFAULT_HOST
    raw_port = _env("OTEL_EXPORTER_PROMETHEUS_PORT")
    try:
        port = int(raw_port) if raw_port else _PROMETHEUS_DEFAULT_PORT
        if not 0 <= port <= 65535:
            raise ValueError(port)
    except ValueError:
        raise ValueError(
            f"OTEL_EXPORTER_PROMETHEUS_PORT={raw_port!r} is not a TCP port number"
        ) from None
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot serve Prometheus metrics on {host}:{port} ({exc.strerror or exc}); "
            "set OTEL_EXPORTER_PROMETHEUS_HOST / OTEL_EXPORTER_PROMETHEUS_PORT",
        ) from exc
    _logger.info("metrics: Prometheus /metrics served on http://%s:%d", host, port)
    return PrometheusMetricReader()


def _resource(service_name: str | None) -> Resource:
    return Resource.create({SERVICE_NAME: service_name} if service_name else None)


def configure(
    *,
    service_name: str | None = None,
    console: bool | None = None,
    file: TextIO | None = None,
    backend_view: str | None = None,
    evaluation_sinks: str | Sequence[str | EvaluationSink] | None = None,
    verdicts: bool = False,
    strip_content: bool = False,
) -> Providers:
    """Set up tracing and metrics export from the standard ``OTEL_*`` environment variables.

    See the module documentation for what is chosen when. Safe to call more than once
    and from several threads: only the first call does anything. Never replaces a
    provider the application set itself.

    Args:
        service_name: ``service.name`` of the resource; wins over ``OTEL_SERVICE_NAME``.
            The rest of the resource comes from ``Resource.create()``, which reads
            ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``.
        console: ``True`` prints each trace as a tree even when exporting over OTLP;
            ``False`` never prints it. ``None`` (default) prints it when traces have
            no OTLP endpoint.
        file: Where the tree is written. ``None`` means ``sys.stderr``.
        backend_view: Attributes one backend reads, added to the spans at OTLP export
            (:mod:`semtrace.views`): ``"langfuse"``, ``"phoenix"`` or ``"none"``. ``None``
            reads ``SEMTRACE_BACKEND_VIEW``, else picks ``"langfuse"`` when the OTLP
            traces endpoint is Langfuse's (``/api/public/otel``).
        evaluation_sinks: Where verdicts and user feedback go as the backend's own
            evaluations (:mod:`semtrace.export.evaluations`): ``"phoenix"``,
            ``"langfuse"``, ``"datadog"`` (comma-separated, or a list of names and
            :class:`~semtrace.export.evaluations.EvaluationSink` objects) or ``"none"``.
            ``None`` reads ``SEMTRACE_EVALUATION_SINKS``, else takes the backend view's
            sink (Phoenix's or Langfuse's) when traces go over OTLP.
        verdicts: Judge the GenAI spans other instrumentations make (the official
            OpenTelemetry ones, OpenInference, OpenLLMetry, PydanticAI) with
            :class:`semtrace.adopt.VerdictProcessor`: their spans are exported with
            semtrace's verdicts, diagnosis and cost. On a tracer provider the application
            set itself, the verdicts are emitted as spans of their own instead.
        strip_content: With ``verdicts``: export those spans without their prompt,
            answer, document and tool text (judged with it, stored without it).

    Returns:
        The global tracer and meter providers now in effect.

    Raises:
        ValueError: ``OTEL_EXPORTER_OTLP_PROTOCOL`` (or a signal-specific one) names a
            protocol other than ``http/protobuf`` or ``grpc``, ``backend_view`` names
            no view, or ``evaluation_sinks`` names an unknown sink or one that lacks its
            URL or credentials, or ``strip_content`` is asked for without ``verdicts``.
        TypeError: ``evaluation_sinks`` holds something that is neither a name nor a sink.
        ImportError: gRPC was asked for but ``opentelemetry-exporter-otlp-proto-grpc``
            is not installed (``pip install "semtrace[grpc]"``), or Prometheus was asked
            for but ``opentelemetry-exporter-prometheus`` is not
            (``pip install "semtrace[prometheus]"``).
        OSError: ``OTEL_METRICS_EXPORTER=prometheus`` and the ``/metrics`` server cannot
            listen on ``OTEL_EXPORTER_PROMETHEUS_HOST``:``OTEL_EXPORTER_PROMETHEUS_PORT``.
    """
    global _configured, _owned_tracer_provider, _owned_meter_provider, _owned_logger_provider
    if strip_content and not verdicts:
        raise ValueError("strip_content=True needs verdicts=True: it strips judged spans")
    with _lock:
        if _configured is not None:
            _logger.debug("semtrace.configure() already ran; returning the same providers")
            return _configured

        if backend_view is not None:
            views.make_view(backend_view)  # a wrong name raises now, endpoint or not
        current_tp = trace.get_tracer_provider()
        current_mp = metrics.get_meter_provider()
        current_lp = _logs.get_logger_provider()
        set_tp = isinstance(current_tp, trace.ProxyTracerProvider)
        set_mp = is_unset_meter_provider(current_mp)
        set_lp = LOGS_API_EVENTS and is_unset_logger_provider(current_lp)
        if not set_tp:
            _logger.info(
                "a tracer provider is already set (%s); semtrace leaves it in place",
                type(current_tp).__name__,
            )
        if not set_mp:
            _logger.info(
                "a meter provider is already set (%s); semtrace leaves it in place",
                type(current_mp).__name__,
            )

        # Build everything before setting anything, so that an error leaves no half setup.
        otlp_traces = set_tp and _otlp_wanted("traces")
        otlp_metrics = set_mp and _otlp_wanted("metrics")
        prometheus_metrics = set_mp and _prometheus_wanted()
        # The traces' backend view; the logs heed it (a backend that takes traces only).
        view = views.choose_view(backend_view) if (otlp_traces or set_lp) else "none"
        span_exporter: SpanExporter | None = None
        metric_exporter: MetricExporter | None = None
        if otlp_traces:
            protocol = _protocol("traces")
            span_exporter = _exporter_class("traces", protocol)()
            _logger.debug("traces: OTLP over %s", protocol)
            # Backend-specific attributes are added on the export thread, never the caller's.
            span_exporter = views.wrap(span_exporter, view)
        # The sinks a view brings come with the traces it shapes.
        sinks = evaluation_sinks_registry.choose(
            evaluation_sinks, view if otlp_traces else "none", service_name
        )
        if otlp_metrics:
            protocol = _protocol("metrics")
            metric_exporter = _exporter_class("metrics", protocol)()
            _logger.debug("metrics: OTLP over %s", protocol)
        readers: list[MetricReader] = []
        if metric_exporter is not None:
            readers.append(PeriodicExportingMetricReader(metric_exporter))
        log_processors = (
            logs.processors(
                lambda: _exporter_class("logs", _protocol("logs"))(),
                file,
                view,
            )
            if set_lp
            else []
        )
        if prometheus_metrics:  # last: it starts a server, so only once nothing else can fail
            readers.append(_prometheus_reader())
        resource = _resource(service_name) if (set_tp or readers or log_processors) else None

        tracer_provider: trace.TracerProvider = current_tp
        if set_tp:
            if console is None:
                console = not otlp_traces and _env("OTEL_TRACES_EXPORTER").lower() != "none"
            processors: list[SpanProcessor] = []
            if span_exporter is not None:
                processors.append(BatchSpanProcessor(span_exporter))
            if console:
                processors.append(SimpleSpanProcessor(ConsoleTreeExporter(file)))
            sdk_tp = SdkTracerProvider(resource=resource)
            if processors:
                # One LLM call, one span: drop a provider SDK instrumentation's duplicate of it.
                exporting: SpanProcessor = DuplicateModelSpanFilter(*processors)
                if verdicts:  # other instrumentations' spans exported with their verdicts
                    exporting = _verdicts(exporting, strip_content=strip_content)
                sdk_tp.add_span_processor(exporting)
            trace.set_tracer_provider(sdk_tp)
            tracer_provider = trace.get_tracer_provider()
            if tracer_provider is sdk_tp:
                _owned_tracer_provider = sdk_tp
            else:  # another thread set one first
                sdk_tp.shutdown()

        if verdicts and not set_tp:
            _judge_on(current_tp, strip_content)

        meter_provider: metrics.MeterProvider = current_mp
        if readers:
            sdk_mp = SdkMeterProvider(resource=resource, metric_readers=readers)
            metrics.set_meter_provider(sdk_mp)
            meter_provider = metrics.get_meter_provider()
            if meter_provider is sdk_mp:
                _owned_meter_provider = sdk_mp
            else:
                sdk_mp.shutdown()

        logger_provider = current_lp
        if log_processors:
            sdk_lp = SdkLoggerProvider(resource=resource)
            for processor in log_processors:
                sdk_lp.add_log_record_processor(processor)
            _logs.set_logger_provider(sdk_lp)
            logger_provider = _logs.get_logger_provider()
            if logger_provider is sdk_lp:
                _owned_logger_provider = sdk_lp
            else:
                sdk_lp.shutdown()

        evaluation_sinks_registry.start(sinks)
        _configured = Providers(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
        )
        return _configured


def _verdicts(*downstream: SpanProcessor, **options: Any) -> SpanProcessor:
    # Imported on use: an app that never asks for verdicts never loads the translations.
    from semtrace.adopt import VerdictProcessor

    return VerdictProcessor(*downstream, **options)


def _judge_on(provider: trace.TracerProvider, strip_content: bool) -> None:
    """Verdicts on the application's own provider: emitted, as its exporters run first."""
    if not isinstance(provider, SdkTracerProvider):
        _logger.warning("verdicts=True needs an SDK tracer provider; %s is not one", provider)
        return
    if strip_content:
        _logger.warning("strip_content=True has no effect on a provider semtrace did not set")
    provider.add_span_processor(_verdicts(tracer_provider=provider))


def _targets() -> tuple[object, object]:
    if _configured is not None:
        return _configured.tracer_provider, _configured.meter_provider
    return trace.get_tracer_provider(), metrics.get_meter_provider()


def flush(timeout_millis: int = 30_000) -> bool:
    """Export now whatever spans and metrics are queued.

    Waits for the runs semtrace's worker is still turning into telemetry, for queued
    background evaluations and for the evaluation sinks' queues first, then flushes the
    providers
    :func:`configure` set up, or, before it ran, the global ones if they are SDK
    providers. Call it at the end of a serverless handler or a CLI script.

    Args:
        timeout_millis: Most time to wait, for both signals together.

    Returns:
        ``True`` if everything was flushed in time (or there was nothing to flush).
    """
    deadline = time.monotonic() + timeout_millis / 1000
    # Runs still being turned into telemetry on the worker, and background evaluators
    # still working, would add spans after the flush: wait for both first.
    ok = wait_for_evaluations(timeout_millis / 1000)
    left_s = max(0.0, deadline - time.monotonic())
    ok = evaluation_sinks_registry.flush(left_s) and ok  # verdicts queued for evaluation APIs
    tracer_provider, meter_provider = _targets()
    try:
        if isinstance(tracer_provider, SdkTracerProvider):
            left_ms = max(0.0, (deadline - time.monotonic()) * 1000)
            ok = tracer_provider.force_flush(int(left_ms)) and ok
        if isinstance(meter_provider, SdkMeterProvider):
            left_ms = max(0.0, (deadline - time.monotonic()) * 1000)
            ok = meter_provider.force_flush(left_ms) and ok
        logger_provider = (
            _configured.logger_provider if _configured is not None else _logs.get_logger_provider()
        )
        if isinstance(logger_provider, SdkLoggerProvider):
            left_ms = max(0.0, (deadline - time.monotonic()) * 1000)
            ok = logger_provider.force_flush(int(left_ms)) and ok
    except Exception:  # the SDK raises when a metric reader fails or times out
        _logger.debug("semtrace.flush() failed", exc_info=True)
        return False
    return ok


def shutdown() -> None:
    """Flush and shut down the providers :func:`configure` created.

    Providers the application set itself are left alone. OpenTelemetry does not allow
    replacing a global provider, so after this, tracing and metrics stay off for the
    life of the process, and ``configure()`` keeps returning the shut-down providers.
    There is no need to call it at exit: that happens on its own.
    """
    worker.drain(worker.EXIT_WAIT_S)
    evaluation_sinks_registry.shutdown()
    # The logger provider first: its last events belong to spans still being exported.
    for provider in (_owned_logger_provider, _owned_tracer_provider, _owned_meter_provider):
        if provider is not None:
            try:
                provider.shutdown()
            except Exception:
                _logger.debug("semtrace.shutdown() failed", exc_info=True)
