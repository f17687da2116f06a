r"""Sensitive output: secrets and personal data in an answer that its inputs did not hold.

A value counts only when it appears in the answer and nowhere in the prompt or the
retrieved context: echoing back the e-mail address the user typed is not a leak. The
result names the detectors (``email``, ``card_number``, your rule's name), never the
value, so it is safe to record with content capture off.

Your own rules are patterns or callables:

Example:
    >>> rules = (SensitiveRule("ticket", r"\bTCK-\d{6}\b"),)
    >>> sensitive_output("Your ticket is TCK-123456.", "", rules).explanation
    'sensitive data in the answer: ticket'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from semtrace.config import SensitiveRule as SensitiveRule  # defined with Settings
from semtrace.quality.types import Evaluation

SENSITIVE_OUTPUT: Final = "sensitive_output"
MAX_CHARS: Final = 8_000


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _phone(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    return 9 <= digits <= 15


# (name, pattern, validator): the validator turns a lookalike (a version, an order id)
# away. Each pattern runs only when its cheap pre-check finds its marker in the text.
_BUILTIN: Final = (
    (
        "api_key",
        re.compile(
            r"\b(?:(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
            r"|github_pat_[A-Za-z0-9_]{30,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"
            r"|AIza[0-9A-Za-z_-]{35}|xox[abposr]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{30,})\b"
        ),
        None,
        (
            *("sk-", "pk-", "rk-", "AKIA", "_live_", "_test_", "AIza", "xox", "hf_"),
            *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        ),
    ),
    (
        "token",
        re.compile(
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"
            r"|(?i:\bbearer\s+[a-z0-9._~+/=-]{16,})"
            r"|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"
        ),
        None,
        ("eyJ", "earer", "EARER", "PRIVATE KEY"),
    ),
    (
        "email",
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
        None,
        ("@",),
    ),
    (
        "card_number",
        re.compile(r"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]|\.\d)"),
        _luhn,
        None,
    ),
    (
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
        _iban,
        None,
    ),
    (
        "phone_number",
        re.compile(
            # Not part of a longer run of digit groups (a card number, an IBAN).
            r"(?<![\w.+-])(?<!\d )(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])"
            r"\d{3,4}[ .-]\d{3,4}(?![\w-]|\.\d| \d)"
        ),
        _phone,
        None,
    ),
)
# _BUILTIN with each detector's markers as one search: it finds the same texts as testing
# each marker in turn, in one C scan (a short answer cost 15 substring searches for the API
# keys alone).
_DETECTORS: Final = tuple(
    (
        name,
        pattern,
        valid,
        None if markers is None else re.compile("|".join(map(re.escape, markers))),
    )
    for name, pattern, valid, markers in _BUILTIN
)
# The fewest digits a phone number (then a card number, an IBAN) is written with.
_MIN_DIGITS: Final = 9


def sensitive_output(
    answer: str, inputs: str | Callable[[], str], rules: Sequence[SensitiveRule] = ()
) -> Evaluation | None:
    """A raised ``sensitive_output`` flag naming what the answer leaked.

    Args:
        answer: The model's text.
        inputs: Everything the model was given (prompt and context), or a callable
            returning it (only called when the answer holds a candidate, which is rare).
        rules: Your own rules, checked after the built-in detectors.

    Returns:
        The raised flag, or None when the answer holds nothing its inputs did not.
    """
    text = answer[:MAX_CHARS]
    candidates: list[tuple[str, list[str] | bool]] = []
    if text.isascii():  # the digits are what deleting them removes: one C pass
        raw = text.encode()
        digits = len(raw) - len(raw.translate(None, b"0123456789"))
    else:
        digits = sum(map(text.count, "0123456789"))  # ten C-level counts: no per-char loop
    for name, pattern, valid, marked in _DETECTORS:
        if marked is None:
            if digits < _MIN_DIGITS:
                continue
        elif marked.search(text) is None:
            continue
        values = [v for v in (m.group(0) for m in pattern.finditer(text)) if not valid or valid(v)]
        if values:
            candidates.append((name, values))
    for rule in rules:
        found = rule.find(text)
        if found:
            candidates.append((rule.name, found))
    if not candidates:
        return None
    given = inputs() if callable(inputs) else inputs
    leaked = [
        name
        for name, values in candidates
        if values is True or any(v not in given for v in values)  # type: ignore[union-attr]
    ]
    if not leaked:
        return None
    names = ", ".join(dict.fromkeys(leaked))
    return Evaluation(SENSITIVE_OUTPUT, 1.0, "fail", f"sensitive data in the answer: {names}")


def kinds(evaluation: Evaluation) -> tuple[str, ...]:
    """The detector names a raised flag's explanation lists."""
    _, _, names = evaluation.explanation.partition(": ")
    return tuple(n for n in names.split(", ") if n)
