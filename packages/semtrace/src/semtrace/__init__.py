"""semtrace: OpenTelemetry GenAI traces that show whether an AI pipeline worked.

Example:
    >>> import semtrace
    >>> semtrace.configure()  # doctest: +SKIP
    >>> from semtrace_langchain import CallbackHandler  # doctest: +SKIP
    >>> chain.invoke(question, config={"callbacks": [CallbackHandler()]})  # doctest: +SKIP

The core knows nothing of any framework: integrations (``semtrace_langchain``,
``semtrace_llamaindex``) translate their framework's events into
calls on :mod:`semtrace.integration`, the one module they are written against.

``configure``, ``flush``, ``shutdown``, ``Providers`` (:mod:`semtrace.export.setup`) and the
tail sampler's ``TailSamplingProcessor``, ``Policy`` and ``Limits``
(:mod:`semtrace.export.sampling`) are imported on first use: they pull in the OpenTelemetry SDK,
its exporters and the console tree, which an application that only instruments (and
configures OpenTelemetry itself, or not at all) never needs. ``import semtrace_langchain``
stays cheap that way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from semtrace._recording.context import context
from semtrace._recording.feedback import TraceRef, current_trace, feedback, trace_capture
from semtrace._recording.recorder import Recorder
from semtrace._telemetry.content import redact_secrets
from semtrace.config import CaptureMode, Settings
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.judge import GroundednessJudge, JudgeReply
from semtrace.quality.signals import Thresholds
from semtrace.quality.types import Evaluation, ModelCall, Sample
from semtrace.safety import fault_count
from semtrace.version import __version__

if TYPE_CHECKING:  # the same names, typed, without importing them at run time
    from semtrace.export.sampling import Limits, Policy, TailSamplingProcessor
    from semtrace.export.setup import Providers, configure, flush, shutdown

# Public name -> the submodule that defines it, imported by __getattr__ on first use.
_LAZY: dict[str, str] = {
    "Providers": "export.setup",
    "configure": "export.setup",
    "flush": "export.setup",
    "shutdown": "export.setup",
    "Limits": "export.sampling",
    "Policy": "export.sampling",
    "TailSamplingProcessor": "export.sampling",
}


def __getattr__(name: str) -> Any:
    """Import the SDK-side names (``configure``, ``TailSamplingProcessor``...) on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'semtrace' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CaptureMode",
    "Evaluation",
    "Evaluator",
    "GroundednessJudge",
    "JudgeReply",
    "Limits",
    "ModelCall",
    "Policy",
    "Providers",
    "Recorder",
    "Sample",
    "Settings",
    "TailSamplingProcessor",
    "Thresholds",
    "TraceRef",
    "__version__",
    "configure",
    "context",
    "current_trace",
    "fault_count",
    "feedback",
    "flush",
    "redact_secrets",
    "shutdown",
    "trace_capture",
]
