"""The figures of ``real_pipelines.py`` and their markdown report.

Example:
    >>> figs = figures(cases, {"langchain": observed})  # doctest: +SKIP
    >>> print(markdown(figs, sys.argv, seconds=12.0))  # doctest: +SKIP

Per set (BEGIN pooled and per source, AggreFact CNN/DM, HaluEval QA), split and framework:
groundedness AUROC (supported expected to score high) with a stratified bootstrap
interval, beside trivial lexical baselines; the groundedness verdict's counts, and its
``fail``'s precision and recall for unsupported outputs and false-alarm rate on faithful
ones; every other signal's AUROC or raise rate; the root spans' diagnoses.
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import realdata
from auroc import auroc
from bootstrap import RESAMPLES, SEED, auroc_ci
from semtrace import semconv
from semtrace.quality import _text
from semtrace.quality.diagnosis import RETRIEVAL_MISS

if TYPE_CHECKING:
    from real_pipelines import Observed

Case = realdata.Case
Figures = dict[str, Any]
GROUNDEDNESS = "groundedness"
# Observed.details holds the family's string attributes by their name under the prefix.
KIND = semconv.SEMTRACE_QUALITY_GROUNDEDNESS_KIND.removeprefix(semconv.SEMTRACE_QUALITY_PREFIX)
VERDICTS = ("fail", "uncertain", "pass", "none")
SPLITS = ("dev", "heldout")
PACKAGES = (
    "semtrace", "semtrace-langchain", "semtrace-llamaindex", "langchain-core",
    "llama-index-core", "opentelemetry-sdk",
)  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


# --- baselines: what the answer's words alone say ---


def _share_found(items: Sequence[str], found: set[str]) -> float:
    return sum(i in found for i in items) / len(items) if items else 0.0


def content_word_share(case: Case) -> float:
    """Share of the answer's content-word stems (stopwords left out) found in the source."""
    source = _text.all_stems(_text.normalize(case.source))
    return _share_found(_text.content_stems(_text.normalize(case.answer)), source)


def word_share(case: Case) -> float:
    """Share of all the answer's words, as written, found among the source's."""
    source = set(_text.words(_text.normalize(case.source)))
    return _share_found(_text.words(_text.normalize(case.answer)), source)


def brevity(case: Case) -> float:
    """Shorter answers score higher (HaluEval's right answers are short gold spans)."""
    return -float(len(_text.words(_text.normalize(case.answer))))


BASELINES: dict[str, Callable[[Case], float]] = {
    "content words in source": content_word_share,
    "all words in source": word_share,
    "shorter answer": brevity,
}


# --- the figures ---


def set_names(cases: Sequence[Case]) -> list[str]:
    """BEGIN pooled, then each dataset, in a fixed order."""
    datasets = sorted({c.dataset for c in cases}, key=lambda d: (not d.startswith("begin"), d))
    pooled = ["begin"] if sum(d.startswith("begin/") for d in datasets) > 1 else []
    return pooled + datasets


def in_set(case: Case, name: str) -> bool:
    return case.dataset == name or case.dataset.startswith(name + "/")


def _interval(positives: list[float], negatives: list[float]) -> dict[str, float] | None:
    if not positives or not negatives:
        return None
    return auroc_ci(positives, negatives)._asdict()


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _by_class(observed: list[Observed], supported: list[bool]) -> tuple[list[Observed], ...]:
    """(the supported cases' traces, the unsupported cases' traces)."""
    pairs = list(zip(observed, supported, strict=True))
    return [o for o, s in pairs if s], [o for o, s in pairs if not s]


