"""AUROC with a stratified bootstrap confidence interval.

Example:
    >>> from bootstrap import auroc_ci
    >>> auroc_ci([0.9, 0.8, 0.4], [0.1, 0.5], resamples=200)
    Interval(point=0.8333333333333334, low=0.3333333333333333, high=1.0)

The point estimate is ``auroc.auroc`` (Mann-Whitney U, ties half); the resamples use the
same formula vectorised with numpy, since 1,000 resamples of a 2,800-case set in pure
Python take seconds per figure and the report has dozens of figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from auroc import auroc

RESAMPLES = 1000
SEED = 20240
CONFIDENCE = 0.95


class Interval(NamedTuple):
    point: float
    low: float
    high: float


def fast_auroc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """``auroc.auroc`` by binary search: each positive's wins and half its ties."""
    ranked = np.sort(negatives)
    below = np.searchsorted(ranked, positives, side="left")
    at_or_below = np.searchsorted(ranked, positives, side="right")
    return float((below + at_or_below).sum() / 2 / (len(positives) * len(negatives)))


def auroc_ci(
    positives: Sequence[float],
    negatives: Sequence[float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Interval:
    """AUROC of positives scoring above negatives, with a percentile bootstrap interval.

    Each resample draws the positives and the negatives separately, with replacement, at
    their own sizes (stratified), so every resample keeps the set's class balance; a
    fixed seed makes the report reproducible.

    Args:
        positives: Scores of the class expected to score high.
        negatives: Scores of the class expected to score low.
        resamples: Bootstrap resamples.
        seed: Seed of the resampling generator.

    Returns:
        The point estimate and the ``CONFIDENCE`` interval's bounds.
    """
    point = auroc(positives, negatives)
    pos, neg = np.asarray(positives, dtype=float), np.asarray(negatives, dtype=float)
    rng = np.random.default_rng(seed)
    draws = np.array(
        [fast_auroc(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(resamples)]
    )
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(point, float(low), float(high))
