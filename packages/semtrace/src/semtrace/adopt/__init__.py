"""semtrace's verdicts for GenAI spans other instrumentations make.

The official OpenTelemetry instrumentations (``opentelemetry-instrumentation-genai-*``),
OpenInference, OpenLLMetry, and frameworks that trace themselves (PydanticAI) record
what a run did; :class:`VerdictProcessor` adds whether it worked: the quality signals
and verdicts, the checks, the trace's diagnosis, and cost, computed by the same core
code as for semtrace's own spans from what those spans carry.

Example:
    >>> from opentelemetry.sdk.trace import TracerProvider
    >>> from semtrace.adopt import VerdictProcessor
    >>> provider = TracerProvider()
    >>> provider.add_span_processor(VerdictProcessor())
"""

from __future__ import annotations

from semtrace.adopt.processor import VerdictProcessor, emit
from semtrace.adopt.verdicts import Verdict

__all__ = ["Verdict", "VerdictProcessor", "emit"]
