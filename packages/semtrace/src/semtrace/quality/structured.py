"""Invalid structured output: JSON that was asked for and does not parse or validate.

Three requests are checked, all from the records alone:

- JSON output (JSON mode, a JSON schema response format, LangChain's
  ``with_structured_output`` in a JSON method): the answer text must parse as JSON and,
  when a schema came with the request, validate against it;
- structured output through a tool call (``with_structured_output`` by function
  calling): the model must have called the tool;
- every tool call: the tool must be one offered, its arguments must parse and validate
  against the tool's parameter schema.

The validator covers the JSON Schema keywords models are given in practice (``type``,
``properties``, ``required``, ``additionalProperties: false``, ``enum``, ``const``,
``items``, ``anyOf``/``oneOf``/``allOf``, local ``$ref``s); anything else passes.

Example:
    >>> invalid_json('{"a": 1', {"type": "object"}).explanation
    'the answer is not valid JSON'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeGuard

from semtrace.quality.types import Evaluation
from semtrace.records import ToolCallPart, ToolDefinition

INVALID_FORMAT: Final = "invalid_format"
#: ``ModelStart.output_format`` values.
FORMAT_JSON: Final = "json"
FORMAT_TOOL_CALL: Final = "tool_call"
_MAX_DEPTH: Final = 32
_TYPES: Final = {
    "object": (dict,),
    "array": (list, tuple),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _fail(why: str) -> Evaluation:
    return Evaluation(INVALID_FORMAT, 1.0, "fail", why)


def invalid_json(answer: str, schema: Any = None) -> Evaluation | None:
    """A raised ``invalid_format`` flag when the answer is not JSON valid for ``schema``.

    A Markdown code fence around the JSON is tolerated, as output parsers tolerate it.

    Args:
        answer: The model's text.
        schema: The requested JSON Schema, if any.

    Returns:
        The raised flag, or None when the answer parses (and validates).
    """
    text = answer.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    value = _parse(text)
    if value is _UNPARSED:
        return _fail("the answer is not valid JSON")
    problem = violation(value, schema) if isinstance(schema, Mapping) else None
    if problem:
        return _fail(f"the answer does not match the requested schema: {problem}")
    return None


_UNPARSED: Final = object()


def _parse(text: str) -> Any:
    """The JSON value of ``text``, else of its outermost braces or brackets.

    Output parsers (LangChain's, LlamaIndex's) find the JSON inside surrounding prose.
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    for opening, closing in (("{", "}"), ("[", "]")):
        first, last = text.find(opening), text.rfind(closing)
        if 0 <= first < last:
            try:
                return json.loads(text[first : last + 1])
            except (ValueError, RecursionError):
                continue
    return _UNPARSED


def invalid_tool_calls(
    calls: Sequence[ToolCallPart], tools: Sequence[ToolDefinition]
) -> Evaluation | None:
    """A raised ``invalid_format`` flag when a tool call is not well formed.

    Well formed: it names a tool that was offered, and its arguments parse and validate.

    Args:
        calls: The tool calls the model made.
        tools: The tools it was offered (nothing is checked without them).

    Returns:
        The raised flag, or None when every call is well formed.
    """
    if not calls or not tools:
        return None
    offered = {t.name: t.parameters for t in tools}
    for call in calls:
        if call.name not in offered:
            return _fail("a tool call names a tool that was not offered")
        arguments = call.arguments
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):
                return _fail(f"the arguments of a call to {call.name} are not valid JSON")
        if arguments is None:
            arguments = {}
        problem = violation(arguments, _parameters(offered[call.name]))
        if problem:
            return _fail(f"the arguments of a call to {call.name} break its schema: {problem}")
    return None


def missing_tool_call(calls: Sequence[ToolCallPart]) -> Evaluation | None:
    """A raised flag when structured output was requested by tool call and none came."""
    if calls:
        return None
    return _fail("structured output was requested as a tool call and the model made none")


def parse_failure() -> Evaluation:
    """The raised flag of a run that failed on a parser or validation error."""
    return _fail("the run failed parsing or validating structured output")


