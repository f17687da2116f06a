"""The built-in quality signals: which spans get which signal, and its label.

Pure functions of the records and of what the trace has seen so far: they read the
:class:`~semtrace.runs.OpenTrace`, never change it (the recorder owns it).

Signals are computed from the same records the spans are built from, whether or not
content capture is on (the text itself is recorded only when it is):

=====================  ====================  ==========================================
signal                 on span               value
=====================  ====================  ==========================================
retrieval_relevance    retrieval             query coverage by the documents, [0, 1]
empty_retrieval        retrieval             1 when no document came back
groundedness           chat/text_completion  answer supported by the trace's retrieved
                                             context, [0, 1]; only when the prompt
                                             carried that context
answer_relevance       chat/text_completion  answer addresses the question, [0, 1]
non_answer             chat/text_completion  1 for refusals and "I don't know"
truncated              chat/text_completion  1 when a finish reason is ``length``
empty_output           chat/text_completion  1 when no text and no tool call came back
=====================  ====================  ==========================================

Example:
    >>> from semtrace.quality.signals import Thresholds
    >>> Thresholds(groundedness=0.6).label("groundedness", 0.7)
    'pass'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from semtrace.quality import scoring
from semtrace.quality.types import Evaluation, Sample
from semtrace.records import (
    End,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    Start,
    TextPart,
    ToolCallPart,
)
from semtrace.runs import OpenTrace

RETRIEVAL_RELEVANCE: Final = "retrieval_relevance"
EMPTY_RETRIEVAL: Final = "empty_retrieval"
GROUNDEDNESS: Final = "groundedness"
ANSWER_RELEVANCE: Final = "answer_relevance"
NON_ANSWER: Final = "non_answer"
TRUNCATED: Final = "truncated"
EMPTY_OUTPUT: Final = "empty_output"
#: The signals scored in [0, 1], in the order the tail sampler checks their floors.
SCORES: Final = (GROUNDEDNESS, RETRIEVAL_RELEVANCE, ANSWER_RELEVANCE)
#: The signals that are raised (1) or not (0), in the order the tail sampler checks them.
FLAGS: Final = (EMPTY_RETRIEVAL, NON_ANSWER, TRUNCATED, EMPTY_OUTPUT)
# A document counts as "in the prompt" when this much of its start appears there.
_CONTEXT_PROBE_CHARS: Final = 80


@dataclass(frozen=True)
class Thresholds:
    """Scores at or above a threshold are labelled ``pass``, below it ``fail``.

    Flags (empty_retrieval, non_answer, truncated, empty_output) are labelled ``fail``
    when raised (value 1) and ``pass`` otherwise.
    """

    retrieval_relevance: float = 0.5
    groundedness: float = 0.5
    answer_relevance: float = 0.3

    def __post_init__(self) -> None:
        for name in (RETRIEVAL_RELEVANCE, GROUNDEDNESS, ANSWER_RELEVANCE):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold {name} must be in [0, 1], not {value}")

    def label(self, name: str, value: float) -> str:
        """``pass`` or ``fail`` for ``value`` of signal ``name``."""
        if name in FLAGS:
            return "fail" if value >= 0.5 else "pass"
        threshold = getattr(self, name, 0.5)
        return "pass" if value >= threshold else "fail"


def _evaluation(thresholds: Thresholds, name: str, score: scoring.Score) -> Evaluation:
    return Evaluation(name, score.value, thresholds.label(name, score.value), score.explanation)


def _flag(thresholds: Thresholds, name: str, raised: bool, why: str) -> Evaluation:
    if not raised and type(thresholds) is Thresholds:
        return _NOT_RAISED[name]  # the same frozen value every time: built once
    value = 1.0 if raised else 0.0
    return Evaluation(name, value, thresholds.label(name, value), why if raised else "")


# A flag's label does not depend on the thresholds' values (only a subclass could differ).
_NOT_RAISED: Final = {name: Evaluation(name, 0.0, Thresholds().label(name, 0.0)) for name in FLAGS}


def after_retrieval(
    query: str, end: RetrievalEnd, trace: OpenTrace, thresholds: Thresholds
) -> list[Evaluation]:
    """Signals for a retrieval span (the recorder keeps its documents for later spans)."""
    contents = [d.content for d in end.documents if d.content]
    if not end.documents:
        return [
            _flag(thresholds, EMPTY_RETRIEVAL, True, "the retriever returned no documents"),
            Evaluation(
                RETRIEVAL_RELEVANCE, 0.0, thresholds.label(RETRIEVAL_RELEVANCE, 0.0), "no documents"
            ),
        ]
    return [
        _flag(thresholds, EMPTY_RETRIEVAL, False, ""),
        _evaluation(thresholds, RETRIEVAL_RELEVANCE, scoring.retrieval_relevance(query, contents)),
    ]


def after_model(
    start: ModelStart, end: ModelEnd, trace: OpenTrace, thresholds: Thresholds
) -> list[Evaluation]:
    """Signals for a chat or completion span."""
    answer = _answer_text(end)
    calls_tools = _calls_tools(end)
    truncated = any(r in ("length", "max_tokens") for r in end.finish_reasons)
    out = [
        _flag(thresholds, TRUNCATED, truncated, "the model stopped at its token limit"),
        _flag(thresholds, EMPTY_OUTPUT, not answer and not calls_tools, "no text, no tool call"),
    ]
    if not answer:
        return out
    non_answer = scoring.is_non_answer(answer)
    out.append(_flag(thresholds, NON_ANSWER, non_answer, "the answer declines to answer"))
    if non_answer:
        return out
    contexts = _contexts_in_prompt(start, trace.contexts)
    if contexts:
        grounded = scoring.groundedness(answer, contexts, trace.question or "")
        out.append(_evaluation(thresholds, GROUNDEDNESS, grounded))
    if trace.question:
        out.append(
            _evaluation(
                thresholds, ANSWER_RELEVANCE, scoring.answer_relevance(trace.question, answer)
            )
        )
    return out


def sample(start: Start, end: End, trace: OpenTrace, operation: str) -> Sample:
    """What user evaluators see of one span."""
    if isinstance(start, RetrievalStart) and isinstance(end, RetrievalEnd):
        docs = tuple(d.content for d in end.documents if d.content)
        return Sample(operation, start.query or trace.question, None, docs)
    answer = None
    model = response_id = None
    if isinstance(end, ModelEnd):
        answer = _answer_text(end)
        response_id = end.response_id
    if isinstance(start, ModelStart):
        model = start.model
    return Sample(operation, trace.question, answer, tuple(trace.contexts), model, response_id)


def _calls_tools(end: ModelEnd) -> bool:
    for message in end.output:  # a plain loop: no generator frame to resume per part
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                return True
    return False


def _answer_text(end: ModelEnd) -> str:
    return "\n".join(
        p.content for m in end.output for p in m.parts if isinstance(p, TextPart)
    ).strip()


def _contexts_in_prompt(start: ModelStart, contexts: Sequence[str]) -> list[str]:
    """The retrieved texts this prompt actually carried."""
    if not contexts:
        return []
    prompt = "\n".join(
        p.content for m in start.messages for p in m.parts if isinstance(p, TextPart)
    )
    return [c for c in contexts if c[:_CONTEXT_PROBE_CHARS].strip() in prompt]
