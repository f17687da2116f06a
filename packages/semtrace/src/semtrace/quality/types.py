"""The results quality signals produce and the input user evaluators get."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from semtrace.records import Usage


@dataclass(frozen=True, slots=True)
class ModelCall:
    """A model call an evaluator made to reach its result (an LLM judge's).

    A background evaluator's result that carries one gets it on its ``evaluate {name}``
    span: the model, the provider's usage and its cost from semtrace's price table,
    marked ``semtrace.usage.purpose = "evaluation"``. It is never added to the trace's
    token and cost roll-ups, nor to the app's token and cost metrics.

    Attributes:
        model: The requested model.
        provider: ``gen_ai.provider.name`` of the call (``openai``, ``anthropic``...).
        response_model: The model that answered, when the provider said.
        usage: Token usage as the provider reported it (the OpenAI convention of
            :class:`~semtrace.records.Usage`); None when it reported none.
    """

    model: str | None = None
    provider: str | None = None
    response_model: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One signal's result, as a ``gen_ai.evaluation.result`` event carries it.

    Attributes:
        name: The signal (``gen_ai.evaluation.name``).
        value: Its score, in [0, 1] for the built-in signals.
        label: ``pass``, ``fail`` or ``uncertain`` for the built-in signals.
        explanation: Why, in a few words.
        call: The model call that produced it, for a background evaluator that asks a
            model: recorded on its ``evaluate`` span as evaluation usage and cost.
        related: More results of the same evaluation (a judge's combined verdict),
            recorded with this one on a background evaluator's ``evaluate`` span.
    """

    name: str
    value: float
    label: str
    explanation: str = ""
    call: ModelCall | None = None
    related: tuple[Evaluation, ...] = ()


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
        kind: What the answer is grounded on, as the built-in groundedness signal judged
            it: ``qa`` (a question over retrieved passages), ``summary`` (a summary of a
            given source), ``dialogue`` (a chat turn resting on supplied knowledge), or
            None when the span had no source to judge against. For these, ``contexts``
            holds that source.
        verdicts: The built-in signals' labels on this span (``pass``, ``fail`` or
            ``uncertain``), by signal name: what an escalating judge reads.
    """

    operation: str
    question: str | None
    answer: str | None
    contexts: tuple[str, ...]
    model: str | None = None
    response_id: str | None = None
    kind: str | None = None
    verdicts: Mapping[str, str] = field(default_factory=dict)


class TraceSoFar(Protocol):
    """What the signals read of a trace in flight: its question and retrieved texts.

    The recorder's ``OpenTrace`` is one; the signals only read it (the recorder owns it).
    """

    @property
    def question(self) -> str | None:
        """The trace's question: its first retrieval's query, if any."""
        ...

    @property
    def contexts(self) -> Sequence[str]:
        """The texts the trace's retrievals returned so far."""
        ...
