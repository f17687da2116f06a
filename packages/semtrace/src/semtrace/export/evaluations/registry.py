"""Which sinks run: chosen at ``configure()``, installed in the hub, flushed at exit.

``configure(evaluation_sinks=...)`` (names or sink objects), else
``SEMTRACE_EVALUATION_SINKS``, else the backend view's own (``phoenix`` or ``langfuse``;
Datadog has no view, so it is only ever named). A sink that is named but cannot be built
(no URL, no credentials) raises at configure time; one chosen by itself from the view only
logs why it is off.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Sequence
from typing import Final

from semtrace._telemetry import outbox
from semtrace.config import env_evaluation_sinks, parse_evaluation_sinks
from semtrace.export.evaluations.sink import EvaluationSink

logger = logging.getLogger(__name__)

#: How long the exit hook waits for queued evaluations, at most.
EXIT_FLUSH_S: Final = 5.0
#: Sink names a backend view brings with it.
VIEW_SINKS: Final = {"phoenix": "phoenix", "langfuse": "langfuse"}

_lock = threading.Lock()
_exit_hooked = False


def build(name: str, service_name: str | None = None) -> EvaluationSink:
    """The sink called ``name``, configured from the environment.

    Raises:
        ValueError: If the name is unknown or the sink lacks its URL or credentials.
    """
    if name == "phoenix":
        from semtrace.export.evaluations.phoenix import PhoenixSink

        return PhoenixSink()
    if name == "langfuse":
        from semtrace.export.evaluations.langfuse import LangfuseSink

        return LangfuseSink()
    if name == "datadog":
        from semtrace.export.evaluations.datadog import DatadogSink

        return DatadogSink(ml_app=service_name or None)
    raise ValueError(f"no evaluation sink is called {name!r}")


def choose(
    explicit: str | Sequence[str | EvaluationSink] | None,
    view: str,
    service_name: str | None = None,
) -> list[EvaluationSink]:
    """The sinks to run: the argument, else ``SEMTRACE_EVALUATION_SINKS``, else the view's.

    Args:
        explicit: ``configure(evaluation_sinks=...)``: comma-separated names, a list of
            names and sink objects, or None for not given.
        view: The backend view in effect (``none`` when there is no OTLP export).
        service_name: ``configure(service_name=...)``, Datadog's ``ml_app`` by default.

    Raises:
        ValueError: A name is unknown, or a named sink cannot be built.
        TypeError: An entry is neither a name nor an :class:`EvaluationSink`.
    """
    if explicit is not None:
        return _given(explicit, service_name)
    from_env = env_evaluation_sinks()
    if from_env is not None:
        return [build(name, service_name) for name in from_env]
    name = VIEW_SINKS.get(view)
    if name is None:
        return []
    try:
        return [build(name, service_name)]
    except ValueError as exc:
        logger.warning("the %s view's evaluation sink is off: %s", view, exc)
        return []


def _given(
    explicit: str | Sequence[str | EvaluationSink], service_name: str | None
) -> list[EvaluationSink]:
    entries = [explicit] if isinstance(explicit, str) else list(explicit)
    sinks: list[EvaluationSink] = []
    for entry in entries:
        if isinstance(entry, EvaluationSink):
            sinks.append(entry)
        elif isinstance(entry, str):
            sinks.extend(build(name, service_name) for name in parse_evaluation_sinks(entry))
        else:
            raise TypeError(
                f"evaluation_sinks: {entry!r} is neither a sink name nor an EvaluationSink"
            )
    return sinks


def start(sinks: Sequence[EvaluationSink]) -> None:
    """Send every verdict to ``sinks`` from now on, and flush them at exit."""
    global _exit_hooked
    outbox.install(sinks)
    with _lock:
        if sinks and not _exit_hooked:
            _exit_hooked = True
            atexit.register(shutdown, EXIT_FLUSH_S)


def running() -> list[EvaluationSink]:
    """The sinks installed now."""
    return [s for s in outbox.installed() if isinstance(s, EvaluationSink)]


def flush(timeout_s: float) -> bool:
    """Wait for every sink's queue to empty, all together within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    ok = True
    for sink in running():
        ok = sink.flush(max(0.0, deadline - time.monotonic())) and ok
    return ok


def shutdown(timeout_s: float = EXIT_FLUSH_S) -> None:
    """Flush within ``timeout_s``, then stop the sinks (what is left is dropped, counted).

    The runs semtrace's worker is still ending may hold verdicts: they are waited for
    first, within the same time.
    """
    from semtrace.quality.evaluators import wait_for_evaluations

    deadline = time.monotonic() + timeout_s
    sinks = running()
    if not sinks:
        return
    try:
        wait_for_evaluations(timeout_s)
    except Exception:
        logger.debug("waiting for evaluations failed", exc_info=True)
    for sink in sinks:
        sink.shutdown(max(0.0, deadline - time.monotonic()))