def verdict_figures(labels: list[str | None], supported: list[bool]) -> dict[str, Any]:
    """Counts of each verdict per class; ``fail`` (and fail-or-uncertain) as a detector."""
    pairs = list(zip(labels, supported, strict=True))
    sup = Counter(label or "none" for label, s in pairs if s)
    unsup = Counter(label or "none" for label, s in pairs if not s)
    n_sup, n_unsup = sum(sup.values()), sum(unsup.values())
    return {
        "supported": {v: sup[v] for v in VERDICTS} | dict(sup),
        "unsupported": {v: unsup[v] for v in VERDICTS} | dict(unsup),
        "fail_precision": _ratio(unsup["fail"], unsup["fail"] + sup["fail"]),
        "fail_recall": _ratio(unsup["fail"], n_unsup),
        "false_alarm_rate": _ratio(sup["fail"], n_sup),
        "fail_or_uncertain_recall": _ratio(unsup["fail"] + unsup["uncertain"], n_unsup),
        "fail_or_uncertain_false_alarm_rate": _ratio(sup["fail"] + sup["uncertain"], n_sup),
    }


def signal_figures(observed: list[Observed], supported: list[bool]) -> dict[str, dict[str, Any]]:
    """Every signal but groundedness: AUROC for scores, fail share per class for all."""
    good, bad = _by_class(observed, supported)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted({n for o in observed for n in [*o.signals, *o.flags]} - {GROUNDEDNESS}):
        pos = [o.signals[name] for o in good if name in o.signals]
        neg = [o.signals[name] for o in bad if name in o.signals]
        out[name] = {
            "auroc": auroc(pos, neg) if pos and neg else None,
            "present_supported": sum(name in o.signals or name in o.flags for o in good),
            "present_unsupported": sum(name in o.signals or name in o.flags for o in bad),
            "fail_supported": _ratio(sum(o.labels.get(name) == "fail" for o in good), len(good)),
            "fail_unsupported": _ratio(sum(o.labels.get(name) == "fail" for o in bad), len(bad)),
        }
    return out


def cell_figures(cases: list[Case], observed: list[Observed]) -> dict[str, Any]:
    """One set, split and framework."""
    supported = [c.supported for c in cases]
    good, bad = _by_class(observed, supported)
    pos = [o.signals[GROUNDEDNESS] for o in good if GROUNDEDNESS in o.signals]
    neg = [o.signals[GROUNDEDNESS] for o in bad if GROUNDEDNESS in o.signals]
    raised_by = Counter(
        f"{o.diagnosis} ({o.diagnosis_signal})" for o in observed if o.diagnosis_signal
    )
    return {
        "groundedness": {
            "auroc": _interval(pos, neg),
            "missing_supported": len(good) - len(pos),
            "missing_unsupported": len(bad) - len(neg),
        },
        "verdict": verdict_figures([o.labels.get(GROUNDEDNESS) for o in observed], supported),
        "kinds": dict(Counter(o.details.get(KIND, "absent") for o in observed)),
        "diagnoses": dict(Counter(o.diagnosis for o in observed).most_common()),
        "raised_by": dict(raised_by.most_common()),
        # The promise: no retriever was asked a question in these pipelines.
        "retrieval_miss_without_question": sum(
            o.diagnosis == RETRIEVAL_MISS
            for o, c in zip(observed, cases, strict=True)
            if c.kind != "qa"
        ),
        "model_spans": dict(Counter(str(o.model_spans) for o in observed)),
        "signals": signal_figures(observed, supported),
    }


def figures(cases: Sequence[Case], observed: dict[str, list[Observed]]) -> Figures:
    """Every set x split: class sizes, baselines, and one cell per framework."""
    rows = []
    for name in set_names(cases):
        for split in SPLITS:
            picked = [i for i, c in enumerate(cases) if in_set(c, name) and c.split == split]
            if not picked:
                continue
            mine = [cases[i] for i in picked]
            rows.append(
                {
                    "set": name,
                    "kind": mine[0].kind,
                    "split": split,
                    "supported": sum(c.supported for c in mine),
                    "unsupported": sum(not c.supported for c in mine),
                    "baselines": {
                        label: _interval(
                            [fn(c) for c in mine if c.supported],
                            [fn(c) for c in mine if not c.supported],
                        )
                        for label, fn in BASELINES.items()
                    },
                    "frameworks": {
                        framework: cell_figures(mine, [found[i] for i in picked])
                        for framework, found in observed.items()
                    },
                }
            )
    return {"rows": rows, "frameworks": list(observed)}


