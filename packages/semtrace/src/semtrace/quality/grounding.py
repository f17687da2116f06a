"""What a model call's answer should rest on, and what kind of grounding that is.

Groundedness is judged differently for an answer to a question over retrieved passages
(``qa``), a summary of a given source (``summary``) and a chat turn resting on supplied
knowledge (``dialogue``): see :func:`semtrace.quality.scoring.groundedness`. The source
may come from a retriever or sit in the prompt itself. Read from the prompt, in order:

1. **Retrieved texts the prompt carries** (the common RAG chain and query engine): the
   source is those texts; the kind is ``summary`` when the request is an instruction to
   summarise, else ``qa``.
2. **An instruction to summarise** in the prompt, with a text to summarise: the source is
   the prompt's text, the kind ``summary``.
3. **Knowledge handed over in a system message** ("Use this knowledge to reply: ...",
   "Context information is below.", "the following documents"): the source is the
   system text, the kind ``dialogue``.

Anything else (a chat with no source) gets no groundedness: there is nothing to hold the
answer to. ``Settings.grounding`` forces one kind where the guess is wrong for an app.

Example:
    >>> is_instruction("Summarize the article in three sentences.")
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Final, NamedTuple

from semtrace.quality.scoring import DIALOGUE, QA, SUMMARY
from semtrace.records import Message, Part, TextPart

#: ``Settings.grounding``: guess the kind from the prompt (else one of :data:`KINDS`).
AUTO: Final = "auto"
# A retrieved text counts as "in the prompt" when this much of its start appears there.
_PROBE_CHARS: Final = 80
# Less than this is no text to summarise: an instruction alone.
_MIN_SOURCE_CHARS: Final = 80
# Knowledge can be one short fact ("crayola was founded in 1885."); the marker that hands
# it over ("Use this knowledge: ...") is what tells it from an instruction.
_MIN_KNOWLEDGE_CHARS: Final = 20
_SUMMARISE: Final = re.compile(
    r"\b(?:summar(?:y|ies|ise|ize|ised|ized|ising|izing)|tl;?\s?dr|recap|condense|"
    r"key\s+(?:points|takeaways)|main\s+points|gist)\b",
    re.IGNORECASE,
)
_MARKER: Final = (
    r"(?:knowledge|context|information|facts?|documents?|passages?|sources?|references?|"
    r"background|excerpts?|snippets?|notes)"
)
# A system message that hands over knowledge ("Use this knowledge to reply: ...", "Context
# information is below.", "the following documents"), not one that merely mentions it
# ("Use the information the user gives you").
_SYSTEM_ROLES: Final = ("system", "developer")
_KNOWLEDGE_WORDS: Final = (
    "knowledge", "context", "information", "fact", "document", "passage", "source",
    "reference", "background", "excerpt", "snippet", "note",
)  # fmt: skip
_SUMMARISE_WORDS: Final = ("summar", "tl", "recap", "condense", "key", "main", "gist")
_KNOWLEDGE: Final = re.compile(
    rf"\b{_MARKER}\b[^\n:]{{0,60}}?(?::|\bbelow\b)"
    rf"|\b(?:following|below|these|this)\s+(?:\w+\s+){{0,2}}?{_MARKER}\b",
    re.IGNORECASE,
)


class Grounding(NamedTuple):
    """What one answer should rest on.

    Attributes:
        kind: ``qa``, ``summary`` or ``dialogue``.
        sources: The texts it should rest on.
        question: The question, instruction or previous turn (words the answer may echo).
    """

    kind: str
    sources: list[str]
    question: str


@lru_cache(maxsize=256)
def is_instruction(query: str) -> bool:
    """Whether ``query`` asks for a summary rather than asking a question.

    Cached: a trace asks it of its question at the retrieval and at each model call.
    """
    head = query[:2_000].lower()
    # Every match holds one of these: most queries hold none, and skip the regex.
    if not any(word in head for word in _SUMMARISE_WORDS):
        return False
    return _SUMMARISE.search(head) is not None


def find(
    messages: Sequence[Message],
    retrieved: Sequence[str],
    question: str | None,
    forced: str = AUTO,
) -> Grounding | None:
    """The grounding of the answer to ``messages``, or None when it has no source.

    Args:
        messages: The prompt.
        retrieved: The texts the trace's retrievals returned so far.
        question: The trace's question (its first retrieval's query or its input).
        forced: ``auto`` to guess the kind, or the kind to use.
    """
    system, user, last = _texts(messages)
    # The prompt is joined only where it is needed: most agent steps have no source at all.
    if retrieved:
        prompt = _prompt(system, user)
        carried = [c for c in retrieved if c[:_PROBE_CHARS].strip() in prompt]
        if carried:
            asked = question or last
            kind = SUMMARY if is_instruction(asked) else QA
            return Grounding(kind if forced == AUTO else forced, carried, asked)
    if len(user) >= _MIN_SOURCE_CHARS and is_instruction(user):
        source = _prompt(system, user)
        return Grounding(SUMMARY if forced == AUTO else forced, [source], question or last)
    if len(system) >= _MIN_KNOWLEDGE_CHARS and _hands_over_knowledge(system):
        return Grounding(DIALOGUE if forced == AUTO else forced, [system], question or last)
    if forced != AUTO:
        prompt = _prompt(system, user)
        if len(prompt) >= _MIN_SOURCE_CHARS:
            return Grounding(forced, [prompt], question or last)
    return None


def _prompt(system: str, user: str) -> str:
    """The prompt's text: its system part, then its user part."""
    return f"{system}\n{user}" if system else user


@lru_cache(maxsize=64)
def _hands_over_knowledge(system: str) -> bool:
    """Whether a system text hands over knowledge (cached: an app's system prompt repeats)."""
    head = system.lower()
    # Every match holds one of these: most system prompts hold none, and skip the regex.
    if not any(word in head for word in _KNOWLEDGE_WORDS):
        return False
    return _KNOWLEDGE.search(system) is not None


def _texts(messages: Sequence[Message]) -> tuple[str, str, str]:
    """The system (and developer) messages' text, the user messages', the last user one's.

    In one pass. The last user message is the question when the trace has none.
    """
    system: list[str] = []
    user: list[str] = []
    last: list[Part] = []
    # Plain loops: a comprehension per message costs a frame, and this runs on every answer.
    for message in messages:
        role = message.role
        if role == "user":
            last = message.parts
            for part in last:
                if isinstance(part, TextPart):
                    user.append(part.content)
        elif role in _SYSTEM_ROLES:
            for part in message.parts:
                if isinstance(part, TextPart):
                    system.append(part.content)
    final = "\n".join([p.content for p in last if isinstance(p, TextPart)]) if last else ""
    return "\n".join(system), "\n".join(user), final
