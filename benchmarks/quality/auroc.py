"""How well do the lexical quality scores separate working from broken RAG answers?

Reads ``benchmarks/data/quality_cases.jsonl`` (built by ``build_cases.py``), scores
every case and prints markdown tables: AUROC per signal on the failure it is meant to
catch, precision/recall of the refusal detector, mean cost per call, and mean score per
variant.

Run: ``uv run python benchmarks/quality/auroc.py``
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from pydoc_data.topics import topics
from typing import Any

from semtrace.quality import _text, scoring
from semtrace.quality.scoring import (
    MAX_ANSWER_CHARS,
    MAX_QUERY_CHARS,
    answer_relevance,
    groundedness,
    is_non_answer,
    retrieval_relevance,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "quality_cases.jsonl"
Case = dict[str, Any]
REPEATS = 5

SIGNALS: dict[str, Callable[[Case], float]] = {
    "retrieval_relevance": lambda c: retrieval_relevance(c["question"], c["contexts"]).value,
    "groundedness": lambda c: groundedness(c["answer"], c["contexts"]).value,
    "answer_relevance": lambda c: answer_relevance(c["question"], c["answer"]).value,
    "is_non_answer": lambda c: float(is_non_answer(c["answer"])),
}

# (signal, negative variant): the failure each signal is supposed to catch.
COMPARISONS = (
    ("retrieval_relevance", "wrong_context"),
    ("retrieval_relevance", "empty_context"),
    ("groundedness", "unsupported_answer"),
    ("groundedness", "wrong_context"),
    ("answer_relevance", "off_topic_answer"),
    ("answer_relevance", "refusal"),
)


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability a random positive outscores a random negative (ties count half).

    Mann-Whitney U from average ranks, O(n log n).
    """
    if not positives or not negatives:
        raise ValueError("need at least one positive and one negative")
    pooled = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j < len(pooled) and pooled[j][0] == pooled[i][0]:
            j += 1
        avg_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += avg_rank * sum(label for _, label in pooled[i:j])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def load(path: Path = DATA) -> list[Case]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score_all(cases: list[Case]) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Scores per signal (aligned with ``cases``) and mean microseconds per call.

    The first pass fills the scorers' caches (as a long-running process would); the cost is
    the median over ``REPEATS`` further passes, which damps noise from a busy machine.
    """
    scores = {name: [fn(c) for c in cases] for name, fn in SIGNALS.items()}
    cost_us: dict[str, float] = {}
    for name, fn in SIGNALS.items():
        runs = []
        for _ in range(REPEATS):
            start = time.perf_counter_ns()
            for c in cases:
                fn(c)
            runs.append((time.perf_counter_ns() - start) / 1_000 / len(cases))
        cost_us[name] = statistics.median(runs)
    return scores, cost_us


def signal_auroc(cases: list[Case], scores: dict[str, list[float]], signal: str, neg: str) -> float:
    pos = [s for c, s in zip(cases, scores[signal], strict=True) if c["variant"] == "good"]
    bad = [s for c, s in zip(cases, scores[signal], strict=True) if c["variant"] == neg]
    return auroc(pos, bad)


def refusal_precision_recall(cases: list[Case], flags: list[float]) -> tuple[float, float, int]:
    """Refusal = positive; every other distinct answer is a negative."""
    seen: set[str] = set()
    tp = fp = fn = 0
    for case, flag in zip(cases, flags, strict=True):
        if case["answer"] in seen:
            continue
        seen.add(case["answer"])
        is_refusal = case["variant"] == "refusal"
        tp += bool(flag) and is_refusal
        fp += bool(flag) and not is_refusal
        fn += (not flag) and is_refusal
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, len(seen)


def worst_case_us() -> float:
    """All four scorers once on real text at the input caps, every cache cold."""
    context = [topics["compound"][i : i + 2_500] for i in range(0, 25_000, 2_500)]
    answer = topics["specialnames"][: MAX_ANSWER_CHARS + 1_000]
    question = topics["typesseq"][: MAX_QUERY_CHARS + 1_000]
    for cache in (
        _text._stem_word,
        _text.document_terms,
        scoring._analyse_question,
        scoring._answer,
        scoring._declines,
    ):
        cache.cache_clear()
    start = time.perf_counter_ns()
    retrieval_relevance(question, context)
    groundedness(answer, context)
    answer_relevance(question, answer)
    is_non_answer(answer)
    return (time.perf_counter_ns() - start) / 1_000


def main() -> int:
    cases = load()
    scores, cost = score_all(cases)
    n_good = sum(c["variant"] == "good" for c in cases)
    print(f"{len(cases)} cases ({n_good} good) from {DATA.name}\n")
    print("| signal | good vs | AUROC | µs/call |")
    print("|---|---|---:|---:|")
    for signal, neg in COMPARISONS:
        value = signal_auroc(cases, scores, signal, neg)
        print(f"| {signal} | {neg} | {value:.3f} | {cost[signal]:.0f} |")
    precision, recall, n = refusal_precision_recall(cases, scores["is_non_answer"])
    print(
        f"| is_non_answer | refusal vs {n} distinct answers | "
        f"P={precision:.3f} R={recall:.3f} | {cost['is_non_answer']:.0f} |"
    )
    print(f"\nAll four scorers once at the input caps, cold cache: {worst_case_us():.0f} µs\n")
    variants = list(dict.fromkeys(c["variant"] for c in cases))
    print("| mean score | " + " | ".join(variants) + " |")
    print("|---|" + "---:|" * len(variants))
    for signal in SIGNALS:
        means = []
        for v in variants:
            vals = [s for c, s in zip(cases, scores[signal], strict=True) if c["variant"] == v]
            means.append(f"{sum(vals) / len(vals):.2f}")
        print(f"| {signal} | " + " | ".join(means) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
