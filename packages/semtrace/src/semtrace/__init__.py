"""semtrace: OpenTelemetry GenAI traces that show whether an AI pipeline worked.

Example:
    >>> import semtrace
    >>> semtrace.configure()  # doctest: +SKIP
    >>> from semtrace_langchain import CallbackHandler  # doctest: +SKIP
    >>> chain.invoke(question, config={"callbacks": [CallbackHandler()]})  # doctest: +SKIP

The core knows nothing of any framework: integrations (``semtrace_langchain``,
``semtrace_llamaindex``) translate their framework's events into
:class:`~semtrace.recorder.Recorder` calls.
"""

from semtrace.callcontext import context
from semtrace.config import CaptureMode, Settings
from semtrace.content import redact_secrets
from semtrace.providers import Providers, configure, flush, shutdown
from semtrace.quality.evaluators import Evaluator
from semtrace.quality.signals import Thresholds
from semtrace.quality.types import Evaluation, Sample
from semtrace.recorder import Recorder
from semtrace.safety import fault_count
from semtrace.sampling import Limits, Policy, TailSamplingProcessor
from semtrace.userfeedback import TraceRef, current_trace, feedback, trace_capture
from semtrace.version import __version__

__all__ = [
    "CaptureMode",
    "Evaluation",
    "Evaluator",
    "Limits",
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
