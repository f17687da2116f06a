"""Promise 4: concurrent invocations never mix their spans.

1,000 invocations gathered on one event loop, and invocations from a pool of 16 threads,
for each framework. Each invocation is tagged with its own ``session.id`` (through
``semtrace.context``, which puts it on every span of the run), so the exported spans
can be grouped by invocation and checked:

* every invocation's spans share one trace id, different from every other invocation's;
* each invocation has its full set of spans (none lost, none borrowed);
* zero orphans: every non-root span's parent is among the exported spans of its trace;
* zero "Failed to detach context" log records;
* nothing is left current afterwards.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import semtrace
from langchain_core.messages import AIMessage
from opentelemetry import trace
from semtrace.testing import Telemetry

from tests.hardening.scenarios import instrumented, li_index
from tests.langchain.pipelines import ANSWER as LC_ANSWER
from tests.langchain.pipelines import QUESTION as LC_QUESTION
from tests.langchain.pipelines import FakeChat, rag_chain
from tests.llamaindex.fakes import ANSWER as LI_ANSWER
from tests.llamaindex.fakes import QUESTION as LI_QUESTION
from tests.llamaindex.fakes import AnswerLLM

GATHERED = 1_000
THREADS = 16
THREADED = 320
SESSION = "session.id"


def lc_chain() -> Any:
    # One chain shared by every invocation, as an application would.
    return rag_chain(FakeChat(messages=itertools.cycle([AIMessage(content=LC_ANSWER)])))


def li_engine() -> Any:
    return li_index().as_query_engine(llm=AnswerLLM(), similarity_top_k=2)


#: framework -> (make the shared pipeline, sync call, async call, answer, spans per call)
PIPELINES: dict[str, tuple[Callable[[], Any], Any, Any, str, int]] = {
    "langchain": (
        lc_chain,
        lambda p, h, q: p.invoke(q, config={"callbacks": [h]}),
        lambda p, h, q: p.ainvoke(q, config={"callbacks": [h]}),
        LC_ANSWER,
        3,  # invoke_workflow > retrieval, chat
    ),
    "llamaindex": (
        li_engine,
        lambda p, h, q: str(p.query(q)),
        lambda p, h, q: p.aquery(q),
        LI_ANSWER,
        4,  # invoke_workflow > retrieval > embeddings, text_completion
    ),
}
QUESTIONS = {"langchain": LC_QUESTION, "llamaindex": LI_QUESTION}


def check_isolation(telemetry: Telemetry, sessions: list[str], spans_per_call: int) -> None:
    by_session: dict[str, list[Any]] = collections.defaultdict(list)
    by_trace: dict[int, list[Any]] = collections.defaultdict(list)
    for span in telemetry.spans():
        by_session[str((span.attributes or {}).get(SESSION))].append(span)
        by_trace[span.context.trace_id].append(span)
    assert sorted(by_session) == sorted(sessions), "spans without their invocation's session.id"
    wrong_trace = {
        s: len({sp.context.trace_id for sp in spans})
        for s, spans in by_session.items()
        if len({sp.context.trace_id for sp in spans}) != 1
    }
    assert not wrong_trace, f"invocations whose spans span several traces: {wrong_trace}"
    assert len(by_trace) == len(sessions), "two invocations share a trace"
    incomplete = {s: len(v) for s, v in by_session.items() if len(v) != spans_per_call}
    assert not incomplete, f"invocations with missing or extra spans: {incomplete}"
    orphans = [
        span.name
        for spans in by_trace.values()
        for span in spans
        if span.parent is not None and span.parent.span_id not in {s.context.span_id for s in spans}
    ]
    assert not orphans, f"{len(orphans)} orphans: {orphans[:5]}"
    roots = [s for s in telemetry.spans() if s.parent is None]
    assert len(roots) == len(sessions)


def no_detach_failures(caplog: pytest.LogCaptureFixture) -> None:
    failures = [r for r in caplog.records if "Failed to detach context" in r.getMessage()]
    assert not failures, f"{len(failures)} 'Failed to detach context' records"


@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_gathered_invocations_each_get_their_own_trace(
    framework: str, telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    make, _, acall, answer, spans_per_call = PIPELINES[framework]
    caplog.set_level(logging.ERROR)
    sessions = [f"{framework}-async-{i}" for i in range(GATHERED)]
    with instrumented(framework, telemetry, semtrace.Settings()) as handle:
        pipeline = make()

        async def one(session: str) -> Any:
            with semtrace.context(session_id=session):
                return await acall(pipeline, handle, f"{QUESTIONS[framework]} ({session})")

        async def every() -> list[Any]:
            return await asyncio.gather(*(one(s) for s in sessions))

        results = asyncio.run(every())
    assert [str(r) for r in results] == [answer] * GATHERED
    check_isolation(telemetry, sessions, spans_per_call)
    no_detach_failures(caplog)
    assert not trace.get_current_span().get_span_context().is_valid


@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_invocations_from_a_thread_pool_each_get_their_own_trace(
    framework: str, telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    make, call, _, answer, spans_per_call = PIPELINES[framework]
    caplog.set_level(logging.ERROR)
    sessions = [f"{framework}-thread-{i}" for i in range(THREADED)]
    with instrumented(framework, telemetry, semtrace.Settings()) as handle:
        pipeline = make()

        def one(session: str) -> Any:
            with semtrace.context(session_id=session):
                return call(pipeline, handle, f"{QUESTIONS[framework]} ({session})")

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(one, sessions))
    assert [str(r) for r in results] == [answer] * THREADED
    check_isolation(telemetry, sessions, spans_per_call)
    no_detach_failures(caplog)
    assert not trace.get_current_span().get_span_context().is_valid