def _parameters(schema: Any) -> Any:
    """The JSON Schema of a tool's parameters, from the shapes frameworks store."""
    if _is_mapping(schema) and schema.get("type") == "function":
        schema = schema.get("function", {}).get("parameters")  # OpenAI tool format
    return schema if _is_mapping(schema) else None


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``; a dict (a parsed schema) skips the ABC's check."""
    return type(value) is dict or isinstance(value, Mapping)


def violation(value: Any, schema: Any, root: Any = None, depth: int = 0) -> str | None:
    """The first way ``value`` breaks ``schema`` (a JSON Schema subset), or None.

    Args:
        value: A parsed JSON value.
        schema: A JSON Schema (a mapping); anything else accepts every value.
        root: The schema ``$ref``s resolve against (``schema`` itself by default).
        depth: Recursion depth, capped so a hostile schema cannot exhaust the stack.

    Returns:
        A short description without values (safe with content capture off), or None.
    """
    if not _is_mapping(schema) or depth > _MAX_DEPTH:
        return None
    if _STRUCTURE.isdisjoint(schema):
        # A type and annotations only (a tool parameter's usual schema): the rest of this
        # function and _object_violation read nothing else, so the type decides.
        return _type_violation(value, schema.get("type"))
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return violation(value, _resolve(root, ref), root, depth + 1)
    problem = _type_violation(value, schema.get("type"))
    if problem:
        return problem
    if "enum" in schema and isinstance(schema["enum"], list) and value not in schema["enum"]:
        return "a value is not one of the allowed ones"
    if "const" in schema and value != schema["const"]:
        return "a value differs from the required constant"
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if (
            isinstance(options, list)
            and options
            and all(violation(value, o, root, depth + 1) for o in options)
        ):
            return f"a value matches none of the {key} options"
    for option in schema.get("allOf") or ():
        problem = violation(value, option, root, depth + 1)
        if problem:
            return problem
    if isinstance(value, dict):
        return _object_violation(value, schema, root, depth)
    if isinstance(value, list) and _is_mapping(schema.get("items")):
        for item in value:
            problem = violation(item, schema["items"], root, depth + 1)
            if problem:
                return problem
    return None


# The keywords violation() and _object_violation() read besides "type".
_STRUCTURE: Final = frozenset(
    {
        "$ref", "enum", "const", "anyOf", "oneOf", "allOf", "items", "required", "properties",
        "additionalProperties",
    }
)  # fmt: skip


def _type_violation(value: Any, expected: Any) -> str | None:
    names = [expected] if isinstance(expected, str) else expected
    if not isinstance(names, list) or not names:
        return None
    for name in names:
        types = _TYPES.get(name)
        if types is None:
            return None  # an unknown type name: do not judge
        is_bool = isinstance(value, bool)
        if isinstance(value, types) and (name == "boolean" or not is_bool):
            return None
        if name == "integer" and isinstance(value, float) and value.is_integer():
            return None
    return f"a value is not of type {'/'.join(str(n) for n in names)}"


def _object_violation(
    value: dict[str, Any], schema: Mapping[str, Any], root: Any, depth: int
) -> str | None:
    required = schema.get("required")
    if isinstance(required, list):
        missing = [k for k in required if isinstance(k, str) and k not in value]
        if missing:
            return f"required property {missing[0]!r} is missing"
    properties = schema.get("properties")
    properties = properties if _is_mapping(properties) else {}
    if schema.get("additionalProperties") is False:
        extra = [k for k in value if k not in properties]
        if extra:
            return f"property {extra[0]!r} is not allowed"
    for key, sub in properties.items():
        if key in value:
            problem = violation(value[key], sub, root, depth + 1)
            if problem:
                return f"{key}: {problem}"
    return None


def _resolve(root: Any, ref: str) -> Any:
    """A local ``#/...`` reference into ``root``; None for anything else."""
    if not ref.startswith("#"):
        return None
    node = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        if not isinstance(node, Mapping):
            return None
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node


def format_error(error: BaseException) -> bool:
    """Whether ``error`` is a parser's or validator's: structured output that did not parse.

    Matched by class name along the MRO (``OutputParserException``, pydantic's
    ``ValidationError``, ``JSONDecodeError``), so no framework is imported.
    """
    return any(cls.__name__ in _FORMAT_ERRORS for cls in type(error).__mro__)


_FORMAT_ERRORS: Final = frozenset({"OutputParserException", "ValidationError", "JSONDecodeError"})
