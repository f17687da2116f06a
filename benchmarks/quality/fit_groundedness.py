"""Fit the groundedness weights of each task kind on the development splits only.

How the constants in ``semtrace.quality.scoring`` (``_WEIGHTS``) were chosen: a logistic
regression per kind on the dev split of the real sets (``realdata.py``; the held-out
part is never read here), class-balanced, each data set weighing the same, with a light
L2 penalty. The synthetic stdlib set (``benchmarks/data/grounding_cases.jsonl``) joins
the ``qa`` fit: it is where invented identifiers and flipped negations live, which the
real QA set rarely holds. Prints each kind's weights and its two cut points on the
weighted sum: ``fail_at``, below which at most ``--far`` of every dev set's faithful
answers fall (it becomes ``FAIL_BELOW`` on the reported scale), and ``pass_at``, below
which at most ``--pass-share`` of them fall (it becomes ``PASS_FROM``).

Run: ``uv run python benchmarks/quality/fit_groundedness.py``
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import realdata  # noqa: E402
from semtrace.quality import scoring  # noqa: E402

SYNTHETIC = HERE.parent / "data" / "grounding_cases.jsonl"
# The real sets each kind is fitted on. Summaries and answers also learn from the
# dialogue set: its faithful turns paraphrase their knowledge as abstractive summaries and
# LLM answers do, and models fitted on extractive data alone (news summaries, HaluEval's
# copied spans) failed 30-36% of them.
TRAINED_ON = {
    "qa": ("qa", "dialogue"),
    "summary": ("summary", "dialogue"),
    "dialogue": ("dialogue",),
}


def rows(kind: str) -> list[tuple[str, list[float], int]]:
    """(data set, features, supported) of every dev case of ``kind`` with content."""
    out = []
    for case in realdata.load():
        if case.kind in TRAINED_ON[kind] and case.split == "dev":
            out.append(
                (
                    case.dataset.split("/")[0],
                    case.answer,
                    [case.source],
                    case.question,
                    case.supported,
                )
            )
    if kind == "qa":
        for line in SYNTHETIC.read_text().splitlines():
            r = json.loads(line)
            out.append(
                ("synthetic", r["answer"], r["contexts"], r["question"], r["variant"] == "good")
            )
    found = []
    for dataset, answer, sources, question, supported in out:
        x = scoring.groundedness_features(answer, sources, question, kind)
        if x is not None:
            found.append((dataset, x, int(supported)))
    return found


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float) -> np.ndarray:
    """Weighted L2 logistic regression by Newton's method; the last weight is the bias."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = l2 * np.eye(len(w))
    penalty[-1, -1] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ ((p - y) * weights) / weights.sum() + penalty @ w
        hess = (xb.T * (p * (1 - p) * weights)) @ xb / weights.sum() + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--far", type=float, default=0.04)
    parser.add_argument("--pass-share", type=float, default=0.25)
    args = parser.parse_args()
    for kind in scoring.KINDS:
        data = rows(kind)
        x = np.array([r[1] for r in data])
        y = np.array([r[2] for r in data], float)
        weights = np.zeros(len(data))
        for dataset in {r[0] for r in data}:
            for label in (0, 1):
                idx = [i for i, r in enumerate(data) if r[0] == dataset and r[2] == label]
                weights[idx] = 1 / len(idx)
        w = fit(x, y, weights, args.l2)
        z = np.hstack([x, np.ones((len(x), 1))]) @ w
        # The lowest cut over the data sets: no set has more faithful answers below it.
        fail = top = math.inf
        for dataset in {r[0] for r in data}:
            mine = np.array([r[0] == dataset and r[2] == 1 for r in data])
            faithful = np.sort(z[mine])
            fail = min(fail, faithful[int(args.far * len(faithful))])
            top = min(top, faithful[int(args.pass_share * len(faithful))])
        weights = [round(c, 3) for c in w[:-1]]
        print(f"{kind} (n={len(data)}): {dict(zip(scoring.FEATURES[kind], weights, strict=True))}")
        print(
            f"    {kind.upper()}: _Model(({', '.join(map(str, weights))}), {w[-1]:.3f}, "
            f"fail_at={fail:.3f}, pass_at={top:.3f}),"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
