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
document text, so a trace's retrieval and its answers analyse it once.

Example:
    >>> found = measure("The cat sat on the mat.", ("The cat sat on the mat.",))
    >>> found.pairs, found.new_words
    (1.0, 0)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Final, NamedTuple

from semtrace.quality import _text

MAX_SENTENCES: Final = 64
# A capital not preceded by a word character: the same matches as ``\b[A-Z][a-z]{2,}\b``,
# but the engine looks for the capital first instead of trying every position.
_CAPITALISED: Final = re.compile(r"[A-Z](?<!\w[A-Z])[a-z]{2,}\b")
# A capitalised word right after one of these starts a sentence or a quote: no name.
_OPENERS: Final = "\"'\u201c(\n"
_STOPS: Final = ".!?:"


class Source(NamedTuple):
    """What the measures need of one source document, computed once per distinct text."""

    # Every word's stem (stopwords included) and the hashes of its adjacent stem pairs and
    # triples, in one set: an answer is checked against it with one intersection.
    held: frozenset[str | int]
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


@lru_cache(maxsize=128)
def source(text: str) -> Source:
    """The analysis of one (clipped) source document, cached by its text.

    Per document, not per set: the sets a trace retrieves overlap from one call to the
    next, and an answer is checked against each document's sets (no union is built).
    """
    terms = _text.document_terms(text)  # retrieval relevance's analysis, cached there
    stems = terms.stems
    held: set[str | int] = set(terms.weights)
    held.update(map(hash, pairwise(stems)))
    held.update(map(hash, zip(stems, stems[1:], stems[2:], strict=False)))
    return Source(frozenset(held), _text.normalize(text))


class Answer(NamedTuple):
    """An answer's words as the measures (and answer relevance) read them."""

    tokens: tuple[str, ...]  # every word's stem, in order
    sentences: tuple[tuple[str, ...], ...]  # each sentence's content stems, if it has any
    pairs: tuple[int, ...]  # hashes of adjacent stem pairs
    triples: tuple[int, ...]  # hashes of adjacent stem triples
    items: frozenset[str | int]  # all of the above, distinct


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
    pairs = tuple(map(hash, pairwise(tokens)))
    triples = tuple(map(hash, zip(tokens, tokens[1:], tokens[2:], strict=False)))
    items: set[str | int] = set(tokens)
    items.update(pairs, triples)
    return Answer(tuple(tokens), tuple(sentences), pairs, triples, frozenset(items))


def measure(
    answer: str,
    texts: tuple[str, ...],
    question: str = "",
    question_stems: frozenset[str] = frozenset(),
) -> Support:
    """The support measures of ``answer`` against the source ``texts`` (already clipped).

    Args:
        answer: The answer.
        texts: The source texts.
        question: The question, normalised: names it holds are not new.
        question_stems: The question's content stems: words it holds are not new.
    """
    against = _against(answer, texts)
    # What the question says is no invention of the answer's.
    names = sum(1 for n in against.unsourced_names if n not in question)
    return Support(
        against.words,
        against.pairs,
        against.triples,
        against.weakest,
        len(against.unsourced_words - question_stems),
        names,
        against.content,
    )


class _Against(NamedTuple):
    """The measures of one answer against one set of texts, before the question."""

    words: float
    pairs: float
    triples: float
    weakest: float
    unsourced_words: frozenset[str]  # content stems no source holds
    unsourced_names: tuple[str, ...]  # names no source holds
    content: bool


@lru_cache(maxsize=64)
def _against(answer: str, texts: tuple[str, ...]) -> _Against:
    # Cached by answer and texts: a trace's answers are scored against the same texts
    # for each signal that reads them, with the question applied afterwards.
    analysed = analyse(answer)
    sources = [source(text) for text in texts]
    # The answer's words, pairs and triples no source holds. ``a - b`` walks ``a`` (``-=``
    # would walk the source's many items): what is still missing, which shrinks with
    # each source (a supported answer's items are mostly gone after the first).
    missing = analysed.items
    for each in sources:
        if not missing:
            break
        missing = missing - each.held
    names = tuple(n for n in _names(answer) if not any(n in s.text for s in sources))
    content = bool(analysed.sentences)
    if not missing:
        # Everything is held: every share is 1 (0 words gives 0.0 as _share would), and
        # no content word is unsourced.
        words = 1.0 if analysed.tokens else 0.0
        pairs = 1.0 if analysed.pairs else words
        triples = 1.0 if analysed.triples else pairs
        return _Against(words, pairs, triples, 1.0, _NOTHING, names, content)
    unheld = missing.__contains__
    weakest = 1.0
    unsourced: set[str] = set()
    for terms in analysed.sentences:
        lacking = [t for t in terms if unheld(t)]
        weakest = min(weakest, (len(terms) - len(lacking)) / len(terms))
        unsourced.update(lacking)
    words = _share(analysed.tokens, unheld, 0.0)
    pairs = _share(analysed.pairs, unheld, words)
    triples = _share(analysed.triples, unheld, pairs)
    return _Against(words, pairs, triples, weakest, frozenset(unsourced), names, content)


_NOTHING: Final[frozenset[str]] = frozenset()


def _stems(words: list[str]) -> list[str]:
    # _text.stem() without its call frame: the same rule, one list comprehension.
    stem = _text._stem_word
    return [stem(w) if len(w) > 3 and w.isalpha() else w for w in words]


@lru_cache(maxsize=64)
def _names(answer: str) -> frozenset[str]:
    """Capitalised words, not starting a sentence or a quote, case-folded.

    Cached like :func:`analyse`: an answer is checked against each set of sources.
    """
    if answer.islower() or answer.isupper():
        return _NOTHING  # no case, no names to tell apart (BEGIN's lower-cased turns)
    names = set()
    for match in _CAPITALISED.finditer(answer):
        start = match.start()
        if start == 0 or answer[start - 1] in _OPENERS:
            continue
        if start >= 2 and answer[start - 2] in _STOPS and answer[start - 1].isspace():
            continue
        names.add(match.group(0).casefold())
    return frozenset(names)


def _share(items: Sequence[object], unheld: Callable[[object], bool], empty: float) -> float:
    """The share of ``items`` that are not ``unheld``; ``empty`` when there are none.

    Counted as the total less the unheld ones (exact integers, so the same share as
    counting the held ones): the unheld are the few.
    """
    return (len(items) - sum(map(unheld, items))) / len(items) if items else empty
