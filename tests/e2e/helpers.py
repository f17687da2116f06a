"""Shared by the e2e tests: run the examples as users do, and compare span trees.

Spans are plain dicts shaped like Phoenix's REST API (``name``, ``context.trace_id`` /
``context.span_id`` or top-level ``trace_id`` / ``span_id``, ``parent_id``, ``attributes``,
``events``); ``quickstart_driver.py`` dumps in-process spans in the same shape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from backends import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
DRIVER = Path(__file__).resolve().parent / "quickstart_driver.py"

#: Attribute prefixes semtrace writes; Phoenix adds its own (llm.*, openinference.*, ...).
OURS = ("gen_ai.", "semtrace.", "error.")

#: What the e2e tests may set; everything else OTEL_*/SEMTRACE_* is dropped from the child env.
RUN_TIMEOUT = float(os.environ.get("SEMTRACE_E2E_RUN_TIMEOUT", "180"))


def child_env(**env: str) -> dict[str, str]:
    """The test's environment without OTEL_*/SEMTRACE_* variables, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    clean.update(env)
    return clean


def run_python(
    argv: Sequence[str], env: Mapping[str, str], timeout: float = RUN_TIMEOUT, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    """Run the project's interpreter with ``argv``; fail with its output if it exits non-zero."""
    result = subprocess.run(
        [sys.executable, *argv],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{argv} exited {result.returncode}\n--- stdout ---\n{result.stdout[-3000:]}"
        f"\n--- stderr ---\n{result.stderr[-5000:]}"
    )
    assert "Traceback (most recent call last)" not in result.stderr, result.stderr[-5000:]
    return result


def span_id(span: Mapping[str, Any]) -> str:
    return str(span["context"]["span_id"] if "context" in span else span["span_id"])


def trace_id(span: Mapping[str, Any]) -> str:
    return str(span["context"]["trace_id"] if "context" in span else span["trace_id"])


def tree_paths(spans: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each span as ``root > ... > name`` (names from its root down), sorted.

    Two span lists with equal paths have the same names with the same parents, whatever
    order concurrent siblings started in. A parent missing from the list shows as ``?``.
    """
    spans = list(spans)
    by_id = {span_id(s): s for s in spans}
    paths = []
    for span in spans:
        names = [span["name"]]
        parent = span.get("parent_id")
        while parent:
            if parent not in by_id:
                names.append("?")
                break
            names.append(by_id[parent]["name"])
            parent = by_id[parent].get("parent_id")
        paths.append(" > ".join(reversed(names)))
    return sorted(paths)


def ours(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k.startswith(OURS)}


def events(span: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The span's events as sorted (name, canonical JSON of its attributes) pairs."""
    return sorted(
        (e["name"], json.dumps(e.get("attributes") or {}, sort_keys=True))
        for e in span.get("events") or []
    )


def assert_same_spans(got: Sequence[Mapping[str, Any]], sent: Sequence[Mapping[str, Any]]) -> None:
    """Phoenix's spans ``got`` are exactly the in-process spans ``sent``.

    Same span ids, trace ids, parents and names; every gen_ai.* / semtrace.* attribute with the
    same value (nothing lost, nothing changed); the same events.
    """
    got_by_id = {span_id(s): s for s in got}
    sent_by_id = {span_id(s): s for s in sent}
    assert len(got_by_id) == len(got), "Phoenix returned a span twice"
    missing = [sent_by_id[i]["name"] for i in sent_by_id.keys() - got_by_id.keys()]
    extra = [got_by_id[i]["name"] for i in got_by_id.keys() - sent_by_id.keys()]
    assert not missing and not extra, f"missing in Phoenix: {missing}; unexpected: {extra}"
    for sid, want in sent_by_id.items():
        have = got_by_id[sid]
        name = want["name"]
        assert have["name"] == name
        assert trace_id(have) == trace_id(want), name
        assert have.get("parent_id") == want.get("parent_id"), name
        assert ours(have["attributes"]) == ours(want["attributes"]), name
        assert events(have) == events(want), name


def assert_token_counts_shown(got: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Phoenix's token counts (``llm.token_count.*``) are the ones the spans carry.

    Returns the spans with ``gen_ai.usage.*`` (at least one is expected).
    """
    with_usage = [s for s in got if "gen_ai.usage.input_tokens" in s["attributes"]]
    assert with_usage, f"no span carries gen_ai.usage.*: {[s['name'] for s in got]}"
    for span in with_usage:
        a = span["attributes"]
        assert a["semtrace.usage.source"] in ("provider", "tiktoken"), a
        if a.get("gen_ai.operation.name") != "chat":
            continue  # Phoenix derives llm.token_count.* for LLM spans only
        assert a["llm.token_count.prompt"] == a["gen_ai.usage.input_tokens"], a
        assert a["llm.token_count.completion"] == a["gen_ai.usage.output_tokens"], a
        assert a["llm.token_count.total"] == (
            a["gen_ai.usage.input_tokens"] + a["gen_ai.usage.output_tokens"]
        ), a
    return with_usage


def counts(names: Iterable[str]) -> dict[str, int]:
    return dict(Counter(names))
