"""JSON Schemas of the GenAI content attributes, written from the conventions' text (1.41).

semtrace's spans claim ``schema_url`` 1.41.0, whose GenAI pages define the content
attributes as JSON with these shapes: messages of parts (text, tool calls and their
responses, reasoning, and ``blob``/``uri``/``file`` parts for images, audio and
documents), output messages that say why the model finished, system instructions as
parts, tool definitions, and retrieved documents with an id and a score.

:func:`problems` names every value that fails its schema; the suite's ``telemetry``
fixture runs it on every span, span event and log event (the Logs API's GenAI events,
whose content is structured, not JSON text) a test produced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from jsonschema import Draft202012Validator

_STRING_OR_NULL: Final = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_MODALITY: Final = {"type": "string"}  # image | video | audio | document, or any other


def _part(kind: str, required: tuple[str, ...], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": {"const": kind}, **properties},
        "required": ["type", *required],
    }


PARTS: Final = {
    "text": _part("text", ("content",), content={"type": "string"}),
    "reasoning": _part("reasoning", ("content",), content={"type": "string"}),
    # Arguments in structured form (an object), not the provider's JSON text.
    "tool_call": _part(
        "tool_call",
        ("name",),
        id=_STRING_OR_NULL,
        name={"type": "string"},
        arguments={"type": ["object", "null"]},
    ),
    "tool_call_response": _part("tool_call_response", ("response",), id=_STRING_OR_NULL),
    "blob": _part(
        "blob",
        ("modality", "content"),
        mime_type=_STRING_OR_NULL,
        modality=_MODALITY,
        content={"type": "string"},  # base64
    ),
    "uri": _part("uri", ("modality", "uri"), mime_type=_STRING_OR_NULL, modality=_MODALITY, uri={}),
    "file": _part("file", ("modality", "file_id"), mime_type=_STRING_OR_NULL, modality=_MODALITY),
}

# A part is one of the above, chosen by its type (an unknown type fails).
_ANY_PART: Final = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"enum": sorted(PARTS)}},
    "allOf": [
        {"if": {"properties": {"type": {"const": kind}}}, "then": schema}
        for kind, schema in PARTS.items()
    ],
}

_MESSAGE: Final = {
    "type": "object",
    "properties": {
        "role": {"type": "string"},
        "parts": {"type": "array", "items": _ANY_PART},
        "name": _STRING_OR_NULL,
    },
    "required": ["role", "parts"],
}

_OUTPUT_MESSAGE: Final = {
    **_MESSAGE,
    "properties": {**_MESSAGE["properties"], "finish_reason": {"type": "string"}},
    "required": ["role", "parts", "finish_reason"],
}

SCHEMAS: Final[Mapping[str, dict[str, Any]]] = {
    "gen_ai.input.messages": {"type": "array", "items": _MESSAGE},
    "gen_ai.output.messages": {"type": "array", "items": _OUTPUT_MESSAGE},
    "gen_ai.system_instructions": {"type": "array", "items": _ANY_PART},
    "gen_ai.tool.definitions": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "name": {"type": "string"}},
            "required": ["type", "name"],
        },
    },
    # The conventions require an id and a score; a retriever that gives neither (BM25
    # in LangChain, a list of texts) gets none invented: they are left out, never null.
    "gen_ai.retrieval.documents": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "score": {"type": "number"}},
        },
    },
}

#: The newest conventions (``semantic-conventions-genai``, spans with its ``schema_url``):
#: ``finish_reason`` in an output message is deprecated in favour of
#: ``gen_ai.response.finish_reasons`` (#363), so no longer required; the rest as in 1.41.
LATEST_SCHEMAS: Final[Mapping[str, dict[str, Any]]] = {
    **SCHEMAS,
    "gen_ai.output.messages": {"type": "array", "items": _MESSAGE},
}

_VALIDATORS: Final = {key: Draft202012Validator(schema) for key, schema in SCHEMAS.items()}
_LATEST_VALIDATORS: Final = {
    key: Draft202012Validator(schema) for key, schema in LATEST_SCHEMAS.items()
}


def problems(
    where: str, attributes: Mapping[str, Any] | None, *, latest: bool = False
) -> list[str]:
    """What fails its schema among ``attributes`` (one line each, naming ``where``).

    ``latest``: check against the newest conventions' schemas, not 1.41's.
    """
    found = []
    for key, validator in (_LATEST_VALIDATORS if latest else _VALIDATORS).items():
        value = (attributes or {}).get(key)
        if value is None:
            continue
        try:
            data = json.loads(value) if isinstance(value, str) else _as_json(value)
        except ValueError:
            found.append(f"{where}: {key} is not JSON: {str(value)[:120]}")
            continue
        for error in validator.iter_errors(data):
            path = "/".join(str(p) for p in error.absolute_path)
            found.append(f"{where}: {key}[{path}]: {error.message[:200]}")
    return found


def _as_json(value: Any) -> Any:
    """A structured log attribute as JSON data: the SDK keeps arrays as tuples."""
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _as_json(v) for k, v in value.items()}
    return value
