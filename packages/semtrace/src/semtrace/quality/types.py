"""The results quality signals produce and the input user evaluators get."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One signal's result, as a ``gen_ai.evaluation.result`` event carries it."""

    name: str
    value: float
    label: str
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class Sample:
    """What an evaluator sees of one evaluated span.

    Attributes:
        operation: ``chat``, ``text_completion`` or ``retrieval``.
        question: The question of the trace, when known.
        answer: The model's text (model spans).
        contexts: Retrieved texts of the trace (model spans) or of this retrieval.
        model: The requested model (model spans).
        response_id: The provider's response id, when given.
    """

    operation: str
    question: str | None
    answer: str | None
    contexts: tuple[str, ...]
    model: str | None = None
    response_id: str | None = None
