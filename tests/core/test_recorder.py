"""The recorder's specification: what ``semtrace.Recorder`` promises about a run it records.

An integration tells the recorder that a run started (``start``) and ended (``end``); the
recorder turns the ended run into spans, metrics and quality signals. Each section below
states one promise, and its tests pin it down. The recorder is built with
``Telemetry.recorder(**settings)``: in-memory providers, settings stated by the test.

The promises that need a held worker or a held tokenizer to observe have modules of their
own: nothing waits on the caller's thread (``test_worker.py``), nothing waits for the
tokenizer (``test_deferred_end.py``), and what only the worker reads is translated there
(``test_lazy_records.py``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from semtrace import semconv
from semtrace._telemetry.tokens import TokenCounter, get_encoding, wait_until_loaded
from semtrace.config import CaptureMode
from semtrace.quality import signals
from semtrace.quality.signals import Thresholds
from semtrace.records import (
    AgentStart,
    RetrievalEnd,
    RetrievalStart,
    Usage,
    WorkflowStart,
)
from semtrace.safety import fault_count
from semtrace.testing import Telemetry

from tests.core.model_calls import answer, chat

ENCODING = "o200k_base"


# --- A fault in one step of a run's end loses that step only ------------------------------
# Each step of the end is guarded on its own: a step that fails is counted as a fault and
# adds nothing; the steps after it still run (the duration point is still recorded).


class _BrokenPrices:
    """A price table whose look-up fails, as a corrupt user table could."""

    def cost(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("price table broke")


def test_a_fault_in_usage_or_cost_keeps_the_duration_point(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(prices=_BrokenPrices())  # type: ignore[arg-type]
    before = fault_count("Recorder.end usage")
    recorder.start("call", None, chat())
    recorder.end("call", answer(Usage(input_tokens=3, output_tokens=1)))
    (point,) = telemetry.metric_points(semconv.METRIC_OPERATION_DURATION)  # drains the worker
    assert fault_count("Recorder.end usage") == before + 1
    assert point.count == 1
    assert point.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


# --- Token counts are the same whichever thread counts them -------------------------------
# Runs end on many threads (the app's, the worker): the counter's cache is shared by all.


class _RendezvousEncoding:
    """The real encoding, but two threads meet inside it: both miss the cache together."""

    def __init__(self, encoding: Any) -> None:
        self._encoding = encoding
        self._barrier = threading.Barrier(2, timeout=10)

    def encode_ordinary(self, text: str) -> list[int]:
        self._barrier.wait()
        return list(self._encoding.encode_ordinary(text))


def test_token_counter_cache_stays_consistent_across_threads() -> None:
    assert wait_until_loaded(ENCODING)
    counter = TokenCounter(ENCODING)
    encoding = _RendezvousEncoding(get_encoding(ENCODING))
    text = "A retrieved chunk that both threads count at the same time, " * 2
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: counter._encode_len(encoding, ENCODING, text), range(2)))
    assert counts[0] == counts[1] > 0
    assert counter._cached_chars == sum(len(t) for _, t in counter._cache)


# --- Quality labels follow the thresholds the recorder was given --------------------------
# The same thresholds label a signal computed on its own and one the recorder sets on a span.


def test_an_empty_retrieval_is_labelled_by_the_thresholds(telemetry: Telemetry) -> None:
    lenient = Thresholds(retrieval_relevance=0.0, retrieval_relevance_pass=0.0)
    evaluations = signals.after_retrieval("capital?", RetrievalEnd([]), None, lenient)  # type: ignore[arg-type]
    relevance = next(e for e in evaluations if e.name == signals.RETRIEVAL_RELEVANCE)
    assert (relevance.value, relevance.label) == (0.0, "pass")
    recorder = telemetry.recorder(thresholds=lenient)
    recorder.start("r", None, RetrievalStart("capital?"))
    recorder.end("r", RetrievalEnd([]))
    (span,) = telemetry.spans()
    key = semconv.SEMTRACE_QUALITY_PREFIX + signals.RETRIEVAL_RELEVANCE
    assert span.attributes[key + ".label"] == "pass"


# --- Plumbing that turns out to be an agent gets its agent span from its start ------------
# A graph nested in another is skipped as plumbing; it is known for an agent only when its
# first step starts (``promote``). Its span is then started as of the skipped run's start,
# under the skipped run's nearest recorded ancestor, and what starts after nests under it.


def test_a_skipped_run_promoted_to_an_agent_gets_its_span_under_its_recorded_ancestor(
    telemetry: Telemetry,
) -> None:
    recorder = telemetry.recorder(capture=CaptureMode.SPAN_ONLY)
    recorder.start("team", None, WorkflowStart("team"))
    recorder.skip("node", "team")
    recorder.skip("graph", "node", "researcher", {"question": "capital?"})
    recorder.promote("graph", AgentStart(name=""))
    recorder.start("call", "graph", chat())
    recorder.end("call", answer())
    for run in ("graph", "node", "team"):
        recorder.end(run)
    assert telemetry.tree() == [
        "invoke_workflow team",
        "  invoke_agent researcher",
        "    chat gpt-4o-mini",
    ]
    agent = telemetry.span("invoke_agent researcher")
    assert agent.attributes[semconv.GEN_AI_AGENT_NAME] == "researcher"
    assert "capital?" in agent.attributes[semconv.SEMTRACE_INPUT_VALUE]
    assert recorder.open_runs == 0


def test_a_promoted_skipped_run_starts_when_it_was_skipped(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder()
    recorder.start("team", None, WorkflowStart("team"))
    recorder.skip("graph", "team", "researcher")
    recorder.start("before", "graph", chat())  # before the graph is known for an agent
    recorder.end("before", answer())
    recorder.promote("graph", AgentStart(name=""))
    recorder.end("graph")
    recorder.end("team")
    agent = telemetry.span("invoke_agent researcher")
    [before] = telemetry.by_operation("chat")
    assert agent.start_time <= before.start_time
    assert telemetry.parent_of(before).name == "invoke_workflow team"  # started elsewhere


def test_a_promoted_skipped_run_honours_drop_operations(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(drop_operations={"invoke_agent"})
    recorder.start("team", None, WorkflowStart("team"))
    recorder.skip("graph", "team", "researcher")
    recorder.promote("graph", AgentStart(name=""))
    recorder.start("call", "graph", chat())
    recorder.end("call", answer())
    recorder.end("graph")
    recorder.end("team")
    assert telemetry.tree() == ["invoke_workflow team", "  chat gpt-4o-mini"]
    assert recorder.open_runs == 0


def test_a_run_dropped_for_good_is_not_promoted(telemetry: Telemetry) -> None:
    recorder = telemetry.recorder(drop_operations={"invoke_workflow"})
    recorder.start("graph", None, WorkflowStart("team"))
    recorder.promote("graph", AgentStart(name="researcher"))
    recorder.start("call", "graph", chat())
    recorder.end("call", answer())
    recorder.end("graph")
    assert telemetry.tree() == ["chat gpt-4o-mini"]
