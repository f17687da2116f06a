"""Pure, deterministic, stdlib-only quality scores for a RAG request.

These are *lexical* signals: they compare words, not meanings, so they are cheap enough to
run on every traced request and good at catching the failures that show up as a
vocabulary mismatch (wrong documents retrieved, an answer whose claims appear nowhere in
the context, an answer about something else, a refusal). They will miss a fluent answer
that reuses the context's words to say something false, and they under-score a correct
answer that paraphrases heavily; treat them as alarms, not as verdicts.

Every function is total on ``str`` input and bounded in cost: it looks at no more than
``MAX_QUERY_CHARS`` of a question, ``MAX_ANSWER_CHARS`` of an answer (``MAX_SENTENCES``
sentences) and ``MAX_CONTEXT_CHARS`` of context spread over ``MAX_DOCUMENTS`` documents.
Text beyond those caps is ignored, never an error.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Final, NamedTuple, TypeVar

from semtrace.quality import _text, claims, support

T = TypeVar("T")

MAX_QUERY_CHARS = 2_000
MAX_ANSWER_CHARS = 8_000
MAX_CONTEXT_CHARS = 20_000
MAX_DOCUMENTS = 64
MAX_SENTENCES = 64
MAX_QUERY_TERMS = 64

# Phrases assistants use to decline. A bare "X does not contain Y" is an ordinary fact
# about Python, so absence phrases must name the context ("the documents do not ...") and
# inability phrases must be first person or about answering itself.
_PARTICIPLES: Final = (
    "mentioned", "covered", "specified", "provided", "included", "addressed", "described",
    "discussed", "found",
)  # fmt: skip
_CTX = r"""(?:context|document|doc|passage|source|text|excerpt|snippet|material|article|
    knowledge\s+base|search\s+result|result|information|data)s?"""
# Each refusal pattern with the words it cannot match without: a pattern runs only when
# one of them is in the answer. One regex of all of them tried every pattern at every word
# (~80 µs an answer); most answers hold none of the words, or only those of one pattern.
_REFUSALS: Final = tuple(
    (anchors, re.compile(pattern, re.VERBOSE))
    for anchors, pattern in (
        (("know",), r"\bi\s+(?:do\s+not|don't|really\s+don't)\s+know\b"),
        (
            ("i'm", "i am"),
            r"\bi(?:'m|\s+am)\s+(?:not\s+(?:sure|certain|able)|unable|afraid)\b",
        ),
        (
            ("can", "could", "unable", "not able"),
            r"""\b(?:i|we)\s+(?:\S+\s+)?(?:cannot|can't|can\s+not|could\s+not|couldn't|
            am\s+unable\s+to|was\s+unable\s+to|am\s+not\s+able\s+to)\s+(?:\S+\s+)?(?:answer|
            help|find|determine|provide|say|tell|locate|give|identify|confirm|respond)\b""",
        ),
        (
            ("be answered", "be determined"),
            r"\b(?:cannot|can't|can\s+not|could\s+not)\s+be\s+(?:answered|determined)\b",
        ),
        (
            ("does not", "do not", "did not", "doesn't", "don't", "didn't"),
            rf"""\b{_CTX}\s+(?:\S+\s+){{0,2}}?(?:does|do|did)(?:\s+not|n't)\s+(?:\S+\s+)?
            (?:contain|mention|include|provide|specify|say|describe|explain|cover|address|
            discuss|have)\b""",
        ),
        (
            ("no ",),
            r"""\bno\s+(?:relevant\s+|specific\s+|such\s+|further\s+)?(?:information|details|
            data|mention)\s+(?:about|on|regarding|of|for|in|to)\b""",
        ),
        (
            _PARTICIPLES,
            rf"""\b(?:not|isn't|aren't)\s+(?:{"|".join(_PARTICIPLES)})\s+(?:anywhere\s+)?in\s+
            (?:the|any|this|these)\s+(?:\S+\s+)?{_CTX}""",
        ),
        (("covered",), r"\b(?:isn't|is\s+not|aren't|are\s+not)\s+covered\b"),
        (
            ("have",),
            r"""\bi\s+(?:do\s+not|don't)\s+have\s+(?:\S+\s+){0,2}?(?:information|context|data|
            details|knowledge|access)\b""",
        ),
        (
            ("not enough", "insufficient"),
            r"\b(?:not\s+enough|insufficient)\s+(?:information|context|data|details)\b",
        ),
        (("as an ai",), r"\bas\s+an\s+ai\b"),
        # Anchored at the start, so cheap enough to try on every answer.
        (("",), r"^\W*(?:unknown|n/?a|no\s+answer|i\s+apologi[sz]e|sorry)\b"),
    )
)
_NON_ANSWER_WINDOW = 400
# A refusal holds one of these (a short answer such as "NA" alone is not judged one).
_REFUSAL_WORDS: Final = (
    "not", "n't", "know", "unable", "afraid", "insufficient", "as an ai", "unknown", "n/a",
    "apologi", "sorry",
)  # fmt: skip
_NO_WORD: Final = re.compile(r"\bno\b")


@dataclass(frozen=True, slots=True)
class Score:
    """One quality score.

    Attributes:
        value: In ``[0, 1]``; higher is better.
        explanation: Short, human-readable reason for the value.
    """

    value: float
    explanation: str


def _corpus(documents: Sequence[str]) -> tuple[_text.DocumentTerms, ...]:
    """The analysed documents within the ``MAX_DOCUMENTS`` / ``MAX_CONTEXT_CHARS`` caps.

    Each document's analysis is cached on its own (groundedness reads the same ones).
    """
    return tuple(map(_text.document_terms, _clip(documents)))


class _Question(NamedTuple):
    terms: tuple[str, ...]  # content stems the question is *about*, first-seen order
    pairs: frozenset[tuple[str, str]]  # their adjacent pairs, for phrase matches
    text: str  # normalised: the names an answer may repeat
    stems: frozenset[str]  # ``terms`` as a set: the words an answer may repeat


def _question(text: str) -> _Question:
    return _analyse_question(text[:MAX_QUERY_CHARS])


@lru_cache(maxsize=256)
def _analyse_question(text: str) -> _Question:
    # Cached: a trace scores its question on the retrieval span and again on each answer.
    norm = _text.normalize(text)
    sequence = _text.content_stems(norm, _text.QUESTION_WORDS)
    marked = _text.marked_stems(norm)
    terms = tuple(dict.fromkeys(sequence + sorted(marked)))[:MAX_QUERY_TERMS]
    return _Question(terms, frozenset(_text.bigrams(sequence)), norm, frozenset(terms))


class _Answer(NamedTuple):
    stems: frozenset[str]  # every stem, stopwords included
    pairs: frozenset[tuple[str, str]]  # adjacent content-stem pairs of the whole answer


@lru_cache(maxsize=64)
def _answer(clipped: str) -> _Answer:
    # From the analysis groundedness made of the same answer (cached there).
    analysed = support.analyse(clipped)
    content = [t for sentence in analysed.sentences for t in sentence]
    return _Answer(frozenset(analysed.tokens), frozenset(itertools.pairwise(content)))


def retrieval_relevance(query: str, documents: Sequence[str]) -> Score:
    """How well the retrieved documents cover the query's content terms.

    The score mixes how many query terms the best single document holds (a good hit
    answers on its own), how many the documents hold together, and how many of the
    query's adjacent term pairs appear as phrases. Term frequency is saturated
    BM25-style so one passing mention counts less than a document about the term.

    Args:
        query: The user question or retriever query.
        documents: The retrieved passages' text, in rank order.

    Returns:
        A ``Score``; ``0.0`` when no non-empty document was retrieved.
    """
    docs = _corpus(documents)
    if not docs:
        return Score(0.0, "no documents retrieved")
    question = _question(query)
    terms = question.terms
    if not terms:
        return Score(1.0, "query has no content terms to match")
    found: set[str] = set()
    best_doc = 0.0
    for doc in docs:
        # A term the document lacks adds 0.0: the sum of the others', to the last bit.
        best_doc = max(best_doc, sum(map(doc.weights.get, terms, repeat(0.0))) / len(terms))
        found.update(filter(doc.weights.__contains__, terms))
    coverage = len(found) / len(terms)
    value = 0.5 * best_doc + 0.5 * coverage
    if question.pairs:
        phrase = _share_in_any(question.pairs, [d.pairs for d in docs])
        value = 0.4 * best_doc + 0.4 * coverage + 0.2 * phrase
    # Counts only: explanations are recorded with content capture off, so no query words.
    why = f"{len(found)} of {len(terms)} query terms found in {len(docs)} document(s)"
    return Score(_clamp(value), why)


#: What an answer can be grounded on, and so how its groundedness is judged.
QA: Final = "qa"  # an answer to a question over retrieved passages
SUMMARY: Final = "summary"  # a summary of a given source
DIALOGUE: Final = "dialogue"  # a chat turn resting on supplied knowledge
KINDS: Final = (QA, SUMMARY, DIALOGUE)

#: The measures each kind's groundedness weighs (see :mod:`semtrace.quality.support`).
FEATURES: Final = {
    QA: (
        "words",
        "pairs",
        "triples",
        "weakest",
        "new_words",
        "new_names",
        "specifics",
        "contradictions",
    ),
    SUMMARY: ("words", "triples", "weakest", "new_words", "new_names"),
    DIALOGUE: ("words", "pairs", "weakest", "new_words"),
}


class _Model(NamedTuple):
    """One kind's groundedness: weights of its measures, and where its verdicts change.

    ``fail_at`` and ``pass_at`` are points on the weighted sum: below ``fail_at`` fall at
    most 4% of the faithful answers of every dev set, below ``pass_at`` at most a
    quarter. The reported score maps them to ``FAIL_BELOW`` and ``PASS_FROM``, so the
    default thresholds mean the same for every kind.
    """

    weights: tuple[float, ...]  # in FEATURES order; counts enter as log(1 + n)
    bias: float
    fail_at: float
    pass_at: float


# Fitted per kind on the development splits of human-labelled sets (the held-out splits
# never read) by benchmarks/quality/fit_groundedness.py, which prints these lines.
_MODELS: Final = {
    QA: _Model(
        (1.809, 2.664, 2.317, 1.714, -0.406, -2.292, -6.708, -7.445),
        -4.675,
        fail_at=-2.075,
        pass_at=-0.005,
    ),
    SUMMARY: _Model((1.031, 1.182, 0.354, -1.318, -1.496), -1.036, fail_at=-1.283, pass_at=-0.155),
    DIALOGUE: _Model((6.427, 1.687, 0.671, -1.626), -4.462, fail_at=-0.868, pass_at=1.379),
}
#: Default verdict thresholds of groundedness: below the first ``fail``, from the second
#: ``pass``, ``uncertain`` in between.
FAIL_BELOW: Final = 0.3
PASS_FROM: Final = 0.5


def groundedness(answer: str, contexts: Sequence[str], question: str = "", kind: str = QA) -> Score:
    """How much of the answer its source supports, judged for its kind of grounding.

    A weighted sum of lexical measures (:mod:`semtrace.quality.support`: the share of the
    answer's word pairs and triples copied from the source, of its words and of its least
    supported sentence's content words found there, and counts of new content words,
    names, identifiers and numbers, and of sentences contradicting the source), squashed
    into [0, 1]. The weights differ by ``kind``: a summary is judged by its phrases and
    names, a chat turn by its words, an answer by its phrases and its specifics. They
    were fitted on human-labelled data (``benchmarks/quality``), not on the project's own.

    Args:
        answer: The generated answer.
        contexts: The source the answer should rest on: retrieved passages, the document
            summarised, or the knowledge a chat turn was given.
        question: The question (or instruction, or previous turn), whose words the
            answer may repeat.
        kind: ``qa``, ``summary`` or ``dialogue`` (:data:`KINDS`).

    Returns:
        A ``Score``; ``1.0`` when the answer has no content to check, ``0.0`` when
        there is content but no source.
    """
    model = _MODELS.get(kind, _MODELS[QA])
    measured = _measured(answer, contexts, question, kind)
    if measured is None:
        return Score(1.0, "answer has no content to check")
    features, found, claimed = measured
    if not features:
        return Score(0.0, "no source to check the answer against")
    value = _scaled(model, model.bias + sum(map(operator.mul, model.weights, features)))
    return Score(_clamp(value), _why(kind, found, claimed))


@lru_cache(maxsize=64)
def _why(kind: str, found: support.Support, claimed: claims.Findings) -> str:
    """Groundedness's explanation, cached: answers the source fully supports share one."""
    # Counts only: explanations are recorded with content capture off, so no words.
    return (
        f"{kind}: {round(100 * found.words)}% of words, {round(100 * found.pairs)}% of word"
        f" pairs, {round(100 * found.triples)}% of word triples in the source; weakest"
        f" sentence {round(100 * found.weakest)}% supported; {found.new_words} new content"
        f" word(s), {found.new_names} new name(s), {claimed.novel} identifier(s) or"
        f" number(s) not in the source, {claimed.contradicted} sentence(s) contradicting it"
    )


def groundedness_features(
    answer: str, contexts: Sequence[str], question: str = "", kind: str = QA
) -> list[float] | None:
    """The measures ``kind`` weighs, in :data:`FEATURES` order.

    None when the answer has no content word to check; an empty list when there is no
    source.
    """
    measured = _measured(answer, contexts, question, kind)
    return None if measured is None else measured[0]


def _measured(
    answer: str, contexts: Sequence[str], question: str, kind: str
) -> tuple[list[float], support.Support, claims.Findings] | None:
    clipped = answer[:MAX_ANSWER_CHARS]
    texts = _clip(contexts)
    asked = _question(question)  # analysed by the trace's retrieval already (cached)
    found = support.measure(clipped, texts, asked.text, asked.stems)
    if not found.content:
        return None
    claimed = _NO_CLAIMS
    if not texts:
        return [], found, claimed
    if kind == QA or kind not in FEATURES:  # the one kind that weighs them
        claimed = claims.check(clipped, contexts, question)
    every = (
        found.words,
        found.pairs,
        found.triples,
        found.weakest,
        math.log1p(found.new_words),
        math.log1p(found.new_names),
        math.log1p(claimed.novel),
        math.log1p(claimed.contradicted),
    )  # in FEATURES[QA] order, which holds every measure
    return list(_PICK.get(kind, _PICK[QA])(every)), found, claimed


_NO_CLAIMS: Final = claims.Findings(0, 0)
# Each kind's measures out of all of them (one C call, not a dict built per answer).
_PICK: Final = {
    kind: operator.itemgetter(*(FEATURES[QA].index(n) for n in names))
    for kind, names in FEATURES.items()
}


def _scaled(model: _Model, z: float) -> float:
    """The weighted sum ``z`` on [0, 1], monotone.

    The cut points land on the thresholds, a verbatim answer scores 1, and below
    ``fail_at`` the score decays towards 0.
    """
    if z < model.fail_at:
        return FAIL_BELOW * math.exp(z - model.fail_at)
    if z < model.pass_at:
        return FAIL_BELOW + (PASS_FROM - FAIL_BELOW) * (z - model.fail_at) / (
            model.pass_at - model.fail_at
        )
    top = _top(model)
    if z >= top:
        return 1.0
    return PASS_FROM + (1.0 - PASS_FROM) * (z - model.pass_at) / (top - model.pass_at)


@lru_cache(maxsize=8)
def _top(model: _Model) -> float:
    """The weighted sum of a verbatim answer: every share 1, no count (once per model)."""
    return model.bias + sum(w for w in model.weights if w > 0)


def _clip(contexts: Sequence[str]) -> tuple[str, ...]:
    return _text.clip(contexts, MAX_DOCUMENTS, MAX_CONTEXT_CHARS)


def answer_relevance(question: str, answer: str) -> Score:
    """How much the answer addresses the question.

    Measured as the share of the question's subject terms (framing words such as
    "explain" or "what" excluded) that the answer uses, plus credit for reusing the
    question's term pairs. A refusal scores at most 0.1: it mentions the subject without
    addressing it.

    Args:
        question: The user question.
        answer: The generated answer.

    Returns:
        A ``Score``; ``0.0`` for an empty answer, ``1.0`` when the question has no
        content terms to look for.
    """
    clipped = answer[:MAX_ANSWER_CHARS]
    if not clipped.strip():
        return Score(0.0, "empty answer")
    subject = _question(question)
    if not subject.terms:
        return Score(1.0, "question has no content terms to match")
    analysed = _answer(clipped)
    hits = [t for t in subject.terms if t in analysed.stems]
    value = len(hits) / len(subject.terms)
    if subject.pairs:
        phrase = len(subject.pairs & analysed.pairs) / len(subject.pairs)
        value = 0.8 * value + 0.2 * phrase
    why = f"answer uses {len(hits)} of {len(subject.terms)} question terms"
    if is_non_answer(clipped):
        return Score(min(_clamp(value), 0.1), f"answer is a refusal; {why}")
    return Score(_clamp(value), why)


def is_non_answer(answer: str) -> bool:
    """Whether the answer declines to answer ("I don't know", "not in the context", ...).

    Only the first few hundred characters are inspected: refusals say so up front, and
    this keeps a long answer that merely mentions a limitation from being flagged.

    Args:
        answer: The generated answer.

    Returns:
        ``True`` for refusals and for empty or whitespace-only answers.
    """
    return _declines(answer[:_NON_ANSWER_WINDOW])


@lru_cache(maxsize=256)
def _declines(head: str) -> bool:
    # Cached: the flag and answer relevance both ask about the same answer.
    if not head.strip():
        return True
    norm = _text.normalize(head).replace("\u2019", "'").replace("\u2018", "'")
    if not any(a in norm for a in _REFUSAL_WORDS) and not _NO_WORD.search(norm):
        return False
    text = " ".join(norm.split())  # one space between words, as the patterns expect
    return any(
        any(a in text for a in anchors) and pattern.search(text) is not None
        for anchors, pattern in _REFUSALS
    )


def _share_in_any(items: AbstractSet[T], containers: Sequence[AbstractSet[T]]) -> float:
    """The share of ``items`` found in at least one of ``containers``.

    Intersects rather than building the containers' union: an answer or a query has tens
    of terms, the retrieved documents thousands, and a set intersection walks the
    smaller side.
    """
    found: set[T] = set()
    for container in containers:
        found |= items & container
    return len(found) / len(items)


def _clamp(value: float) -> float:
    if not value > 0.0:
        return 0.0
    # From 1 up, rounding cannot bring it below 1: spare round(), which costs as much as
    # the rest of a cached score.
    return 1.0 if value >= 1.0 else min(1.0, round(value, 4))
