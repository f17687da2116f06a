"""The checks: which run gets which check, from the records alone.

=================  =====================  ==========================================
signal             on span                raised when
=================  =====================  ==========================================
repetition         chat/text_completion   the answer loops (:mod:`.degenerate`)
language_mismatch  chat/text_completion   the answer is in another language or
                                          script than the question
invalid_format     chat/text_completion   requested JSON / tool-call arguments do not
                   root                   parse or validate; the run failed on a
                                          parser or validation error
sensitive_output   chat/text_completion   secrets or personal data absent from the
                                          prompt and context (:mod:`.sensitive`)
tool_loop          execute_tool           the same tool with the same arguments ran
                                          ``REPEAT_LIMIT`` times in one trace
tool_error         root                   a tool failed and the run still succeeded
step_limit         agent/workflow         the run stopped at its recursion or
                                          iteration limit
no_final_answer    invoke_agent           the agent ended with no text answer
=================  =====================  ==========================================

Each is a flag: recorded only when raised (``semtrace.quality.{signal} = true``, its
``fail`` label, a ``gen_ai.evaluation.result`` event and a ``semtrace.quality.score``
point). Absent means checked and not raised, or not applicable.

Example:
    >>> from semtrace.records import ModelEnd, ModelStart, Message, TextPart
    >>> start = ModelStart("openai", "m", [Message("user", [TextPart("Where is it?")])])
    >>> after_model(start, ModelEnd([Message("assistant", [TextPart("Here.")])]), None, ())
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from semtrace import semconv, semconv_latest
from semtrace.config import SensitiveRule
from semtrace.quality import agent, degenerate, messages, sensitive, structured
from semtrace.quality.consistency import ConsistencyTracker
from semtrace.quality.diagnosis import Findings
from semtrace.quality.types import Evaluation
from semtrace.records import (
    AgentStart,
    End,
    ModelEnd,
    ModelStart,
    Start,
    TextPart,
    ToolCallPart,
    ToolStart,
    ValueEnd,
    WorkflowStart,
)

FLAGS: Final = frozenset(
    {
        degenerate.REPETITION,
        degenerate.LANGUAGE_MISMATCH,
        structured.INVALID_FORMAT,
        sensitive.SENSITIVE_OUTPUT,
        agent.TOOL_LOOP,
        agent.TOOL_ERROR,
        agent.STEP_LIMIT,
        agent.NO_FINAL_ANSWER,
    }
)


@dataclass(slots=True)
class TraceChecks:
    """What the checks keep per trace: its failing signals and its tool calls."""

    findings: Findings = field(default_factory=dict)
    tools: agent.ToolTally = field(default_factory=agent.ToolTally)
    failed_tools: int = 0


def after_model(
    start: ModelStart,
    end: ModelEnd,
    question: str | None,
    contexts: Sequence[str],
    rules: Sequence[SensitiveRule] = (),
) -> list[Evaluation]:
    """The checks of one model call."""
    answer = messages.answer_text(end)
    calls = messages.tool_calls(end)
    found: list[Evaluation | None] = []
    if answer:
        found.append(degenerate.repetition(answer))
        asked = question or _last_user_text(start)
        if asked:
            found.append(degenerate.language_mismatch(asked, answer))
        found.append(sensitive.sensitive_output(answer, lambda: _inputs(start, contexts), rules))
    found.append(_format(start, answer, calls))
    return [e for e in found if e is not None]


def _format(start: ModelStart, answer: str, calls: list[ToolCallPart]) -> Evaluation | None:
    if start.output_format == structured.FORMAT_JSON and not calls:
        return structured.invalid_json(answer, start.output_schema)
    if start.output_format == structured.FORMAT_TOOL_CALL:
        missing = structured.missing_tool_call(calls)
        if missing is not None:
            return missing
    return structured.invalid_tool_calls(calls, start.tools)


def after_run(
    checks: TraceChecks, start: Start, end: End | None, error: BaseException | None, is_root: bool
) -> list[Evaluation]:
    """The checks of a tool, agent or workflow run (``error`` when it failed)."""
    if isinstance(start, ToolStart):
        if error is not None:
            checks.failed_tools += 1
            return []
        loop = agent.repeated_call(checks.tools, start.name, start.arguments)
        return [loop] if loop is not None else []
    if not isinstance(start, (AgentStart, WorkflowStart)):
        return []
    output = end.output if isinstance(end, ValueEnd) else None
    if error is not None:
        limit = agent.step_limit(error)
        if limit is not None:
            return [limit]
        if is_root and structured.format_error(error):
            return [structured.parse_failure()]
        return []
    final = agent.final_text(output)  # found once: it walks the framework's objects
    found = [agent.step_limit(None, final if output is not None else None)]
    if isinstance(start, AgentStart) and isinstance(end, ValueEnd):
        found.append(agent.unanswered(final))
    if is_root:
        found.append(agent.swallowed_errors(checks.failed_tools))
    return [e for e in found if e is not None]


def consistency(
    tracker: ConsistencyTracker, start: ModelStart, end: ModelEnd, span: Any
) -> list[Evaluation]:
    """The opt-in consistency score of one model call (:mod:`.consistency`)."""
    answer = messages.answer_text(end)
    if not answer:
        return []
    # The prompt's name and version are on the span (the recorder put them there at start).
    attributes = getattr(span, "attributes", None) or {}
    prompt = (
        attributes.get(semconv.GEN_AI_PROMPT_NAME),
        attributes.get(semconv.SEMTRACE_PROMPT_VERSION)
        or attributes.get(semconv_latest.GEN_AI_PROMPT_VERSION),
        start.model,
    )
    text = "\n".join(messages.texts(start.messages))
    found = tracker.observe(prompt, text, answer)
    return [found] if found is not None else []


def _last_user_text(start: ModelStart) -> str:
    for message in reversed(start.messages):
        if message.role == "user":
            return " ".join(p.content for p in message.parts if isinstance(p, TextPart))
    return ""


def _inputs(start: ModelStart, contexts: Sequence[str]) -> str:
    """Everything the model was given, for "was it in the input?" (built only on a hit)."""
    texts: list[Any] = messages.texts(start.messages)
    texts.extend(contexts)
    return "\n".join(texts)