# --- markdown ---


def _ci(interval: dict[str, float] | None) -> str:
    if interval is None:
        return "n/a"
    return f"{interval['point']:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _verdict_counts(counts: dict[str, int]) -> str:
    return " / ".join(str(counts.get(v, 0)) for v in VERDICTS)


def _row_name(row: dict[str, Any]) -> str:
    return f"{row['set']} ({row['kind']})"


def auroc_table(figs: Figures) -> list[str]:
    frameworks = figs["frameworks"]
    head = ["set", "split", "supported / unsupported"]
    head += [f"{f} groundedness (no score: sup / unsup)" for f in frameworks]
    head += [f"baseline: {b}" for b in BASELINES]
    lines = [_md_row(head), "|---|---|---:|" + "---:|" * (len(head) - 3)]
    for row in figs["rows"]:
        cells = [_row_name(row), row["split"], f"{row['supported']} / {row['unsupported']}"]
        for f in frameworks:
            g = row["frameworks"][f]["groundedness"]
            cells.append(
                f"{_ci(g['auroc'])} ({g['missing_supported']} / {g['missing_unsupported']})"
            )
        cells += [_ci(row["baselines"][b]) for b in BASELINES]
        lines.append(_md_row(cells))
    return lines


def verdict_table(figs: Figures) -> list[str]:
    head = [
        "set", "split", "framework", "supported: " + " / ".join(VERDICTS),
        "unsupported: " + " / ".join(VERDICTS), "fail precision", "fail recall",
        "fail on supported (false alarms)", "fail-or-uncertain recall",
        "fail-or-uncertain on supported",
    ]  # fmt: skip
    lines = [_md_row(head), "|---|---|---|" + "---:|" * (len(head) - 3)]
    for row in figs["rows"]:
        for framework, cell in row["frameworks"].items():
            v = cell["verdict"]
            lines.append(
                _md_row(
                    [
                        _row_name(row), row["split"], framework,
                        _verdict_counts(v["supported"]), _verdict_counts(v["unsupported"]),
                        _pct(v["fail_precision"]), _pct(v["fail_recall"]),
                        _pct(v["false_alarm_rate"]), _pct(v["fail_or_uncertain_recall"]),
                        _pct(v["fail_or_uncertain_false_alarm_rate"]),
                    ]
                )
            )  # fmt: skip
    return lines


def diagnosis_table(figs: Figures) -> list[str]:
    head = ["set", "split", "framework", "diagnoses (raised by)", "groundedness.kind"]
    lines = [_md_row(head), "|---|---|---|---|---|"]
    for row in figs["rows"]:
        for framework, cell in row["frameworks"].items():
            raised = ", ".join(f"{k} {n}" for k, n in cell["raised_by"].items())
            none = cell["diagnoses"].get("none", 0)
            text = ", ".join(filter(None, [raised, f"none {none}" if none else ""]))
            if cell["retrieval_miss_without_question"]:
                text = "**retrieval_miss without a question asked** - " + text
            kinds = ", ".join(f"{k} {n}" for k, n in cell["kinds"].items())
            lines.append(_md_row([_row_name(row), row["split"], framework, text, kinds]))
    return lines


def signal_table(figs: Figures) -> list[str]:
    cells = [c for r in figs["rows"] for c in r["frameworks"].values()]
    names = sorted({n for c in cells for n in c["signals"]})
    head = ["set", "split", "framework", *names]
    lines = [_md_row(head), "|---|---|---|" + "---|" * len(names)]
    for row in figs["rows"]:
        for framework, cell in row["frameworks"].items():
            cells = [_row_name(row), row["split"], framework]
            for name in names:
                s = cell["signals"].get(name)
                if s is None:
                    cells.append("absent")
                    continue
                rates = f"fail {_pct(s['fail_supported'])} / {_pct(s['fail_unsupported'])}"
                cells.append(rates if s["auroc"] is None else f"{s['auroc']:.3f}; {rates}")
            lines.append(_md_row(cells))
    return lines


