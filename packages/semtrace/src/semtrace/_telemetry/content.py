"""Prompt, completion and value content as the GenAI conventions' JSON, safely.

Only called when content capture is on. Every text passes the user's redaction hook
first, then is cut to ``max_length`` characters; the cut is made on the strings inside
the structure, never on the JSON text, so the attribute always stays valid JSON.
Anything a framework hands us (cyclic, binary, huge, objects whose ``repr`` raises) is
turned into plain JSON values without raising.

Example:
    >>> from semtrace._telemetry.content import ContentPolicy
    >>> from semtrace.records import Message, TextPart
    >>> ContentPolicy(max_length=100).messages_json([Message("user", [TextPart("Hi")])])
    '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from semtrace.config import Redactor
from semtrace.records import (
    Document,
    MediaPart,
    Message,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    ToolDefinition,
)

_MAX_DEPTH: Final = 12
_MAX_ITEMS: Final = 256
#: What ends a cut text; counted in the text's limit.
TRUNCATED: Final = "…[truncated]"
#: What stands between the head and the tail of a cut stack trace; counted in its limit.
_ELIDED: Final = "\n" + TRUNCATED + "\n"


@dataclass(frozen=True)
class ContentPolicy:
    """How content is redacted and bounded before it is recorded."""

    max_length: int = 16384
    redact: Redactor | None = None

    def text(self, value: str) -> str:
        """Redact, then cut one text to the length limit."""
        return valid_utf8(self._cut(self._redact(value), self.max_length))

    def messages_json(self, messages: Sequence[Message]) -> str:
        """``gen_ai.input.messages`` / ``gen_ai.output.messages`` JSON."""
        return self._fit(lambda budget: [self._message(m, budget) for m in messages])

    def output_messages_json(self, messages: Sequence[Message], reported: Sequence[str]) -> str:
        """``gen_ai.output.messages`` JSON: each message says why the model finished.

        The conventions require ``finish_reason`` on every output message. A message
        without its own takes the call's (one per choice, or the one the call reported);
        with none reported, ``tool_call`` when the message calls tools, else ``unknown``:
        never a guess at ``stop``.
        """

        def build(budget: int) -> list[dict[str, Any]]:
            out = []
            for i, message in enumerate(messages):
                item = self._message(message, budget)
                item.setdefault("finish_reason", _finish_reason(message, i, reported))
                out.append(item)
            return out

        return self._fit(build)

    def system_instructions_json(self, messages: Sequence[Message]) -> str:
        """``gen_ai.system_instructions`` JSON: the parts of the system messages."""
        return self._fit(lambda budget: [self._part(p, budget) for m in messages for p in m.parts])

    def tools_json(self, tools: Sequence[ToolDefinition]) -> str:
        """``gen_ai.tool.definitions`` JSON."""
        return self._fit(
            lambda budget: [
                {
                    "type": t.type,
                    "name": t.name,
                    "description": self._cut(self._redact(t.description or ""), budget),
                    "parameters": self._plain(t.parameters, budget, 0, set()),
                }
                for t in tools
            ]
        )

    def documents_json(self, documents: Sequence[Document]) -> str:
        """Retrieved documents with id, score and (redacted, cut) content.

        An id or a score the retriever did not give is left out, never written as null.
        """
        return self._fit(
            lambda budget: [
                _document(d.id, _finite(d.score), self._cut(self._redact(d.content), budget))
                for d in documents
            ]
        )

    def value_json(self, value: Any) -> str:
        """Any value (tool arguments, chain inputs) as JSON, or the string itself."""
        if isinstance(value, str):
            return self.text(value)
        return self._fit(lambda budget: self._plain(value, budget, 0, set()))

    def value_message_json(self, role: str, value: Any) -> str:
        """Any value (an agent's input, a workflow's output) as one message of one text part.

        The text is what :meth:`value_json` gives: the string itself, else the value's JSON.
        """

        def build(budget: int) -> list[dict[str, Any]]:
            if isinstance(value, str):
                text = self._cut(self._redact(value), budget)
            else:
                plain = self._plain(value, budget, 0, set())
                text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"))
            return [{"role": role, "parts": [{"type": "text", "content": text}]}]

        return self._fit(build)

    # --- helpers ---

    def _redact(self, text: str) -> str:
        if self.redact is None:
            return text
        try:
            return str(self.redact(text))
        except Exception:
            # A failing redactor must not leak what it was asked to hide.
            return "[redaction failed]"

    @staticmethod
    def _cut(text: str, budget: int) -> str:
        return cut(text, budget)

    def _fit(self, build: Any) -> str:
        """Serialise ``build(budget)``, halving the per-string budget until it fits."""
        budget = self.max_length
        while True:
            out = json.dumps(build(budget), ensure_ascii=False, separators=(",", ":"))
            if len(out) <= self.max_length or budget <= 16:
                break
            budget //= 2
        if len(out) > self.max_length:
            # Too many items to fit even when every string is short: say so, validly.
            out = json.dumps([{"truncated": True, "length": len(out)}])
        # Every string in it, not only the texts: roles, names, ids and keys come from
        # frameworks too. A surrogate becomes one "?", so the length and the JSON hold.
        return valid_utf8(out)

    def _message(self, message: Message, budget: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "role": message.role,
            "parts": [self._part(p, budget) for p in message.parts],
        }
        if message.name:
            out["name"] = message.name
        if message.finish_reason:
            out["finish_reason"] = message.finish_reason
        return out

    def _part(self, part: Part, budget: int) -> dict[str, Any]:
        if isinstance(part, TextPart):
            return {"type": "text", "content": self._cut(self._redact(part.content), budget)}
        if isinstance(part, ReasoningPart):
            return {"type": "reasoning", "content": self._cut(self._redact(part.content), budget)}
        if isinstance(part, ToolCallPart):
            return {
                "type": "tool_call",
                "id": part.id,
                "name": part.name,
                "arguments": self._plain(_structured(part.arguments), budget, 0, set()),
            }
        if isinstance(part, ToolCallResponsePart):
            return {
                "type": "tool_call_response",
                "id": part.id,
                "response": self._plain(part.response, budget, 0, set()),
            }
        if isinstance(part, MediaPart):
            return self._media(part, budget)
        return {"type": "unknown"}

    def _media(self, part: MediaPart, budget: int) -> dict[str, Any]:
        """A ``uri``, ``file`` or ``blob`` part; inline data only when it fits whole.

        Base64 cut short would be no image at all: data longer than the per-string budget
        (at most ``max_content_length``) is left out, and the part says how long it was.
        """
        out: dict[str, Any] = {"modality": part.modality}
        if part.mime_type:
            out["mime_type"] = part.mime_type
        if part.uri:
            return {"type": "uri", **out, "uri": self._cut(self._redact(part.uri), budget)}
        if part.file_id:
            return {"type": "file", **out, "file_id": part.file_id}
        data = part.data or ""
        if len(data) <= budget:
            return {"type": "blob", **out, "content": data}
        return {"type": "blob", **out, "content": "", "omitted_length": len(data)}

    def _plain(self, value: Any, budget: int, depth: int, seen: set[int]) -> Any:
        """Turn any value into JSON-safe data: strings redacted and cut, cycles broken."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value if abs(value) < 2**63 else str(value)
        if isinstance(value, float):
            return _finite(value)
        if isinstance(value, str):
            return self._cut(self._redact(value), budget)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"<{len(value)} bytes>"
        if depth >= _MAX_DEPTH or id(value) in seen:
            return "<…>"
        seen = seen | {id(value)}
        if isinstance(value, Mapping):
            return {
                self._cut(self._redact(safe_str(k)), budget): self._plain(
                    v, budget, depth + 1, seen
                )
                for k, v in list(value.items())[:_MAX_ITEMS]
            }
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._plain(v, budget, depth + 1, seen) for v in list(value)[:_MAX_ITEMS]]
        return self._cut(self._redact(safe_str(value)), budget)


