"""semtrace: OpenTelemetry GenAI traces that show whether an AI pipeline worked.

Example:
    >>> import semtrace
    >>> semtrace.configure()  # doctest: +SKIP
    >>> from semtrace_langchain import CallbackHandler  # doctest: +SKIP
    >>> chain.invoke(question, config={"callbacks": [CallbackHandler()]})  # doctest: +SKIP

The core knows nothing of any framework: integrations (``semtrace_langchain``,
``semtrace_llamaindex``) translate their framework's events into
:class:`~semtrace.recorder.Recorder` calls.

``configure``, ``flush``, ``shutdown``, ``Providers`` (:mod:`semtrace.providers`) and the
tail sampler's ``TailSamplingProcessor``, ``Policy`` and ``Limits``
(:mod:`semtrace.sampling`) are imported on first use: they pull in the OpenTelemetry SDK,
its exporters and the console tree, which an application that only instruments (and
configures OpenTelemetry itself, or not at all) never needs. ``import semtrace_langchain``
stays cheap that way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from semtrace.callcontext import context
from semtrace.config import CaptureMode, Settings
from semtrace.content import redact_secrets
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.judge import GroundednessJudge, JudgeReply
from semtrace.quality.signals import Thresholds
from semtrace.quality.types import Evaluation, ModelCall, Sample
from semtrace.recorder import Recorder
from semtrace.safety import fault_count
from semtrace.userfeedback import TraceRef, current_trace, feedback, trace_capture
from semtrace.version import __version__

if TYPE_CHECKING:  # the same names, typed, without importing them at run time
    from semtrace.providers import Providers, configure, flush, shutdown
    from semtrace.sampling import Limits, Policy, TailSamplingProcessor

# Public name -> the submodule that defines it, imported by __getattr__ on first use.
_LAZY: dict[str, str] = {
    "Providers": "providers",
    "configure": "providers",
    "flush": "providers",
    "shutdown": "providers",
    "Limits": "sampling",
    "Policy": "sampling",
    "TailSamplingProcessor": "sampling",
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
