"""Human-labelled groundedness data (../shared/quality-data), loaded and split.

Each case is one answer with the source it should rest on, its task kind and its label
(``supported``: True for a faithful output). Every set is split once, by a hash of the
source text (so the turns or answers that share a source land on the same side): 30%
is held out. Tuning reads ``dev`` only; ``heldout`` is reported, never tuned on.

The data is not shipped with the project (AggreFact's licence forbids derivatives;
BEGIN's and HaluEval's allow it, but one rule for all is simpler): the loaders read it
from ``$SEMTRACE_QUALITY_DATA`` or ``../shared/quality-data`` beside the repository.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_SHARE = 0.3


@dataclass(frozen=True)
class Case:
    dataset: str
    kind: str  # "qa", "summary" or "dialogue"
    question: str  # the question, the instruction, or the previous turn
    source: str  # the text the answer should rest on
    answer: str
    supported: bool
    split: str  # "dev" or "heldout"


def data_dir() -> Path | None:
    env = os.environ.get("SEMTRACE_QUALITY_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "quality-data"
    return path if path.is_dir() else None


def split_of(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "heldout" if digest[0] / 256 < HELDOUT_SHARE else "dev"


def begin(root: Path) -> Iterator[Case]:
    for path in sorted((root / "begin-dev").glob("*/begin_dev_*.tsv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                label = row["begin_label"].strip()
                if label == "Generic":
                    continue
                yield Case(
                    "begin/" + path.parent.name,
                    "dialogue",
                    row["message"],
                    row["knowledge"],
                    row["response"],
                    label != "Not fully attributable",
                    split_of(row["knowledge"]),
                )


def aggrefact(root: Path) -> Iterator[Case]:
    path = root / "aggrefact-cnndm-dev" / "aggrefact_sota_cnndm.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        yield Case(
            "aggrefact-cnndm",
            "summary",
            "Summarize the article.",
            row["doc"],
            row["summary"],
            bool(row["label"]),
            split_of(row["doc"]),
        )


def halueval(root: Path) -> Iterator[Case]:
    path = root / "halueval-dev" / "qa_dev.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        split = split_of(row["knowledge"])
        for key, supported in (("right_answer", True), ("hallucinated_answer", False)):
            yield Case(
                "halueval-qa", "qa", row["question"], row["knowledge"], row[key], supported, split
            )


def load() -> list[Case]:
    root = data_dir()
    if root is None:
        return []
    return [*begin(root), *aggrefact(root), *halueval(root)]
