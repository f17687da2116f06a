"""Claims an answer makes that its context does not: the on-topic fabrication checks.

Word overlap cannot tell a faithful answer from one that reuses the context's words to
say something else. Two things in such answers can be checked cheaply and exactly:

- **specifics**: identifiers (``os.path.join``, ``max_workers``, ``ValueError``,
  anything in backticks) and numbers (``3.11``, ``64``) are either in the context (or
  the question) or invented; a paraphrase rewords prose, it does not invent names;
- **polarity**: an answer sentence that matches a context sentence closely but drops
  or adds a negation, or swaps a word for its opposite (true/false, before/after,
  first/last...), contradicts it.

Pure, stdlib-only and bounded like :mod:`semtrace.quality.scoring`: the context's
sentences are analysed once per distinct text (cached) and indexed by stem, so each
answer sentence is compared only with the context sentences it shares words with.

Example:
    >>> check("Call `join_all()` to merge.", ["Call join() to merge paths."]).novel
    1
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Final, NamedTuple

from semtrace.quality import _text

MAX_CHARS: Final = 8_000
MAX_SENTENCES: Final = 64
MAX_CONTEXT_CHARS: Final = 20_000
MAX_DOCUMENTS: Final = 64
MAX_QUESTION_CHARS: Final = 2_000
# An answer sentence "says the same thing" as a context sentence when this share of its
# content stems is in it: then a polarity difference is a contradiction, not a new claim.
ALIGNED: Final = 0.6
_MIN_ALIGNED_STEMS: Final = 3

_SPECIFIC: Final = re.compile(
    r"``([^`\n]{1,80})``|`([^`\n]{1,80})`"  # anything the answer marked as code
    r"|\b\d+(?:\.\d+)*\b"  # numbers and versions
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b"  # dotted names
    r"|\b[A-Za-z0-9]*_\w*\b"  # snake_case names, dunders
    r"|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z0-9]+[A-Z]\w*\b"  # camelCase, PascalCase
)
# What every match of _SPECIFIC contains somewhere (a backtick, a digit, an underscore, a
# dot between name characters, a capital after a lower-case letter or digit): one cheap
# scan rules the costly pattern out for plain prose, which is most answers.
_MAYBE_SPECIFIC: Final = re.compile(r"[`\d_]|\w\.[A-Za-z_]|[a-z0-9][A-Z]")
# The same test for ASCII text without the regex engine (which tries every position):
# letters and digits become their class, then substring searches find the same shapes.
_ASCII_CLASSES: Final = bytes(
    ord("a") if "a" <= chr(c) <= "z" else ord("A") if "A" <= chr(c) <= "Z"
    else ord("0") if chr(c).isdigit() else c if chr(c) in "`_." else 32
    for c in range(256)
)  # fmt: skip
_ASCII_SPECIFIC: Final = ("`", "0", "_", "aA", "a.a", "a.A", "A.a", "A.A")
_NEGATION_WORDS: Final = ("not", "never", "cannot", "neither", "nor", "without", "n't", "non-")
_NUMBER: Final = re.compile(r"\b\d+(?:\.\d+)*\b")
_NEGATORS: Final = frozenset({"not", "never", "cannot", "neither", "nor", "without", "non"})
_OPPOSITES: Final = (
    ("true", "false"), ("before", "after"), ("first", "last"), ("minimum", "maximum"),
    ("min", "max"), ("ascending", "descending"), ("increase", "decrease"),
    ("include", "exclude"), ("always", "never"), ("smaller", "larger"), ("less", "more"),
    ("fewer", "more"), ("start", "end"), ("beginning", "end"), ("left", "right"),
    ("upper", "lower"), ("uppercase", "lowercase"), ("positive", "negative"),
    ("absolute", "relative"), ("success", "failure"), ("same", "different"),
    ("all", "none"), ("new", "existing"), ("shorter", "longer"), ("enable", "disable"),
    ("enabled", "disabled"), ("synchronous", "asynchronous"), ("blocking", "non-blocking"),
    ("mutable", "immutable"), ("inclusive", "exclusive"), ("empty", "non-empty"),
)  # fmt: skip
OPPOSITE: Final = {a: b for a, b in _OPPOSITES} | {b: a for a, b in _OPPOSITES}
_NO_OPPOSITES: Final[Counter[str]] = Counter()  # shared, never changed
_NO_WORDS: Final[frozenset[str]] = frozenset()
_NOT_CONTENT: Final = frozenset(_text.STOPWORDS | OPPOSITE.keys())
# A number the source spells out is not invented: "won 5 golds" against "five golds".
_SMALL_NUMBERS: Final = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty",
)  # fmt: skip
_TENS: Final = ("thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_NUMBER_WORDS: Final = (
    dict(enumerate(_SMALL_NUMBERS))
    | {30 + 10 * i: word for i, word in enumerate(_TENS)}
    | {100: "hundred", 1000: "thousand"}
)
_SPELLED: Final = {str(n): re.compile(rf"\b{word}\b") for n, word in _NUMBER_WORDS.items()}


class Findings(NamedTuple):
    """What :func:`check` found.

    Attributes:
        novel: Identifiers and numbers of the answer found nowhere in the context.
        contradicted: Answer sentences that match a context sentence with the opposite
            polarity.
    """

    novel: int
    contradicted: int


class _Sentence(NamedTuple):
    opposites: Counter[str]  # how often each word with an opposite occurs
    words: frozenset[str]
    negated: frozenset[str]  # the content word each negation applies to


class _Context(NamedTuple):
    sentences: tuple[str, ...]  # normalised
    words: tuple[frozenset[str], ...]  # each sentence's content words
    numbers: frozenset[str]
    negated: frozenset[str]  # the words any of its sentences negates


def check(answer: str, contexts: Sequence[str], question: str = "") -> Findings:
    """Count invented specifics and contradicted sentences of ``answer``.

    Args:
        answer: The generated answer.
        contexts: The passages the answer should be grounded in.
        question: The question: names it mentions are not invented by the answer.

    Returns:
        The counts; ``Findings(0, 0)`` when there is nothing to check.
    """
    text = answer[:MAX_CHARS]
    clipped = _clip(contexts)
    if not text.strip() or not clipped:
        return Findings(0, 0)
    unsourced, contradicted = _against(text, clipped)
    if not unsourced:
        return Findings(0, contradicted) if contradicted else _NOTHING_FOUND
    asked = question[:MAX_QUESTION_CHARS]
    # What the question names is no invention of the answer's either.
    novel = sum(1 for missing in unsourced if not all(_given(m, asked) for m in missing))
    return Findings(novel, contradicted)


_NOTHING_FOUND: Final = Findings(0, 0)  # the usual result, built once


@lru_cache(maxsize=64)
def _against(answer: str, clipped: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], ...], int]:
    """What ``answer`` claims that the contexts do not hold, before the question.

    The specifics the contexts lack (each as the strings of it they lack) and the
    contradicted sentences. Cached by answer and contexts: a trace scores the same
    answer against the same contexts, and only the question differs.
    """
    docs = [_context(c) for c in clipped]
    unsourced: tuple[tuple[str, ...], ...] = ()
    if _maybe_specific(answer):
        unsourced = _unsourced(answer, "\n".join(clipped), docs)
    return unsourced, _contradicted(answer, docs)


def _given(text: str, given: str) -> bool:
    """Whether ``given`` holds ``text``, or, for a number (``#5``), spells it out."""
    if text.startswith("#"):
        number = text[1:]
        return number in given or _spelled(number, given)
    return text in given


@lru_cache(maxsize=64)
def _maybe_specific(text: str) -> bool:
    """Whether ``text`` may hold a match of ``_SPECIFIC`` (False: it holds none).

    Cached: an answer is checked against each set of contexts the trace retrieves.
    """
    if text.isascii():
        # A byte table lookup per character (a str table is a dict lookup per character);
        # searched as str, which CPython searches faster than bytes.
        classes = text.encode().translate(_ASCII_CLASSES).decode()
        return any(map(classes.__contains__, _ASCII_SPECIFIC))
    return _MAYBE_SPECIFIC.search(text) is not None


def _clip(contexts: Sequence[str]) -> tuple[str, ...]:
    return _text.clip(contexts, MAX_DOCUMENTS, MAX_CONTEXT_CHARS)


def _unsourced(answer: str, given: str, docs: list[_Context]) -> tuple[tuple[str, ...], ...]:
    """Each specific of ``answer`` that ``given`` lacks, as the strings it lacks.

    A number is written ``#`` and its digits: the question may spell it out.
    """
    numbers: set[str] = set()
    for doc in docs:
        numbers |= doc.numbers
    seen: set[str] = set()
    out: list[tuple[str, ...]] = []
    for match in _SPECIFIC.finditer(answer):
        token = (match.group(1) or match.group(2) or match.group(0)).strip().rstrip("().,:;")
        if not token or token in seen:
            continue
        seen.add(token)
        if _NUMBER.fullmatch(token):
            if token not in numbers and not _given("#" + token, given):
                out.append(("#" + token,))
        elif token not in given:
            # Code spans holding prose ("`True` or `False`") are judged word by word.
            parts = token.replace("(", " ").replace(")", " ").split()
            missing = tuple(p for p in parts if p not in given)
            if missing:
                out.append(missing)
    return tuple(out)


def _spelled(number: str, given: str) -> bool:
    """Whether ``given`` spells ``number`` out in words ("5" as "five")."""
    pattern = _SPELLED.get(number)
    return pattern is not None and pattern.search(given.casefold()) is not None


def _contradicted(answer: str, docs: list[_Context]) -> int:
    found = 0
    negated: frozenset[str] = frozenset().union(*(doc.negated for doc in docs))
    for raw in _text.answer_sentences(answer, MAX_SENTENCES):
        mine = _sentence(raw)
        if not mine.negated and not mine.opposites and mine.words.isdisjoint(negated):
            # No negation and no word with an opposite here, and no word the context
            # negates: whatever sentence it aligns with, polarity cannot differ.
            continue
        aligned = _aligned(_content_words(raw), docs)
        if aligned is None:
            continue
        sentence, best = _sentence(raw), _sentence(aligned)
        # A word negated on one side and said plainly on the other: not merely a negation
        # somewhere in a long context sentence that shares the answer's words.
        flipped = bool((sentence.negated - best.negated) & best.words) or bool(
            (best.negated - sentence.negated) & sentence.words
        )
        swapped = any(
            n > best.opposites.get(w, 0)
            and best.opposites.get(OPPOSITE[w], 0) > sentence.opposites.get(OPPOSITE[w], 0)
            for w, n in sentence.opposites.items()
        )
        found += flipped or swapped
    return found


def _aligned(words: frozenset[str], docs: list[_Context]) -> str | None:
    """The context sentence sharing most of ``words``, if it shares enough.

    Compared on unstemmed content words (set operations, no Python loop per word): every
    context sentence takes part, but only the aligned pair is analysed.
    """
    if len(words) < _MIN_ALIGNED_STEMS:
        return None
    best_shared, best = 0, ""
    for doc in docs:
        for sentence, held in zip(doc.sentences, doc.words, strict=True):
            shared = len(words & held)
            if shared > best_shared:  # strictly: the first sentence with the most wins
                best_shared, best = shared, sentence
    if not best_shared or best_shared < ALIGNED * len(words):
        return None
    return best


def _content_words(norm: str) -> frozenset[str]:
    return frozenset(_text.words(norm)) - _NOT_CONTENT


@lru_cache(maxsize=1024)
def _sentence(norm: str) -> _Sentence:
    words = _text.words(norm)
    held = frozenset(words)
    # Most sentences hold no word with an opposite: a C-level test spares the Counter.
    opposites = _NO_OPPOSITES
    if not OPPOSITE.keys().isdisjoint(held):
        opposites = Counter([w for w in words if w in OPPOSITE])
    # Most sentences hold no negation ("n't" splits into "...n", "t"): skip the scan.
    negated = _NO_WORDS
    if not _NEGATORS.isdisjoint(held) or "t" in held:
        negated = _negated(words)
    return _Sentence(opposites, held, negated)


def _negated(words: list[str]) -> frozenset[str]:
    """The first content word within three words after each negation ("is not used")."""
    found: set[str] = set()
    for i, word in enumerate(words):
        # "doesn't" is split as "doesn", "t"; "non-empty" as "non", "empty".
        if word in _NEGATORS or (word == "t" and i > 0 and words[i - 1].endswith("n")):
            for after in words[i + 1 : i + 4]:
                if after not in _text.STOPWORDS and after not in _NEGATORS:
                    found.add(after)
                    break
    return frozenset(found)


@lru_cache(maxsize=256)
def _context(text: str) -> _Context:
    norm = _text.normalize(text).replace("\u2019", "'")
    sentences = tuple(_text.sentences(" ".join(norm.split()), 512))
    return _Context(
        sentences,
        tuple(_content_words(s) for s in sentences),
        frozenset(_NUMBER.findall(text)),
        frozenset().union(
            *(
                _negated(_text.words(s))
                for s in sentences
                if any(w in s for w in _NEGATION_WORDS)  # most sentences hold none
            )
        ),
    )
