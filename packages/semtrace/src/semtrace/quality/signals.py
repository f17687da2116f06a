"""The built-in quality signals: which spans get which signal, and its label.

Pure functions of the records and of what the trace has seen so far: they read the
:class:`~semtrace.quality.types.TraceSoFar`, never change it (the recorder owns it).

Signals are computed from the same records the spans are built from, whether or not
content capture is on (the text itself is recorded only when it is):

=====================  ====================  ==========================================
signal                 on span               value
=====================  ====================  ==========================================
retrieval_relevance    retrieval             query coverage by the documents, [0, 1]
empty_retrieval        retrieval             1 when no document came back
groundedness           chat/text_completion  answer supported by its source, [0, 1]:
                                             retrieved passages the prompt carried, a
                                             text it summarises, or knowledge in its
                                             system message (:mod:`.grounding`); only
                                             when there is such a source
answer_relevance       chat/text_completion  answer addresses the question, [0, 1]; only
                                             for questions (not instructions, not chat
                                             turns resting on knowledge)
non_answer             chat/text_completion  1 for refusals and "I don't know"
truncated              chat/text_completion  1 when a finish reason is ``length``
empty_output           chat/text_completion  1 when no text and no tool call came back
=====================  ====================  ==========================================

Each score gets a verdict: ``fail`` only where semtrace is confident (on human-labelled
data, the default thresholds fail at most about 5% of faithful answers), ``pass`` where it
is confident the other way, ``uncertain`` in between: the cases to escalate to a judge
(:mod:`semtrace.quality.judge`) or a person.

Example:
    >>> from semtrace.quality.signals import Thresholds
    >>> Thresholds().label("groundedness", 0.4)
    'uncertain'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

from semtrace.quality import grounding, messages, scoring
from semtrace.quality.types import Evaluation, Sample, TraceSoFar
from semtrace.records import (
    End,
    ModelEnd,
    ModelStart,
    RetrievalEnd,
    RetrievalStart,
    Start,
    ToolCallPart,
)

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
PASS: Final = "pass"
FAIL: Final = "fail"
UNCERTAIN: Final = "uncertain"


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds: ``fail`` below the first, ``pass`` from the ``_pass`` one.

    A score below its threshold (``groundedness``) is labelled ``fail``, one at or above
    its ``_pass`` threshold (``groundedness_pass``) ``pass``, one in between ``uncertain``.
    The defaults were chosen on human-labelled data (``BENCHMARKS.md``): groundedness
    fails at most about 5% of faithful answers on each set; retrieval relevance fails 3%
    of real questions with their right passage; answer relevance never fails (word
    overlap cannot tell a short correct answer from an off-topic one: 90% of correct
    short answers score below 0.3), it only passes or is uncertain. A ``_pass``
    threshold below its ``fail`` one counts as equal to it (no uncertain band).

    Flags (empty_retrieval, non_answer, truncated, empty_output) are labelled ``fail``
    when raised (value 1) and ``pass`` otherwise.
    """

    retrieval_relevance: float = 0.25
    groundedness: float = scoring.FAIL_BELOW
    answer_relevance: float = 0.0
    retrieval_relevance_pass: float = 0.5
    groundedness_pass: float = scoring.PASS_FROM
    answer_relevance_pass: float = 0.3

    def __post_init__(self) -> None:
        for name in (RETRIEVAL_RELEVANCE, GROUNDEDNESS, ANSWER_RELEVANCE):
            for field_name in (name, name + "_pass"):
                value = getattr(self, field_name)
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"threshold {field_name} must be in [0, 1], not {value}")

    def label(self, name: str, value: float) -> str:
        """``pass``, ``uncertain`` or ``fail`` for ``value`` of signal ``name``."""
        if name in FLAGS:
            return FAIL if value >= 0.5 else PASS
        fail = getattr(self, name, 0.5)
        if value < fail:
            return FAIL
        return PASS if value >= max(fail, getattr(self, name + "_pass", fail)) else UNCERTAIN


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
    query: str, end: RetrievalEnd, trace: TraceSoFar, thresholds: Thresholds
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
    if grounding.is_instruction(query):
        # "Summarize the article" asks for no passage in particular (a summary index
        # retrieves every node): there is no question to be relevant to.
        return [_flag(thresholds, EMPTY_RETRIEVAL, False, "")]
    return [
        _flag(thresholds, EMPTY_RETRIEVAL, False, ""),
        _evaluation(thresholds, RETRIEVAL_RELEVANCE, scoring.retrieval_relevance(query, contents)),
    ]


class ModelSignals(NamedTuple):
    """The signals of one model call, and what its answer was judged to rest on."""

    evaluations: list[Evaluation]
    grounding: grounding.Grounding | None


def after_model(
    start: ModelStart,
    end: ModelEnd,
    trace: TraceSoFar,
    thresholds: Thresholds,
    kind: str = grounding.AUTO,
) -> ModelSignals:
    """Signals for a chat or completion span; ``kind`` is ``Settings.grounding``."""
    answer = messages.answer_text(end)
    calls_tools = _calls_tools(end)
    truncated = any(r in ("length", "max_tokens") for r in end.finish_reasons)
    out = [
        _flag(thresholds, TRUNCATED, truncated, "the model stopped at its token limit"),
        _flag(thresholds, EMPTY_OUTPUT, not answer and not calls_tools, "no text, no tool call"),
    ]
    if not answer:
        return ModelSignals(out, None)
    non_answer = scoring.is_non_answer(answer)
    out.append(_flag(thresholds, NON_ANSWER, non_answer, "the answer declines to answer"))
    if non_answer:
        return ModelSignals(out, None)
    found = grounding.find(start.messages, trace.contexts, trace.question, kind)
    if found is not None:
        grounded = scoring.groundedness(answer, found.sources, found.question, found.kind)
        out.append(_evaluation(thresholds, GROUNDEDNESS, grounded))
    question = trace.question
    # An instruction ("summarize ...") or a chat turn resting on knowledge is no question
    # for the answer to address.
    asked = found is None or found.kind == scoring.QA
    if question and asked and not grounding.is_instruction(question):
        out.append(
            _evaluation(thresholds, ANSWER_RELEVANCE, scoring.answer_relevance(question, answer))
        )
    return ModelSignals(out, found)


def sample(
    start: Start,
    end: End,
    trace: TraceSoFar,
    operation: str,
    signals: ModelSignals | None = None,
) -> Sample:
    """What user evaluators see of one span (``signals``: the model call's built-in ones)."""
    if isinstance(start, RetrievalStart) and isinstance(end, RetrievalEnd):
        docs = tuple(d.content for d in end.documents if d.content)
        return Sample(operation, start.query or trace.question, None, docs)
    answer = None
    model = response_id = None
    if isinstance(end, ModelEnd):
        answer = messages.answer_text(end)
        response_id = end.response_id
    if isinstance(start, ModelStart):
        model = start.model
    found = signals.grounding if signals is not None else None
    return Sample(
        operation,
        found.question if found is not None else trace.question,
        answer,
        tuple(found.sources if found is not None else trace.contexts),
        model,
        response_id,
        found.kind if found is not None else None,
        {e.name: e.label for e in signals.evaluations} if signals is not None else {},
    )


def _calls_tools(end: ModelEnd) -> bool:
    for message in end.output:  # a plain loop: no generator frame to resume per part
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                return True
    return False
