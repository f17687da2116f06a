"""Degenerate output: an answer stuck in a loop, or in another language than the question.

Both checks are pure and bounded: they read at most ``MAX_CHARS`` of each text and use
C-speed string and regex operations first, so the common case (an English question, an
English answer with no loop) costs a few microseconds.

Example:
    >>> repetition("the cat sat on the mat " * 20) is not None
    True
    >>> language_mismatch("What does the with statement do?", "Il enveloppe le bloc.") is None
    True
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Final

from semtrace.quality.types import Evaluation

REPETITION: Final = "repetition"
LANGUAGE_MISMATCH: Final = "language_mismatch"

MAX_CHARS: Final = 8_000
# A loop needs room to show: shorter answers are never judged.
_MIN_WORDS: Final = 24
_MIN_CHARS: Final = 60
_WORD_N: Final = 4
_CHAR_N: Final = 8
# A loop that started late still fills the answer's last words with copies of itself.
_END_WORDS: Final = 48
_MAX_PERIOD: Final = 20
_MAX_CUT: Final = 3
_MIN_LOOP_WORDS: Final = 12
# Natural prose repeats almost none of its word 4-grams (distinct share > 0.9); templated
# lists and tables stay above 0.6; a loop of three or more copies falls below 0.4.
_MAX_DISTINCT_SHARE: Final = 0.4
_MIN_COPIES: Final = 3
_CODE_FENCE: Final = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)


def repetition(answer: str) -> Evaluation | None:
    """A raised ``repetition`` flag when the answer repeats itself in a loop.

    Measured on word 4-grams (character 8-grams for scripts written without spaces):
    the share of distinct ones is low and the most frequent one occurs at least three
    times. Code blocks are left out: code legitimately repeats itself.

    Args:
        answer: The model's text.

    Returns:
        The raised flag, or None when the answer is not a loop.
    """
    text = answer[:MAX_CHARS]
    if len(text) < _MIN_CHARS:
        return None
    if "`" in text:
        text = _CODE_FENCE.sub(" ", text)
    words = text.split()
    if len(words) >= _MIN_WORDS:
        period = _ends_in_loop(words)
        if period:
            return Evaluation(
                REPETITION,
                1.0,
                "fail",
                f"the answer ends repeating the same {period} word(s) over and over",
            )
        tail, end = words[len(words) // 2 :], words[-_END_WORDS:]
        if all(len(set(w)) * 2 > len(w) for w in (words, tail, end)):
            return None  # varied vocabulary, to the end: three copies of anything halve it
        sequences: list[list[object]] = [_word_grams(w) for w in (words, tail, end)]
        unit = "word"
    elif len(words) * 12 < len(text):
        # Few spaces for its length: Chinese, Japanese, Thai... compare characters.
        compact = "".join(words)
        chars: list[object] = [compact[i : i + _CHAR_N] for i in range(len(compact) - _CHAR_N + 1)]
        sequences, unit = [chars, chars[len(chars) // 2 :]], "character"
    else:
        return None
    for grams in sequences:
        # The whole answer, its second half, its last words: a loop often starts late.
        if len(grams) < _MIN_WORDS // 2:
            continue
        counts = Counter(grams)
        share = len(counts) / len(grams)
        top = counts.most_common(1)[0][1]
        if share < _MAX_DISTINCT_SHARE and top >= _MIN_COPIES:
            return Evaluation(
                REPETITION,
                1.0,
                "fail",
                f"the answer repeats itself: {share:.0%} of its {unit} n-grams are distinct, "
                f"the most frequent occurs {top} times",
            )
    return None


def _ends_in_loop(words: list[str]) -> int:
    """The period (in words) of copies repeated back to back at the end, else 0.

    A model stuck in a loop repeats until its token limit, so the answer ends inside the
    loop, perhaps mid-copy: the last few words are tried as a cut-off copy. Needs at
    least ``_MIN_COPIES`` copies and ``_MIN_LOOP_WORDS`` words in all.
    """
    window = words[-_END_WORDS:]
    for cut in range(_MAX_CUT + 1):
        body = words[: len(words) - cut] if cut else words
        if not body or window.count(body[-1]) < _MIN_COPIES:
            continue  # the copies would all end with this word: cheap to rule out
        for period in range(1, _MAX_PERIOD + 1):
            if len(body) < _MIN_COPIES * period:
                break
            unit = body[-period:]
            copies = 1
            while (
                copies * period + period <= len(body)
                and body[len(body) - (copies + 1) * period : len(body) - copies * period] == unit
            ):
                copies += 1
            if copies >= _MIN_COPIES and copies * period >= _MIN_LOOP_WORDS:
                return period
    return 0


def _word_grams(words: list[str]) -> list[object]:
    return list(zip(*(words[i:] for i in range(_WORD_N)), strict=False))


# --- language and script ---

# Unicode blocks of the scripts told apart; Latin is everything else alphabetic.
_SCRIPTS: Final = (
    ("Cyrillic", re.compile("[\u0400-\u052f]")),
    ("Greek", re.compile("[\u0370-\u03ff]")),
    ("Arabic", re.compile("[\u0600-\u06ff\u0750-\u077f]")),
    ("Hebrew", re.compile("[\u0590-\u05ff]")),
    ("Devanagari", re.compile("[\u0900-\u097f]")),
    ("Thai", re.compile("[\u0e00-\u0e7f]")),
    ("Hangul", re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
    ("Kana", re.compile("[\u3040-\u30ff]")),
    ("Han", re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")),
)
_LATIN: Final = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Apostrophes split words: French elisions (l', d', qu') become function words of their own.
_WORDS: Final = re.compile(r"[^\W\d_]+")

# Function words frequent in each language and rare in the others.
_STOPWORDS: Final = {
    lang: frozenset(words.split())
    for lang, words in (
        (
            "en",
            "the and is are was were of to in that this it with for not be have has "
            "which what how does do you can will would should from by an or when they "
            "there their these its into also only but if a as i my on at he she we his her",
        ),
        (
            "fr",
            "le la les des est sont et un une du dans que qui pour pas avec sur ce cette "
            "il elle ils nous vous au aux ne se son sa ses leur comment quoi fait être l d qu c j",
        ),
        (
            "de",
            "der die das und ist sind nicht ein eine einen mit von zu den dem des auf "
            "für wird werden ich sie es wie was wir auch sich im bei oder aus",
        ),
        (
            "es",
            "el la los las es son y un una de del en que por para con no se su sus lo "
            "como qué cómo está están al este esta pero más o",
        ),
        (
            "it",
            "il lo la gli le è sono e un una di del della che per con non si come cosa "
            "questo questa al alla nel nella anche ma più o l",
        ),
        (
            "pt",
            "o a os as é são e um uma de do da dos das em que por para com não se seu sua "
            "como isso este esta no na ao mas mais ou",
        ),
        (
            "nl",
            "de het een en is zijn van in dat die niet met voor op te als ook maar wat "
            "hoe wordt worden er bij dit deze",
        ),
    )
}
_FUNCTION_WORDS: Final = frozenset().union(*_STOPWORDS.values())
_LANGUAGES: Final = tuple(_STOPWORDS)
_ASCII_NON_LETTERS: Final = bytes(c for c in range(256) if not (chr(c).isalpha() and c < 128))
# ASCII letters lower-cased, every other byte a space.
_ASCII_LOWER_LETTERS: Final = bytes(
    ord(chr(c).lower()) if chr(c).isalpha() and c < 128 else 32 for c in range(256)
)
_LANGUAGES_OF: Final = {
    word: tuple(i for i, words in enumerate(_STOPWORDS.values()) if word in words)
    for word in _FUNCTION_WORDS
}
_MIN_LETTERS: Final = 12
_LANGUAGE_CHARS: Final = 1_500
_MIN_STOPWORDS: Final = 2
_MARGIN: Final = 2
_ELISIONS: Final = frozenset({"l", "d", "c", "j"})


def language_mismatch(question: str, answer: str) -> Evaluation | None:
    """A raised ``language_mismatch`` flag when the answer's script or language differs.

    The script is the one most letters are written in (code spans left out). Within the
    Latin script, the language is the one whose function words the text uses most,
    and only when that is clear in both texts (two or more distinct function words, two
    more than the runner-up's): a short or code-heavy text is never judged.

    Args:
        question: The user's question.
        answer: The model's text.

    Returns:
        The raised flag, or None when both are in the same (or an undecidable) language.
    """
    q = _strip_code(question[:MAX_CHARS])
    a = _strip_code(answer[:MAX_CHARS])
    q_script, a_script = _script(q), _script(a)
    if q_script is None or a_script is None:
        return None
    if q_script != a_script:
        if {q_script, a_script} <= {"Han", "Kana"}:
            return None  # Japanese mixes kana and kanji; a kanji-heavy reply is not a switch
        return Evaluation(
            LANGUAGE_MISMATCH,
            1.0,
            "fail",
            f"the question is in {q_script} script, the answer in {a_script}",
        )
    if q_script != "Latin":
        return None
    # An undecidable question settles it: the answer's language is not worth reading.
    q_lang = _latin_language(q)
    a_lang = _latin_language(a) if q_lang is not None else None
    if q_lang is None or a_lang is None or q_lang == a_lang:
        return None
    return Evaluation(
        LANGUAGE_MISMATCH, 1.0, "fail", f"the question is in {q_lang}, the answer in {a_lang}"
    )


def _strip_code(text: str) -> str:
    return _CODE_FENCE.sub(" ", text) if "`" in text else text


def _script(text: str) -> str | None:
    """The script most of the text's letters are in; None for too few letters."""
    if text.isascii():
        # Enough ASCII letters, counted in C: deleting the rest costs less than a regex.
        letters = len(text.encode().translate(None, _ASCII_NON_LETTERS))
        return "Latin" if letters >= _MIN_LETTERS else None
    counts = {name: len(pattern.findall(text)) for name, pattern in _SCRIPTS}
    counts["Latin"] = len(_LATIN.findall(text))
    if counts["Kana"]:
        # Japanese: kana with kanji. Count them as one script.
        counts["Kana"] += counts.pop("Han")
    name, letters = max(counts.items(), key=lambda item: item[1])
    # A CJK character carries a word's worth of meaning: fewer are enough.
    enough = _MIN_LETTERS // 3 if name in ("Han", "Kana", "Hangul") else _MIN_LETTERS
    return name if letters >= enough else None


def _latin_language(text: str) -> str | None:
    # Function words are frequent: the first stretch of the text tells the language.
    head = text[:_LANGUAGE_CHARS]
    if head.isascii():  # the lower-cased words _WORDS finds, split in C (no regex engine)
        words = head.encode().translate(_ASCII_LOWER_LETTERS).decode().split()
    else:
        words = _WORDS.findall(head.lower())
    found = _FUNCTION_WORDS.intersection(words)
    if not found.isdisjoint(_ELISIONS):
        # "l'", "d'" are function words only before an apostrophe: "D.C." and "J. C."
        # are initials.
        lowered = head.lower().replace("\u2019", "'")
        found = frozenset(w for w in found if w not in _ELISIONS or f"{w}'" in lowered)
    if len(found) < _MIN_STOPWORDS:
        return None  # too few function words for any language to be clear
    hits = [0] * len(_LANGUAGES)  # per language, how many of its function words occur
    for word in found:
        for index in _LANGUAGES_OF[word]:
            hits[index] += 1
    best = max(hits)
    if best < _MIN_STOPWORDS or hits.count(best) > 1:
        return None  # a tie is never a margin
    second = max((h for h in hits if h != best), default=0)
    if best >= second + _MARGIN:
        return _LANGUAGES[hits.index(best)]
    return None