def checks(figs: Figures) -> list[str]:
    """The issue's promise on summaries and chat, and anything that would skew the figures."""
    misses = [
        f"{r['set']} {r['split']} {f}: {c['retrieval_miss_without_question']}"
        for r in figs["rows"] if r["set"] != "begin"  # its sources are counted already
        for f, c in r["frameworks"].items() if c["retrieval_miss_without_question"]
    ]  # fmt: skip
    multi = [
        f"{r['set']} {r['split']} {f}: {c['model_spans']}"
        for r in figs["rows"]
        for f, c in r["frameworks"].items() if set(c["model_spans"]) != {"1"}
    ]  # fmt: skip
    return [
        "- `retrieval_miss` on a summary or dialogue trace (no retriever asked a question): "
        + ("none" if not misses else "**" + "; ".join(misses) + "**"),
        "- traces with other than one model span: " + ("none" if not multi else "; ".join(multi)),
    ]


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _git(*args: str) -> str:
    """Read-only git output ("" without git): no optional locks, so never the index's."""
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args], capture_output=True, text=True, cwd=ROOT
        )
    except OSError:
        return ""
    return done.stdout


def meta(argv: Sequence[str], seconds: float) -> dict[str, Any]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    commit = _git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = len(_git("status", "--porcelain", "--", "packages", "integrations").splitlines())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "uv run python " + " ".join(argv),
        "commit": commit,
        "uncommitted_package_files": changed,
        "python": platform.python_version(),
        "versions": versions,
        "seconds": round(seconds, 1),
        "bootstrap": {"resamples": RESAMPLES, "seed": SEED, "stratified": True},
        "heldout_share": realdata.HELDOUT_SHARE,
    }


def markdown(figs: Figures, argv: Sequence[str], seconds: float) -> str:
    m = meta(argv, seconds)
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        "# Quality signals on human-labelled data, through real pipelines",
        "",
        f"- date: {m['date']}; semtrace `{m['commit']}`"
        f" + {m['uncommitted_package_files']} uncommitted files under packages/ and"
        f" integrations/; Python {m['python']}",
        f"- command: `{m['command']}`; took {seconds / 60:.1f} min",
        f"- versions: {versions}",
        f"- split: by a hash of the source, {realdata.HELDOUT_SHARE:.0%} held out "
        "(`realdata.py`); tune on `dev` only",
        f"- AUROC: supported outputs expected to score higher; 95% interval from {RESAMPLES} "
        f"stratified bootstrap resamples (seed {SEED}); cases with no score left out "
        "(counted in brackets)",
        "",
        "## Checks",
        "",
        *checks(figs),
        "",
        "## Groundedness AUROC beside trivial baselines",
        "",
        *auroc_table(figs),
        "",
        "## The groundedness verdict (counts: " + " / ".join(VERDICTS) + ")",
        "",
        "`fail` as a detector of unsupported outputs; `none` = no groundedness on the trace"
        " (a refusal, or no source found): recall and false alarms count those cases too,"
        " as not flagged.",
        "",
        *verdict_table(figs),
        "",
        "## Diagnoses on the root spans",
        "",
        *diagnosis_table(figs),
        "",
        "## Every other signal: AUROC (scores), fail share on supported / unsupported",
        "",
        *signal_table(figs),
    ]
    return "\n".join(lines) + "\n"


def write(figs: Figures, text: str, argv: Sequence[str], seconds: float, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "real.md").write_text(text, encoding="utf-8")
    payload = {"meta": meta(argv, seconds), **figs}
    (out / "real.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
