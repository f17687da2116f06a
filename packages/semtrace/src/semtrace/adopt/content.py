"""Content attributes and events of every source: what ``strip_content`` removes at export.

For a team that wants verdicts but no prompt or answer text in its backend: the other
instrumentation captures content (the signals need it), semtrace judges the trace, and
the copy exported carries the verdicts without the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from semtrace import semconv

#: Keys holding text, whole.
CONTENT_KEYS: Final = frozenset(
    {
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_RETRIEVAL_QUERY_TEXT,
        semconv.GEN_AI_RETRIEVAL_DOCUMENTS,
        semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
        semconv.GEN_AI_TOOL_CALL_RESULT,
        "input.value",
        "output.value",
        "llm.prompt_template.variables",
        "traceloop.entity.input",
        "traceloop.entity.output",
    }
)
#: Prefixes of flattened content (OpenInference's and OpenLLMetry's).
CONTENT_PREFIXES: Final = (
    "llm.input_messages.",
    "llm.output_messages.",
    "retrieval.documents.",
    semconv.FOREIGN_GEN_AI_PROMPT_VARIABLE_PREFIX,
    semconv.FOREIGN_GEN_AI_PROMPT_PREFIX,
    semconv.FOREIGN_GEN_AI_COMPLETION_PREFIX,
    semconv.FOREIGN_GEN_AI_TASK_PREFIX,
)
#: Events whose attributes are content.
CONTENT_EVENTS: Final = frozenset(
    {
        semconv.EVENT_INFERENCE_DETAILS,
        semconv.FOREIGN_CHOICE_EVENT,
        *semconv.FOREIGN_MESSAGE_EVENTS,
    }
)


def is_content(key: str) -> bool:
    """Whether attribute ``key`` holds prompt, answer, document or tool text."""
    if key in CONTENT_KEYS:
        return True
    if key == semconv.GEN_AI_PROMPT_NAME:
        return False  # a template's name, not its text
    return key.startswith(CONTENT_PREFIXES)


def without_content(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """``attributes`` less every content key."""
    return {k: v for k, v in attributes.items() if not is_content(k)}
