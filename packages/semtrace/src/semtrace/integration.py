"""What a framework integration is written against: the one module it imports from the core.

An integration translates its framework's events into neutral records and hands them to a
:class:`Recorder`; it holds no span logic of its own. Everything it needs is here:

- the lifecycle: :class:`Recorder` (built from the arguments every integration takes,
  :class:`Options`), and :class:`Attachment` (what an integration keeps of a run it started);
- the vocabulary: :mod:`semtrace.records` (what starts and ends), :mod:`semtrace.normalize`
  (reading provider responses, usage, finish reasons and servers into records) and
  :mod:`semtrace.semconv` (attribute names);
- the safety net every callback runs under: :func:`never_raise`, :func:`record_fault`;
- the caller's context (:func:`context_attributes`, :func:`current_context`), bounded
  tables and text for state an integration keeps per run;
- the facts a framework knows and the core cannot see: structured-output formats and a
  tool's own report of an error;
- the judge's plumbing, for an integration's ``groundedness_judge`` factory.

``import-linter`` (``[tool.importlinter]`` in ``pyproject.toml``) fails CI when an
integration imports any other core module.
"""

from __future__ import annotations

from semtrace import normalize, records, semconv
from semtrace._recording.bounded import BoundedTable
from semtrace._recording.context import context_attributes
from semtrace._recording.context import current as current_context
from semtrace._recording.options import Options
from semtrace._recording.recorder import Attachment, Recorder
from semtrace._telemetry.content import bounded_text
from semtrace.config import Settings
from semtrace.normalize import StreamSummary
from semtrace.quality.agent import ToolReportedError
from semtrace.quality.judge import GroundednessJudge, JudgeReply
from semtrace.quality.structured import FORMAT_JSON, FORMAT_TOOL_CALL
from semtrace.quality.types import ModelCall
from semtrace.records import (
    AgentStart,
    End,
    LazyEnd,
    MediaPart,
    Message,
    ModelEnd,
    ModelStart,
    Part,
    RetrievalEnd,
    Start,
    StepStart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    ValueEnd,
    WorkflowStart,
)
from semtrace.safety import never_raise, record_fault

__all__ = [
    "FORMAT_JSON",
    "FORMAT_TOOL_CALL",
    "AgentStart",
    "Attachment",
    "BoundedTable",
    "End",
    "GroundednessJudge",
    "JudgeReply",
    "LazyEnd",
    "MediaPart",
    "Message",
    "ModelCall",
    "ModelEnd",
    "ModelStart",
    "Options",
    "Part",
    "Recorder",
    "RetrievalEnd",
    "Settings",
    "Start",
    "StepStart",
    "StreamSummary",
    "TextPart",
    "ToolCallPart",
    "ToolCallResponsePart",
    "ToolReportedError",
    "ValueEnd",
    "WorkflowStart",
    "bounded_text",
    "context_attributes",
    "current_context",
    "never_raise",
    "normalize",
    "record_fault",
    "records",
    "semconv",
]
