"""Consistency (opt-in): the same prompt, given the same input, should say the same thing.

For model calls of one prompt (name and version, when the framework names it; the model
otherwise) with the same input, the score is the mean similarity of this output to that
input's earlier outputs: the Jaccard index of their word 3-gram sets. An agent that writes
about one topic on one run and about another on the next, for the same request, scores
near 0.

Bounded: at most ``max_inputs`` inputs are remembered (least recently seen evicted), each
with its last ``per_input`` outputs, each output as at most ``_MAX_SHINGLES`` hashes.
Thread-safe.

Example:
    >>> tracker = ConsistencyTracker()
    >>> tracker.observe(("qa", "1", "m"), "Capital of France?", "Paris is the capital.") is None
    True
    >>> tracker.observe(("qa", "1", "m"), "Capital of France?", "Lyon, by far.").label
    'fail'
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Final

from semtrace.quality import _text
from semtrace.quality.types import Evaluation

CONSISTENCY: Final = "consistency"
THRESHOLD: Final = 0.5
_MAX_CHARS: Final = 8_000
_MAX_SHINGLES: Final = 256


class ConsistencyTracker:
    """Earlier outputs per (prompt, input), for :meth:`observe`.

    Args:
        max_inputs: Distinct (prompt, input) pairs remembered.
        per_input: Earlier outputs kept per pair.
    """

    def __init__(self, max_inputs: int = 1024, per_input: int = 5) -> None:
        self._seen: OrderedDict[Hashable, deque[frozenset[int]]] = OrderedDict()
        self._max_inputs = max_inputs
        self._per_input = per_input
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def observe(self, prompt: Hashable, prompt_input: str, output: str) -> Evaluation | None:
        """Score ``output`` against this input's earlier outputs, then remember it.

        Args:
            prompt: What identifies the prompt (name, version, model).
            prompt_input: The call's input text.
            output: The model's text.

        Returns:
            The ``consistency`` score, or None for the first output of an input.
        """
        key = (prompt, hashlib.blake2b(prompt_input.encode(), digest_size=16).digest())
        shingles = _shingles(output)
        with self._lock:
            earlier = self._seen.get(key)
            if earlier is None:
                earlier = self._seen[key] = deque(maxlen=self._per_input)
                while len(self._seen) > self._max_inputs:
                    self._seen.popitem(last=False)
            else:
                self._seen.move_to_end(key)
            previous = list(earlier)
            earlier.append(shingles)
        if not previous:
            return None
        value = round(sum(_jaccard(shingles, p) for p in previous) / len(previous), 4)
        return Evaluation(
            CONSISTENCY,
            value,
            "pass" if value >= THRESHOLD else "fail",
            f"similarity to {len(previous)} earlier output(s) for the same input",
        )


def _shingles(text: str) -> frozenset[int]:
    words = _text.words(_text.normalize(text[:_MAX_CHARS]))
    if len(words) < 3:
        return frozenset({hash(" ".join(words))})
    grams = {hash((a, b, c)) for a, b, c in zip(words, words[1:], words[2:], strict=False)}
    return frozenset(sorted(grams)[:_MAX_SHINGLES])


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
