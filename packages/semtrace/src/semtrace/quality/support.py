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

Pure and bounded like :mod:`semtrace.quality.scoring`, which caps the inputs; a
source's analysis is cached per document text.

Example:
    >>> found = measure("The cat sat on the mat.", [source_terms("The cat sat on the mat.")])
    >>> found.pairs, found.new_words
    (1.0, 0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any, Final, NamedTuple

from semtrace.quality import _text

MAX_SENTENCES: Final = 64
# A capitalised word not at the start of a sentence: a name ("Delhi", "Obama").
_NAME: Final = re.compile(r"(?<![.!?:]\s)(?<!^)(?<![\"'\u201c(\n])\b[A-Z][a-z]{2,}\b")


class SourceTerms(NamedTuple):
    """What the measures need of one source document, computed once per distinct text."""

    words: frozenset[str]  # every word, lower-cased
    stems: frozenset[str]  # every stem, stopwords included
    pairs: frozenset[int]  # hashes of adjacent word pairs
    triples: frozenset[int]  # hashes of adjacent word triples
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
def source_terms(text: str) -> SourceTerms:
    """The analysis of one (clipped) source document, cached by its text."""
    norm = _text.normalize(text)
    found = list(map(_text.stem, _text.words(norm)))
    return SourceTerms(
        frozenset(found),
        frozenset(found),
        frozenset(map(hash, pairwise(found))),
        frozenset(map(hash, zip(found, found[1:], found[2:], strict=False))),
        norm,
    )


def measure(answer: str, sources: Sequence[SourceTerms], question: str = "") -> Support:
    """The support measures of ``answer`` against ``sources`` (already analysed)."""
    norm = _text.normalize(answer)
    found = list(map(_text.stem, _text.words(norm)))
    words = _share(found, [s.words for s in sources])
    pairs = _share(list(map(hash, pairwise(found))), [s.pairs for s in sources], words)
    triples = _share(
        list(map(hash, zip(found, found[1:], found[2:], strict=False))),
        [s.triples for s in sources],
        pairs,
    )
    stems: set[str] = set()
    for source in sources:
        stems |= source.stems
    asked = _text.all_stems(_text.normalize(question)) if question else set()
    weakest, content = 1.0, False
    new_words: set[str] = set()
    for sentence in _text.sentences(norm, MAX_SENTENCES):
        terms = _text.content_stems(sentence)
        if not terms:
            continue
        content = True
        held = sum(t in stems for t in terms)
        weakest = min(weakest, held / len(terms))
        new_words.update(t for t in terms if t not in stems and t not in asked)
    names = _new_names(answer, sources, question)
    return Support(words, pairs, triples, weakest, len(new_words), names, content)


def _new_names(answer: str, sources: Sequence[SourceTerms], question: str) -> int:
    names = {m.group(0).casefold() for m in _NAME.finditer(answer)}
    if not names:
        return 0
    asked = _text.normalize(question)
    return sum(1 for n in names if n not in asked and not any(n in s.text for s in sources))


def _share(items: Sequence[object], sets: Sequence[frozenset[Any]], empty: float = 0.0) -> float:
    """The share of ``items`` found in any of ``sets``; ``empty`` when there are none."""
    if not items:
        return empty
    held = 0
    for item in items:
        for found in sets:
            if item in found:
                held += 1
                break
    return held / len(items)
