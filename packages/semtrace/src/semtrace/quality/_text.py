"""Tokenisation helpers for the lexical quality scorers.

Everything here is stdlib-only and deliberately crude: the scorers run inline on every
traced request, so they trade linguistic accuracy for speed and predictability.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

# `[^\W_]` splits on underscores too, so `__enter__` and `with_stmt` yield real words.
_WORD = re.compile(r"[^\W_]+")
# The same split for ASCII text, in C without the regex engine: every byte that is not an
# ASCII letter or digit becomes a space (a quarter of the findall's cost).
_ASCII_NON_WORD = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256))
# ASCII stops -> ".", ASCII whitespace (what \s matches) -> " ", the rest -> "x".
_ASCII_STOPS = bytes(
    ord("." if chr(c) in ".!?" else " " if chr(c).isspace() else "x") for c in range(256)
)
# Code-ish spans the user marked explicitly; their words count even if they are stopwords
# (`with`, `if`, `in` are the subject of the question, not filler).
_MARKED = re.compile(
    "[`\"\u201c\u2018'\u00ab]([^`\"\u201d\u2019'\u00bb\n]{1,60})[`\"\u201d\u2019'\u00bb]"
)
# Full-width and CJK stops included so non-Latin answers still split into sentences.
_SENTENCE_END = re.compile(
    "(?<=[.!?\u2026])\\s+|(?<=[\u3002\uff01\uff1f])\\s*|\\n\\s*\\n|\\n(?=\\s*(?:[-*\u2022]|\\d+[.)])\\s)"
)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset(
    """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't could couldn't did didn't do
    does doesn't doing don't down during each either else etc even ever every few for from
    further get gets got had hadn't has hasn't have haven't having he her here hers herself
    him himself his how however i i'd i'll i'm i've if in into is isn't it it's its itself
    just let like may me might more most much must mustn't my myself neither no nor not now
    of off on once one only or other ought our ours ourselves out over own per quite rather
    really same shall she should shouldn't so some such than that that's the their theirs
    them themselves then there there's these they this those though through thus to too
    under until up upon us use used uses using very via was wasn't we well were weren't
    what when where whether which while who whom whose why will with within without won't
    would wouldn't yet yes you your yours yourself yourselves s t d ll m re ve e g eg ie ok okay
    """
)

# Words that frame a question but say nothing about its subject.
QUESTION_WORDS = _wordset(
    """
    explain describe tell know show give list define definition meaning mean means purpose
    work works happen happens please briefly exactly example examples role thing things
    kind way ways difference
    """
)

_INFLECTIONS = (
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("ings", ""),
    ("ing", ""),
    ("edly", ""),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)
_DERIVATIONS = (("ational", "ate"), ("ization", "ize"), ("ation", "ate"), ("ness", ""))


def normalize(text: str) -> str:
    """NFKC + casefold so full-width forms, ligatures and case never split a term."""
    return unicodedata.normalize("NFKC", text).casefold()


def _strip(word: str, table: tuple[tuple[str, str], ...]) -> str:
    for suffix, repl in table:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    return word


def stem(word: str) -> str:
    """Suffix-stripping "stemming-lite": merges plural/verb forms, never reaches a dict."""
    if len(word) <= 3 or not word.isalpha():
        return word  # numbers and ids stay out of the cache: they rarely repeat
    return _stem_word(word)


@lru_cache(maxsize=8192)
def _stem_word(word: str) -> str:
    if word.endswith(("ss", "us", "is")):
        pass
    elif (word.endswith("es") and word[-3] in "sxz") or word.endswith(("ches", "shes")):
        word = word[:-2]
    else:
        bare = _strip(word, _INFLECTIONS)
        # "running" -> "runn" -> "run"; only after a verb suffix, so "book" stays "book".
        verb = word.endswith(("ing", "ed")) and bare != word
        if verb and len(bare) >= 4 and bare[-1] == bare[-2] and bare[-1] not in "lsz":
            bare = bare[:-1]
        word = bare
    word = _strip(word, _DERIVATIONS)
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (already normalised by the caller)."""
    if text.isascii():
        return text.encode().translate(_ASCII_NON_WORD).decode().split()
    return _WORD.findall(text)


