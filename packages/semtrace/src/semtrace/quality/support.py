"""How much of an answer its source supports, as lexical measures: the groundedness features.

Each measure compares the answer's words with the source's. They were chosen on
human-labelled data (dialogue turns, news summaries, QA answers; ``benchmarks/quality``),
where three kinds of evidence held up:

- **copied phrases**: the share of the answer's word pairs and word triples that occur
  as such in the source. A faithful answer reuses the source's phrasing; an unsupported
  one reuses its words in new combinations.
- **words**: the share of the answer's words found in the source, and of the content
  words of its least supported sentence (one sentence the source never makes).
- **new things**: content words, and capitalised names, found in neither the source nor
  the question.

Words are compared as stems ("yields" and "yield" are one word). Pure and bounded like
:mod:`semtrace.quality.scoring`, which caps the inputs; a source's analysis is cached per
set of document texts, so a trace's retrieval and its answers analyse it once.

Example:
    >>> found = measure("The cat sat on the mat.", sources(("The cat sat on the mat.",)))
    >>> found.pairs, found.new_words
    (1.0, 0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Final, NamedTuple

from semtrace.quality import _text

MAX_SENTENCES: Final = 64
_CAPITALISED: Final = re.compile(r"\b[A-Z][a-z]{2,}\b")
# A capitalised word right after one of these starts a sentence or a quote: no name.
_OPENERS: Final = "\"'\u201c(\n"
_STOPS: Final = ".!?:"


class Sources(NamedTuple):
    """What the measures need of the source texts, computed once per set of texts."""

    stems: frozenset[str]  # every word's stem, stopwords included
    pairs: frozenset[int]  # hashes of adjacent stem pairs
    triples: frozenset[int]  # hashes of adjacent stem triples
    text: str  # normalised, for name look-ups


class Support(NamedTuple):
    """The measures of one answer against its sources.

    Attributes:
        words: Share of the answer's words found in the sources, in [0, 1].
        pairs: Share of its adjacent word pairs found as such (``words`` when it has
            fewer than two words).
        triples: Share of its word triples found as such (``pairs`` below three words).
        weakest: Share of the content stems of its least supported sentence found.
        new_words: Distinct content stems found in neither the sources nor the question.
        new_names: Distinct capitalised names found in neither.
        content: Whether the answer has any content word at all (``yes`` has none).
    """

    words: float
    pairs: float
    triples: float
    weakest: float
    new_words: int
    new_names: int
    content: bool


@lru_cache(maxsize=32)
def sources(texts: tuple[str, ...]) -> Sources:
    """The analysis of a set of (clipped) source texts, cached by the texts."""
    stems: set[str] = set()
    pairs: set[int] = set()
    triples: set[int] = set()
    for text in texts:
        found = _document_stems(text)
        stems.update(found)
        pairs.update(map(hash, pairwise(found)))
        triples.update(map(hash, zip(found, found[1:], found[2:], strict=False)))
    return Sources(
        frozenset(stems),
        frozenset(pairs),
        frozenset(triples),
        "\n".join(_text.normalize(t) for t in texts),
    )


def _document_stems(text: str) -> tuple[str, ...]:
    # The analysis retrieval relevance made of the same document (cached there, per
    # document: the sets a trace retrieves overlap from one call to the next).
    return _text.document_terms(text).stems


class Answer(NamedTuple):
    """An answer's words as the measures (and answer relevance) read them."""

    tokens: tuple[str, ...]  # every word's stem, in order
    sentences: tuple[tuple[str, ...], ...]  # each sentence's content stems, if it has any


@lru_cache(maxsize=64)
def analyse(answer: str) -> Answer:
    """The stems of ``answer`` (already clipped), cached.

    Groundedness and answer relevance read the same answer one after the other.
    """
    tokens: list[str] = []
    sentences = []
    for sentence in _text.answer_sentences(answer, MAX_SENTENCES):
        words = _text.words(sentence)
        stems = _stems(words)
        tokens += stems
        terms = tuple(
            s
            for w, s in zip(words, stems, strict=True)
            if w not in _text.STOPWORDS and (len(w) > 1 or w.isdigit())
        )
        if terms:
            sentences.append(terms)
    return Answer(tuple(tokens), tuple(sentences))


def measure(answer: str, source: Sources, question: str = "") -> Support:
    """The support measures of ``answer`` against ``source``."""
    analysed = analyse(answer)
    tokens = analysed.tokens
    asked = _question_stems(question)
    held = source.stems.__contains__
    weakest = 1.0
    new_words: set[str] = set()
    for terms in analysed.sentences:
        weakest = min(weakest, sum(map(held, terms)) / len(terms))
        new_words.update(t for t in terms if not held(t) and t not in asked)
    words_share = _share(tokens, source.stems, 0.0)
    pairs = _share(list(map(hash, pairwise(tokens))), source.pairs, words_share)
    triples = _share(
        list(map(hash, zip(tokens, tokens[1:], tokens[2:], strict=False))),
        source.triples,
        pairs,
    )
    names = _new_names(answer, source.text, question)
    content = bool(analysed.sentences)
    return Support(words_share, pairs, triples, weakest, len(new_words), names, content)


def _stems(words: list[str]) -> list[str]:
    # _text.stem() without its call frame: the same rule, one list comprehension.
    stem = _text._stem_word
    return [stem(w) if len(w) > 3 and w.isalpha() else w for w in words]


@lru_cache(maxsize=256)
def _question_stems(question: str) -> frozenset[str]:
    # Cached: a trace's question is the same for each of its answers.
    return frozenset(_text.all_stems(_text.normalize(question))) if question else frozenset()


@lru_cache(maxsize=256)
def _normalized(question: str) -> str:
    return _text.normalize(question)


def _new_names(answer: str, source: str, question: str) -> int:
    """Capitalised words, not starting a sentence or a quote, in neither text."""
    if answer.islower() or answer.isupper():
        return 0  # no case, no names to tell apart (BEGIN's lower-cased turns)
    names = set()
    for match in _CAPITALISED.finditer(answer):
        start = match.start()
        if start == 0 or answer[start - 1] in _OPENERS:
            continue
        if start >= 2 and answer[start - 2] in _STOPS and answer[start - 1].isspace():
            continue
        names.add(match.group(0).casefold())
    if not names:
        return 0
    asked = _normalized(question)
    return sum(1 for n in names if n not in asked and n not in source)


def _share(
    items: Sequence[str] | Sequence[int], found: frozenset[str] | frozenset[int], empty: float
) -> float:
    """The share of ``items`` in ``found`` (a C-level count); ``empty`` when there are none."""
    if not items:
        return empty
    return sum(map(found.__contains__, items)) / len(items)
