"""What structured output a LangChain model call asked for, for the ``invalid_format`` check.

Read from what LangChain hands the callback: ``with_structured_output`` puts
``ls_structured_output_format`` (its method and the JSON Schema) in the ``options``;
a model bound with an OpenAI-style ``response_format`` carries it in the invocation
params.

Example:
    >>> requested({"options": {"ls_structured_output_format": {
    ...     "kwargs": {"method": "json_mode"}, "schema": {"type": "object"}}}})
    ('json', {'type': 'object'})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from semtrace.integration import FORMAT_JSON, FORMAT_TOOL_CALL


def requested(kwargs: Mapping[str, Any]) -> tuple[str | None, Any]:
    """``(output_format, output_schema)`` of a chat model call; ``(None, None)`` for text."""
    options = kwargs.get("options")
    wanted = options.get("ls_structured_output_format") if isinstance(options, Mapping) else None
    if isinstance(wanted, Mapping):
        method = (wanted.get("kwargs") or {}).get("method", "function_calling")
        schema = wanted.get("schema")
        if method in ("json_mode", "json_schema"):
            return FORMAT_JSON, schema
        return FORMAT_TOOL_CALL, schema
    invocation = kwargs.get("invocation_params")
    response_format = invocation.get("response_format") if isinstance(invocation, Mapping) else None
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind == "json_object":
            return FORMAT_JSON, None
        if kind == "json_schema":
            spec = response_format.get("json_schema")
            return FORMAT_JSON, spec.get("schema") if isinstance(spec, Mapping) else None
    return None, None