def content_stems(text: str, extra_stop: frozenset[str] = frozenset()) -> list[str]:
    """Stems of the content words, in order (order matters for bigrams)."""
    return [
        _stem_word(w) if len(w) > 3 and w.isalpha() else w  # stem(), without its frame
        for w in words(text)
        if w not in STOPWORDS and w not in extra_stop and (len(w) > 1 or w.isdigit())
    ]


def marked_stems(text: str) -> set[str]:
    """Stems of words inside backticks or quotes, kept even when they are stopwords."""
    out: set[str] = set()
    for span in _MARKED.findall(text):
        out.update(stem(w) for w in words(span) if len(w) > 1 or w.isdigit())
    return out


def all_stems(text: str) -> set[str]:
    """Every stem in ``text``, stopwords included (the lookup side of a match)."""
    return {stem(w) for w in words(text)}


class DocumentTerms(NamedTuple):
    """What the scorers need of one document, computed once per distinct text."""

    length: int  # number of word tokens
    # Every stem (stopwords included) -> its saturated frequency c / (c + k), the share
    # retrieval relevance credits it with; k grows with length, so a long document needs
    # more mentions to be "about" a term.
    weights: dict[str, float]
    pairs: frozenset[tuple[str, str]]  # adjacent content-stem pairs
    stems: tuple[str, ...]  # every word's stem, in order (groundedness's phrases)


@lru_cache(maxsize=256)
def document_terms(text: str) -> DocumentTerms:
    """The stems and content bigrams of one (raw) document, cached.

    The same retrieved chunks are scored twice per trace (retrieval relevance, then
    groundedness) and recur across traces; analysing each once is most of the saving.
    """
    found = _WORD.findall(normalize(text))
    every = list(map(stem, found))
    content = [
        s
        for w, s in zip(found, every, strict=True)
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]
    k = 0.5 + len(every) / 400
    weights = {term: count / (count + k) for term, count in Counter(every).items()}
    return DocumentTerms(len(every), weights, frozenset(bigrams(content)), tuple(every))


def bigrams(stems: list[str]) -> set[tuple[str, str]]:
    """Adjacent content-stem pairs; a cheap proxy for "same phrase, same claim"."""
    return set(itertools.pairwise(stems))


def sentences(text: str, limit: int) -> list[str]:
    """Split into at most ``limit`` non-empty sentences (paragraph and bullet aware)."""
    if (
        text.isascii()
        and "\n" not in text
        and ". " not in text.encode().translate(_ASCII_STOPS).decode()
    ):
        # Nothing _SENTENCE_END can match (no line break, no stop before a space): the
        # usual one-sentence answer skips the regex, which tests every position.
        part = text.strip()
        return [part] if part else []
    out = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if part:
            out.append(part)
            if len(out) >= limit:
                break
    return out


@lru_cache(maxsize=64)
def answer_sentences(answer: str, limit: int) -> tuple[str, ...]:
    """The normalised sentences of an answer (curly apostrophes straightened), cached.

    Groundedness and the claim checks split the same answer one after the other.
    """
    return tuple(sentences(normalize(answer).replace("\u2019", "'"), limit))


def clip(documents: Sequence[str], max_documents: int, max_chars: int) -> tuple[str, ...]:
    """The non-empty documents within the caps, in order.

    At most ``max_documents``, and at most ``max_chars`` characters together (the last
    one cut). A bare string is one document (a common caller slip), not its characters.
    """
    if isinstance(documents, str):
        documents = [documents]
    out: list[str] = []
    budget = max_chars
    for doc in itertools.islice(documents, max_documents):
        if budget <= 0:
            break
        if isinstance(doc, str) and doc.strip():
            out.append(doc[:budget])
            budget -= len(out[-1])
    return tuple(out)