def valid_utf8(text: str) -> str:
    """``text`` with lone surrogates replaced.

    OTLP cannot encode them, and one bad string would lose its whole export batch.
    """
    if text.isascii():
        return text  # no surrogate can hide in ASCII; no copy made to find out
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def cut(text: str, limit: int) -> str:
    """``text``, or its head and the :data:`TRUNCATED` marker: at most ``limit`` characters.

    Example:
        >>> cut("abcdefghijklmnopqrstuvwxyz", 16)
        'abcd…[truncated]'
    """
    if len(text) <= limit:
        return text
    if limit <= len(TRUNCATED):
        return text[: max(limit, 0)]
    return text[: limit - len(TRUNCATED)] + TRUNCATED


def cut_middle(text: str, limit: int) -> str:
    """``text``, or its head and its tail around a marker line: at most ``limit`` characters.

    For stack traces, whose outermost frames (the head) and innermost frames and
    exception (the tail) both matter.
    """
    if len(text) <= limit:
        return text
    if limit <= len(_ELIDED):
        return text[: max(limit, 0)]
    keep = limit - len(_ELIDED)
    head = keep // 2
    return text[:head] + _ELIDED + text[len(text) - (keep - head) :]


def bounded_text(value: Any, limit: int) -> str | None:
    """``value`` as at most ``limit`` characters of valid UTF-8 (names, ids, tags).

    The one sanitiser for short strings that come from frameworks and users.

    Returns:
        The text, or None for None and for a value whose ``__str__`` raises.
    """
    if value is None:
        return None
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:
        return None
    return valid_utf8(text[:limit])


