"""An opt-in LLM judge of groundedness, asked when the built-in signal is unsure or failed.

Example:
    >>> from semtrace.quality.judge import GroundednessJudge, JudgeReply
    >>> judge = GroundednessJudge(lambda prompt: JudgeReply("SUPPORTED"))
    >>> # CallbackHandler(evaluators=[judge]), or build it from your model:
    >>> # semtrace_langchain.groundedness_judge(ChatOpenAI(model="gpt-4o-mini", timeout=20))
    >>> # semtrace_llamaindex.groundedness_judge(OpenAI(model="gpt-4o-mini", timeout=20))

The judge is a background evaluator (:mod:`semtrace.quality.evaluators`): it runs on
semtrace's evaluator thread, never on the caller's, fed by a bounded queue. It judges an
answer when the built-in ``groundedness`` label is one of ``escalate_on`` (``uncertain``
and ``fail`` by default), and a random ``sample_rate`` share of the other answers that
have a source. An answer with no text, or with no source (``Sample.kind`` None: the
built-in signal found none in its prompt), is never judged.

Each judgement records two results on the span ``evaluate groundedness_judge``, a child
of the judged span: ``groundedness_judge`` (1.0 ``pass``: supported, 0.0 ``fail``: not)
and ``groundedness_final``, the combined verdict (the judge's when it answered, else the
built-in label). The judge's model call is recorded there too, as evaluation usage and
cost (:class:`~semtrace.quality.types.ModelCall`), never as the app's.

A judge that times out, raises or answers something that names no verdict gives no
verdict: ``groundedness_judge`` is then ``uncertain`` (0.5) with the reason as its
explanation, the built-in label stands as the final one, and the fault is counted by
reason in :attr:`GroundednessJudge.faults` and in :func:`semtrace.fault_count`
(``groundedness_judge timeout`` ...). The built-in verdict on the judged span is never
changed.

Threading contract: ``ask`` is called on a helper thread of the judge's own, with
OpenTelemetry's suppress-instrumentation key set, so semtrace (and any instrumentation
honouring the key) records no app span for it. It may block; the judge waits for it at
most ``timeout_s``.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Final

from semtrace import semconv
from semtrace.quality.signals import GROUNDEDNESS
from semtrace.quality.types import Evaluation, ModelCall, Sample
from semtrace.safety import record_fault

#: The judge's own result, and the span it lands on is ``evaluate groundedness_judge``.
JUDGE: Final = "groundedness_judge"
#: The combined verdict of the built-in signal and the judge.
FINAL: Final = "groundedness_final"
DEFAULT_ESCALATE_ON: Final = frozenset({"uncertain", "fail"})
DEFAULT_TIMEOUT_S: Final = 30.0
DEFAULT_MAX_SOURCE_CHARS: Final = 8000
DEFAULT_MAX_ANSWER_CHARS: Final = 4000
DEFAULT_MAX_QUESTION_CHARS: Final = 1000
DEFAULT_MAX_IN_FLIGHT: Final = 2

#: Fault reasons, the keys of :attr:`GroundednessJudge.faults`.
FAULT_TIMEOUT: Final = "timeout"
FAULT_ERROR: Final = "error"
FAULT_UNPARSEABLE: Final = "unparseable"
FAULT_BUSY: Final = "busy"
FAULT_REASONS: Final = (FAULT_TIMEOUT, FAULT_ERROR, FAULT_UNPARSEABLE, FAULT_BUSY)

_LABELS: Final = frozenset({"pass", "fail", "uncertain"})
_VALUES: Final = {"pass": 1.0, "fail": 0.0, "uncertain": 0.5}
_SOURCE_HEADINGS: Final = {
    "qa": "Passages retrieved to answer the question",
    "summary": "The document the answer summarises",
    "dialogue": "The knowledge the assistant was given",
}
_THINKING = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_WORDS = re.compile(r"[A-Z]+")
_NEGATIONS: Final = frozenset({"NOT", "NO", "NEVER"})
_CUT: Final = " [...]"


@dataclass(frozen=True, slots=True)
class JudgeReply:
    """What the judge's model answered.

    Attributes:
        text: The reply's text.
        call: The model, provider and token usage of the call, recorded on the
            ``evaluate`` span as evaluation usage and priced from semtrace's price table.
    """

    text: str
    call: ModelCall | None = None


#: Ask the judge's model one prompt; the integrations build one from a model object.
Ask = Callable[[str], JudgeReply]


def parse_verdict(text: str) -> str | None:
    """The verdict a reply names: ``pass`` (supported), ``fail`` (not), or None.

    Tolerant of case, punctuation, markdown and extra words ("**Supported.**",
    "Verdict: not supported"); a ``<think>`` block is ignored. A reply that names both
    verdicts, or neither, has none.
    """
    words = _WORDS.findall(_THINKING.sub(" ", text).upper())
    found = set()
    for i, word in enumerate(words):
        if word == "UNSUPPORTED":
            found.add("fail")
        elif word == "SUPPORTED":
            found.add("fail" if i and words[i - 1] in _NEGATIONS else "pass")
    return found.pop() if len(found) == 1 else None


def build_prompt(
    sample: Sample,
    *,
    max_source_chars: int = DEFAULT_MAX_SOURCE_CHARS,
    max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS,
    max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS,
) -> str:
    """The prompt the judge's model gets: the bounded source, the question, the answer.

    The source's passages come in their order (the retriever's best first) until
    ``max_source_chars`` is reached; the one that crosses it is cut, later ones are left
    out. Cuts end with ``[...]``.
    """
    heading = _SOURCE_HEADINGS.get(sample.kind or "", "The source")
    parts = [
        "You check whether an answer is supported by its source.",
        "",
        f"{heading}:",
        "<source>",
        _bounded_source(sample.contexts, max_source_chars),
        "</source>",
    ]
    if sample.question:
        parts += ["", "The question:", _cut(sample.question, max_question_chars)]
    parts += [
        "",
        "The answer:",
        "<answer>",
        _cut(sample.answer or "", max_answer_chars),
        "</answer>",
        "",
        "Is every factual claim of the answer supported by the source? Reply with one "
        "word: SUPPORTED or UNSUPPORTED.",
    ]
    return "\n".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(_CUT))] + _CUT


def _bounded_source(contexts: Sequence[str], limit: int) -> str:
    out: list[str] = []
    left = limit
    for i, text in enumerate(contexts, 1):
        head = f"[{i}] "
        if left <= len(head) + len(_CUT):
            break
        piece = head + _cut(text, left - len(head))
        out.append(piece)
        left -= len(piece) + 2  # the blank line between passages
    return "\n\n".join(out)


class GroundednessJudge:
    """A background evaluator that asks a model whether an answer is supported.

    Args:
        ask: Asks the judge's model one prompt (``semtrace_langchain.groundedness_judge``
            and ``semtrace_llamaindex.groundedness_judge`` build it from a model).
        escalate_on: The built-in ``groundedness`` labels that are always judged.
        sample_rate: The share, in [0, 1], of the other answers with a source that are
            judged too, drawn at random (a ``pass``, or a label left out of
            ``escalate_on``).
        timeout_s: How long the judge waits for ``ask``; past it, no verdict.
        max_in_flight: Calls to ``ask`` running at once, those given up on included;
            past it a judgement is skipped (fault ``busy``), so a hung model never
            piles up threads.
        max_source_chars: Bound on the source in the prompt.
        max_answer_chars: Bound on the answer in the prompt.
        max_question_chars: Bound on the question in the prompt.
        seed: Seed of the sampling draws (tests); None draws from the system.

    Raises:
        ValueError: An option out of range, or a label in ``escalate_on`` that is not
            ``pass``, ``fail`` or ``uncertain``.
    """

    name = JUDGE
    background = True
    operations = frozenset({semconv.OP_CHAT, semconv.OP_TEXT_COMPLETION})

    def __init__(
        self,
        ask: Ask,
        *,
        escalate_on: Collection[str] = DEFAULT_ESCALATE_ON,
        sample_rate: float = 0.0,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_source_chars: int = DEFAULT_MAX_SOURCE_CHARS,
        max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS,
        max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS,
        seed: int | None = None,
    ) -> None:
        if not callable(ask):
            raise ValueError(f"ask must be callable, not {ask!r}")
        escalate = frozenset(escalate_on)
        if isinstance(escalate_on, str) or not escalate <= _LABELS:
            raise ValueError(f"escalate_on must hold labels of {sorted(_LABELS)}: {escalate_on!r}")
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in [0, 1], not {sample_rate}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s}")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight}")
        for option, value in (
            ("max_source_chars", max_source_chars),
            ("max_answer_chars", max_answer_chars),
            ("max_question_chars", max_question_chars),
        ):
            if value < 100:
                raise ValueError(f"{option} must be at least 100, not {value}")
        self._ask = ask
        self.escalate_on = escalate
        self.sample_rate = sample_rate
        self.timeout_s = timeout_s
        self._bounds = (max_source_chars, max_answer_chars, max_question_chars)
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._random = random.Random(seed)
        self._faults = dict.fromkeys(FAULT_REASONS, 0)
        self._lock = threading.Lock()

    @property
    def faults(self) -> dict[str, int]:
        """Judgements that gave no verdict, by reason (a copy).

        ``timeout``: ``ask`` took longer than ``timeout_s``; ``error``: it raised;
        ``unparseable``: its reply named no verdict; ``busy``: ``max_in_flight`` calls
        were still running.
        """
        with self._lock:
            return dict(self._faults)

    def evaluate(self, sample: Sample) -> Evaluation | None:
        """Judge one answer, if it is escalated or sampled; None otherwise.

        Called on semtrace's evaluator thread; blocks it at most ``timeout_s``.
        """
        builtin = sample.verdicts.get(GROUNDEDNESS)
        # No kind: the built-in signal found no source this answer rests on (a query
        # rewrite in a RAG trace sees the trace's passages, yet is not answered from them).
        if sample.kind is None or not sample.answer or not sample.contexts:
            return None
        if not self._chosen(builtin):
            return None
        source, answer, question = self._bounds
        prompt = build_prompt(
            sample,
            max_source_chars=source,
            max_answer_chars=answer,
            max_question_chars=question,
        )
        reply, reason, detail = self._call(prompt)
        verdict = parse_verdict(reply.text) if reply is not None else None
        if reply is not None and verdict is None:
            reason = FAULT_UNPARSEABLE
            detail = f"the reply ({len(reply.text)} characters) names no verdict"
        call = reply.call if reply is not None else None
        if verdict is None:
            self._count(reason)
            return self._no_verdict(builtin, reason, detail, call)
        said = "supported" if verdict == "pass" else "not supported"
        final = Evaluation(
            FINAL,
            _VALUES[verdict],
            verdict,
            f"the judge's verdict ({said}); built-in groundedness: {builtin or 'none'}",
        )
        return Evaluation(
            JUDGE,
            _VALUES[verdict],
            verdict,
            f"the judge found the answer {said} by the source",
            call=call,
            related=(final,),
        )

    def _chosen(self, builtin: str | None) -> bool:
        if builtin in self.escalate_on:
            return True
        return self.sample_rate > 0.0 and self._random.random() < self.sample_rate

    def _no_verdict(
        self, builtin: str | None, reason: str, detail: str, call: ModelCall | None
    ) -> Evaluation:
        stands = builtin if builtin in _LABELS else "uncertain"
        final = Evaluation(
            FINAL,
            _VALUES[stands],
            stands,
            f"built-in groundedness: {builtin or 'none'} stands; the judge gave no verdict "
            f"({reason})",
        )
        return Evaluation(
            JUDGE,
            _VALUES["uncertain"],
            "uncertain",
            f"no verdict ({reason}): {detail}",
            call=call,
            related=(final,),
        )

    def _count(self, reason: str) -> None:
        with self._lock:
            self._faults[reason] = self._faults.get(reason, 0) + 1
        record_fault(f"{JUDGE} {reason}")

    def _call(self, prompt: str) -> tuple[JudgeReply | None, str, str]:
        """``ask(prompt)`` on a helper thread, waited for at most ``timeout_s``.

        Why a thread: neither a LangChain chat model nor a LlamaIndex LLM offers a
        per-call timeout that works for every provider, and a hung call must not hold
        semtrace's evaluator thread (every other background evaluation waits behind it).
        A call given up on runs on until it ends (give the client its own timeout too);
        it keeps its slot until then, so at most ``max_in_flight`` such threads exist.

        Returns:
            The reply; or None, the fault reason and what happened.
        """
        if not self._slots.acquire(blocking=False):
            return None, FAULT_BUSY, "earlier judge calls are still running"
        done = threading.Event()
        outcome: list[object] = []

        def run() -> None:
            # The app's instrumentation must not record the judge's call as the app's:
            # semtrace, like OpenTelemetry's instrumentations, records nothing under this.
            try:
                # Imported here: it pulls in asyncio and ssl, which `import semtrace` spares.
                from opentelemetry.instrumentation.utils import suppress_instrumentation

                with suppress_instrumentation():
                    outcome.append(self._ask(prompt))
            except Exception as error:
                outcome.append(error)
            finally:
                self._slots.release()
                done.set()

        try:
            threading.Thread(target=run, name="semtrace-judge", daemon=True).start()
        except Exception:  # no thread to be had (the interpreter is shutting down)
            self._slots.release()
            return None, FAULT_ERROR, "no thread for the judge's call"
        if not done.wait(self.timeout_s):
            return None, FAULT_TIMEOUT, f"no reply within {self.timeout_s:g}s"
        result = outcome[0] if outcome else None
        if isinstance(result, JudgeReply) and isinstance(result.text, str):
            return result, "", ""
        if isinstance(result, Exception):
            return None, FAULT_ERROR, f"the call raised {_error_type(result)}"
        return None, FAULT_ERROR, f"ask returned {type(result).__name__}, not a JudgeReply"


def _error_type(error: BaseException) -> str:
    """The exception's class, never its message (it may quote the prompt)."""
    cls = type(error)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
