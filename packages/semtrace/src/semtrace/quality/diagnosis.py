"""One diagnosis per trace: the most likely reason it did not work, and where it arose.

Every failing signal of a trace is noted with the span it was recorded on; when the root
span ends, :func:`diagnose` picks one by precedence and the recorder writes it on the
root span as ``semtrace.diagnosis`` with ``semtrace.diagnosis.span_id`` (the span where
it arose, 16 hex digits) and ``semtrace.diagnosis.signal`` (the signal that raised it).
A trace where everything passed has no diagnosis.

Precedence, first match wins. Causes come before their symptoms: a run that hit its
step limit also has no final answer; a loop that ran into the token limit is also
truncated; a retrieval miss also makes the answer unsupported or a refusal.

==================  ==========================================================
diagnosis           raised by
==================  ==========================================================
step_limit          step_limit (GraphRecursionError, "max iterations reached")
error               the root span failed with any other exception
sensitive_output    sensitive_output
agent_loop          tool_loop
tool_error          tool_error (a tool failed and the run went on)
degenerate          repetition, language_mismatch
truncated           truncated
invalid_format      invalid_format, or the root failed with a parser/validation error
retrieval_miss      empty_retrieval, retrieval_relevance
no_answer           empty_output, no_final_answer
refusal             non_answer
unsupported_answer  groundedness
off_topic           answer_relevance
inconsistent        consistency (opt-in)
==================  ==========================================================

Within one diagnosis, the span noted first (the earliest to end) is the pointer. Only a
``fail`` verdict is noted (``uncertain`` is not a failure). The retrieval-before-answer
order was measured on HaluEval (``BENCHMARKS.md``): with a wrong passage 99.5% of traces
are ``retrieval_miss``; with the right one, 2.8% of unsupported answers are misattributed.
A retrieval asked no question (an instruction to summarise) gets no relevance score, so
it never raises ``retrieval_miss``.

Example:
    >>> findings = {}
    >>> note(findings, "groundedness", 0x2)
    >>> note(findings, "retrieval_relevance", 0x1)
    >>> diagnose(findings)
    ('retrieval_miss', 'retrieval_relevance', 1)
"""

from __future__ import annotations

from typing import Final

from semtrace.quality.structured import format_error

STEP_LIMIT: Final = "step_limit"
ERROR: Final = "error"
SENSITIVE_OUTPUT: Final = "sensitive_output"
AGENT_LOOP: Final = "agent_loop"
TOOL_ERROR: Final = "tool_error"
DEGENERATE: Final = "degenerate"
TRUNCATED: Final = "truncated"
INVALID_FORMAT: Final = "invalid_format"
RETRIEVAL_MISS: Final = "retrieval_miss"
NO_ANSWER: Final = "no_answer"
REFUSAL: Final = "refusal"
UNSUPPORTED_ANSWER: Final = "unsupported_answer"
OFF_TOPIC: Final = "off_topic"
INCONSISTENT: Final = "inconsistent"
#: The counter's value for a trace with no diagnosis.
NONE: Final = "none"

PRECEDENCE: Final = (
    STEP_LIMIT,
    ERROR,
    SENSITIVE_OUTPUT,
    AGENT_LOOP,
    TOOL_ERROR,
    DEGENERATE,
    TRUNCATED,
    INVALID_FORMAT,
    RETRIEVAL_MISS,
    NO_ANSWER,
    REFUSAL,
    UNSUPPORTED_ANSWER,
    OFF_TOPIC,
    INCONSISTENT,
)
_RANK: Final = {name: i for i, name in enumerate(PRECEDENCE)}

#: Failing signal -> the diagnosis it supports.
SIGNALS: Final = {
    "step_limit": STEP_LIMIT,
    "error": ERROR,
    "sensitive_output": SENSITIVE_OUTPUT,
    "tool_loop": AGENT_LOOP,
    "tool_error": TOOL_ERROR,
    "repetition": DEGENERATE,
    "language_mismatch": DEGENERATE,
    "truncated": TRUNCATED,
    "invalid_format": INVALID_FORMAT,
    "empty_retrieval": RETRIEVAL_MISS,
    "retrieval_relevance": RETRIEVAL_MISS,
    "empty_output": NO_ANSWER,
    "no_final_answer": NO_ANSWER,
    "non_answer": REFUSAL,
    "groundedness": UNSUPPORTED_ANSWER,
    "answer_relevance": OFF_TOPIC,
    "consistency": INCONSISTENT,
}

Findings = dict[str, tuple[str, int]]
"""Diagnosis -> (signal, span id) of its first occurrence in a trace (at most 14 keys)."""


def note(findings: Findings, signal: str, span_id: int) -> None:
    """Remember that ``signal`` failed on span ``span_id``; other signals are ignored."""
    diagnosis = SIGNALS.get(signal)
    if diagnosis is not None and diagnosis not in findings:
        findings[diagnosis] = (signal, span_id)


def diagnose(findings: Findings) -> tuple[str, str, int] | None:
    """The trace's diagnosis, the signal that raised it and its span; None if all passed."""
    if not findings:
        return None
    diagnosis = min(findings, key=_RANK.__getitem__)
    signal, span_id = findings[diagnosis]
    return diagnosis, signal, span_id


def root_error_signal(error: BaseException) -> str:
    """The signal a failed root span raises: ``invalid_format`` for parser errors, else ``error``.

    Step limits are told apart by :func:`semtrace.quality.agent.step_limit` first.
    """
    return "invalid_format" if format_error(error) else ERROR