def safe_str(value: Any) -> str:
    """``str(value)``, or a placeholder naming its type when its ``__str__`` raises."""
    try:
        return value if isinstance(value, str) else str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _structured(arguments: Any) -> Any:
    """Tool call arguments as an object: providers send them as JSON text."""
    if isinstance(arguments, str) and arguments[:1] in ("{", "["):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments  # not JSON after all: kept as the text it is
    return arguments


def _document(doc_id: Any, score: Any, content: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if doc_id is not None:
        out["id"] = doc_id if isinstance(doc_id, str) else safe_str(doc_id)
    if isinstance(score, (int, float)):
        out["score"] = score  # a non-finite score was made a string: not a score
    out["content"] = content
    return out


def _finish_reason(message: Message, index: int, reported: Sequence[str]) -> str:
    if index < len(reported) and len(reported) > 1:
        return str(reported[index])
    if reported:
        return str(reported[0])
    if any(isinstance(p, ToolCallPart) for p in message.parts):
        return "tool_call"
    return "unknown"


def _finite(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return str(value)


# --- a built-in redactor for common secrets ---

_SECRET_PATTERNS: Final = (
    (re.compile(r"(?i)\bbearer\s+[a-z0-9._~+/=-]{8,}"), "Bearer [REDACTED]"),
    (re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}\b"), "[REDACTED_API_KEY]"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "[REDACTED_AWS_KEY]"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "[REDACTED_GITHUB_TOKEN]"),
    (re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b"), "[REDACTED_STRIPE_KEY]"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "[REDACTED_GOOGLE_KEY]"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), "[REDACTED_SLACK_TOKEN]"),
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), "[REDACTED_HF_TOKEN]"),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
        "[REDACTED_JWT]",
    ),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[REDACTED_EMAIL]"),
)


def redact_secrets(text: str) -> str:
    """Replace API keys, bearer tokens, JWTs, AWS/GitHub keys and e-mail addresses.

    Pass it as ``redact=semtrace.redact_secrets``. It is a safety net for common
    shapes, not a guarantee: keep secrets out of prompts where you can.

    Args:
        text: Any text about to be recorded.

    Returns:
        The text with every match replaced by a ``[REDACTED…]`` marker.
    """
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
