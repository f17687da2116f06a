"""Groundedness on the harder set (build_grounding_cases.py), per kind of error.

Scores every case of ``benchmarks/data/grounding_cases.jsonl`` with
:func:`semtrace.quality.scoring.groundedness` as it is called in-process, next to a naive
baseline (the share of the answer's words found in the context), and prints AUROC of
good answers against each kind of unsupported answer, the share of good answers labelled
``fail`` at the default threshold, and the mean time per call.

Run: ``uv run python benchmarks/quality/grounding_auroc.py``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from auroc import auroc, load  # noqa: E402
from semtrace.quality import _text  # noqa: E402
from semtrace.quality.scoring import groundedness  # noqa: E402

DATA = HERE.parent / "data" / "grounding_cases.jsonl"
KINDS = ("invented", "negated", "added_claim")
Case = dict[str, object]


def coverage(case: Case) -> float:
    """The naive baseline: share of the answer's words that occur in the context."""
    words = set(_text.words(_text.normalize(str(case["answer"]))))
    context = set(_text.words(_text.normalize(" ".join(case["contexts"]))))  # type: ignore[arg-type]
    return len(words & context) / max(len(words), 1)


def semtrace_score(case: Case) -> float:
    return groundedness(str(case["answer"]), case["contexts"], str(case["question"])).value  # type: ignore[arg-type]


def main() -> int:
    cases = load(DATA)
    scorers: dict[str, Callable[[Case], float]] = {
        "semtrace groundedness": semtrace_score,
        "word coverage (baseline)": coverage,
    }
    print(f"{len(cases)} cases: " + ", ".join(
        f"{sum(c['variant'] == v for c in cases)} {v}" for v in ("good", *KINDS)
    ) + "\n")  # fmt: skip
    print("| scorer | " + " | ".join(f"vs {k}" for k in KINDS) + " | vs all unsupported |")
    print("|---|" + "---:|" * (len(KINDS) + 1))
    for name, scorer in scorers.items():
        scores = [scorer(c) for c in cases]
        good = [s for s, c in zip(scores, cases, strict=True) if c["variant"] == "good"]
        by_kind = {
            k: [s for s, c in zip(scores, cases, strict=True) if c["variant"] == k] for k in KINDS
        }
        row = [f"{auroc(good, by_kind[k]):.3f}" for k in KINDS]
        bad = [s for s, c in zip(scores, cases, strict=True) if c["variant"] != "good"]
        print(f"| {name} | " + " | ".join(row) + f" | {auroc(good, bad):.3f} |")
    scores = [semtrace_score(c) for c in cases]
    good = [s for s, c in zip(scores, cases, strict=True) if c["variant"] == "good"]
    print(f"\ngood answers labelled fail (< 0.5): {sum(s < 0.5 for s in good)} of {len(good)}")
    for kind in KINDS:
        bad = [s for s, c in zip(scores, cases, strict=True) if c["variant"] == kind]
        print(f"{kind} labelled fail: {sum(s < 0.5 for s in bad)} of {len(bad)}")
    # Each case's contexts are analysed once first, as the retrieval span of a trace does.
    spent = 0.0
    for case in cases:
        groundedness(str(case["answer"]), case["contexts"], str(case["question"]))  # type: ignore[arg-type]
        start = time.perf_counter()
        groundedness(str(case["answer"]) + " ", case["contexts"], str(case["question"]))  # type: ignore[arg-type]
        spent += time.perf_counter() - start
    print(
        f"\nmean time per call (contexts analysed, answer not): {spent / len(cases) * 1e6:.0f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
