"""Agent signals: loops, swallowed tool errors, step limits and runs with no final answer.

Pure functions over what the recorder already sees of a run: tool names and arguments,
errors, and the run's output. The per-trace tally of tool calls is a small object the
recorder keeps with the trace.

Example:
    >>> tally = ToolTally()
    >>> [repeated_call(tally, "search", {"q": "x"}) is not None for _ in range(3)]
    [False, False, True]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from semtrace.private_apis import fast_json
from semtrace.quality.types import Evaluation

TOOL_LOOP: Final = "tool_loop"
TOOL_ERROR: Final = "tool_error"
STEP_LIMIT: Final = "step_limit"
NO_FINAL_ANSWER: Final = "no_final_answer"

#: The same tool with the same arguments this many times in one run is a loop.
REPEAT_LIMIT: Final = 3
_MAX_KEYS: Final = 256
_MAX_ARG_CHARS: Final = 2_000
# json.dumps(arguments, sort_keys=True, default=str), without building an encoder per call
# (encode() keeps no state between calls).
_CANONICAL: Final = json.JSONEncoder(sort_keys=True, default=str)
# Run on every tool call: without encode()'s per-call set-up (private_apis).
_ENCODE_CANONICAL: Final = fast_json(_CANONICAL)

# GraphRecursionError (LangGraph), "Max iterations of N reached" (LlamaIndex agents),
# "Agent stopped due to iteration limit or time limit." (LangChain's AgentExecutor),
# MaxTurnsExceeded "Max turns (N) exceeded" (the OpenAI Agents SDK; its official
# instrumentation writes "Max turns exceeded" in the agent span's status).
_LIMIT_ERRORS: Final = frozenset({"GraphRecursionError", "RecursionError", "MaxTurnsExceeded"})
_LIMIT_TEXT: Final = re.compile(
    r"recursion limit|max(?:imum)?[ _]iterations?\b.{0,40}reached|reached.{0,40}max(?:imum)?"
    r"[ _]iterations?|iteration limit|step limit|max(?:imum)?[ _]turns\b.{0,40}exceeded",
    re.IGNORECASE,
)


class ToolReportedError(Exception):
    """A tool's failure its framework returned as the tool's result instead of raising.

    Integrations fail the tool's span with it (LangChain's ``ToolMessage`` with status
    ``error``), so it counts as a failed tool like one that raised.
    """


@dataclass(slots=True)
class ToolTally:
    """How often each (tool, arguments) pair ran in one trace; bounded."""

    counts: dict[str, int] = field(default_factory=dict)


def repeated_call(tally: ToolTally, name: str, arguments: Any) -> Evaluation | None:
    """Count one tool call; a raised ``tool_loop`` flag when it reaches ``REPEAT_LIMIT``.

    Raised once per (tool, arguments) pair, on the call that reaches the limit.
    """
    key = name + "\x00" + _canonical(arguments)
    count = tally.counts.get(key, 0) + 1
    if count == 1 and len(tally.counts) >= _MAX_KEYS:
        return None  # bounded: a run with hundreds of distinct calls is not looping on them
    tally.counts[key] = count
    if count != REPEAT_LIMIT:
        return None
    return Evaluation(
        TOOL_LOOP,
        1.0,
        "fail",
        f"tool {name} was called {count} times with the same arguments in one run",
    )


def _canonical(arguments: Any) -> str:
    """One spelling per argument set: key order and JSON-string vs dict do not matter."""
    if isinstance(arguments, str):
        text = arguments.strip()
        if text[:1] in ("{", "["):
            try:
                arguments = json.loads(text)
            except ValueError:
                return text[:_MAX_ARG_CHARS]
        else:
            return text[:_MAX_ARG_CHARS]
    try:
        return _ENCODE_CANONICAL(arguments)[:_MAX_ARG_CHARS]
    except (TypeError, ValueError):
        return repr(arguments)[:_MAX_ARG_CHARS]


def swallowed_errors(failed: int) -> Evaluation | None:
    """A raised ``tool_error`` flag: ``failed`` tool calls failed and the run still ended."""
    if failed <= 0:
        return None
    return Evaluation(
        TOOL_ERROR,
        1.0,
        "fail",
        f"{failed} tool call(s) failed and the run went on without raising",
    )


def step_limit(error: BaseException | None, output_text: str | None = None) -> Evaluation | None:
    """A raised ``step_limit`` flag when a run stopped at its step or recursion limit.

    Args:
        error: What the run raised, if anything.
        output_text: The run's final text (LangChain's ``AgentExecutor`` returns a
            message instead of raising).
    """
    hit = False
    if error is not None:
        names = {cls.__name__ for cls in type(error).__mro__}
        hit = bool(names & _LIMIT_ERRORS) or _limit_text(_message(error))
    elif output_text:
        hit = _limit_text(output_text[:400])
    if not hit:
        return None
    return Evaluation(STEP_LIMIT, 1.0, "fail", "the run stopped at its step or recursion limit")


def _limit_text(text: str) -> bool:
    """Whether ``text`` says a limit was reached (``_LIMIT_TEXT``)."""
    if text.isascii():
        # Every match holds "limit", "iteration" or "turns": most outputs hold none, and skip
        # the regex (which tests every position). ASCII only: IGNORECASE matches more
        # than lower() outside it.
        lowered = text.lower()
        if "limit" not in lowered and "iteration" not in lowered and "turns" not in lowered:
            return False
    return _LIMIT_TEXT.search(text) is not None


def no_final_answer(output: Any) -> Evaluation | None:
    """A raised ``no_final_answer`` flag when an agent run ended without a text answer.

    Args:
        output: What the agent run returned (a string, a message, a LangGraph state with
            ``messages``, a LlamaIndex ``AgentOutput``...).
    """
    return unanswered(final_text(output))


def unanswered(text: str | None) -> Evaluation | None:
    """:func:`no_final_answer` of a run whose :func:`final_text` is already known."""
    if text is None or text.strip():
        return None
    return Evaluation(NO_FINAL_ANSWER, 1.0, "fail", "the agent run ended without an answer")


def final_text(output: Any, depth: int = 0) -> str | None:
    """The final answer text in a run's output; ``""`` for none, None when unknowable."""
    if depth > 4:
        return None
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if type(output) is dict or isinstance(output, Mapping):  # dict: no ABC check
        if output.get("tool_calls"):
            return ""  # a message (as a dict) that asks for a tool
        for key in ("messages", "output", "response", "answer", "result", "text", "content"):
            if key in output:
                return final_text(output[key], depth + 1)
        return None
    if isinstance(output, (list, tuple)):
        return final_text(output[-1], depth + 1) if output else ""
    response = getattr(output, "response", None)
    if response is not None and response is not output:
        return final_text(response, depth + 1)  # LlamaIndex AgentOutput / Response
    if getattr(output, "tool_calls", None):
        return ""  # the last message asks for a tool: the agent stopped mid-way
    if getattr(output, "type", None) == "tool" or type(output).__name__ == "ToolMessage":
        return ""
    content = getattr(output, "content", None)
    if content is not None:
        return final_text(content, depth + 1)
    return None


def _message(error: BaseException) -> str:
    try:
        return str(error)[:400]
    except Exception:
        return ""
