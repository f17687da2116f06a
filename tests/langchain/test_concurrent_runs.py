"""Parenting comes from run ids, so concurrent runs never mix their spans."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from langchain_core.runnables import RunnableLambda, RunnableParallel
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import ANSWER, QUESTION, fake_chat, rag_chain


def assert_separate_rag_traces(telemetry: Telemetry, count: int) -> None:
    roots = telemetry.by_operation("invoke_workflow")
    assert len(roots) == count
    assert len({r.context.trace_id for r in roots}) == count
    for root in roots:
        members = [s for s in telemetry.spans() if s.context.trace_id == root.context.trace_id]
        assert sorted(s.attributes["gen_ai.operation.name"] for s in members) == [
            "chat",
            "invoke_workflow",
            "retrieval",
        ]
        for span in members:
            if span is not root:
                assert telemetry.parent_of(span) is root


async def test_gathered_ainvokes_each_get_their_own_trace(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    chains = [rag_chain(fake_chat(ANSWER)) for _ in range(20)]
    results = await asyncio.gather(
        *(c.ainvoke(QUESTION, config={"callbacks": [handler]}) for c in chains)
    )
    assert results == [ANSWER] * 20
    assert_separate_rag_traces(telemetry, 20)
    assert handler.recorder.open_runs == 0


def test_batch_gives_one_trace_per_input(telemetry: Telemetry, handler: CallbackHandler) -> None:
    chain = rag_chain(fake_chat(*[ANSWER] * 6))
    chain.batch([QUESTION] * 6, config={"callbacks": [handler]})
    assert_separate_rag_traces(telemetry, 6)


async def test_abatch_gives_one_trace_per_input(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    chain = rag_chain(fake_chat(*[ANSWER] * 6))
    await chain.abatch([QUESTION] * 6, config={"callbacks": [handler]})
    assert_separate_rag_traces(telemetry, 6)


def test_runnable_parallel_branches_in_threads_parent_to_the_workflow(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    branches = RunnableParallel(a=fake_chat("one"), b=fake_chat("two"), c=fake_chat("three"))
    out = branches.invoke("hi", config={"callbacks": [handler]})
    assert {m.content for m in out.values()} == {"one", "two", "three"}
    root = telemetry.span("invoke_workflow RunnableParallel<a,b,c>")
    chats = telemetry.by_operation("chat")
    assert len(chats) == 3 and all(telemetry.parent_of(c) is root for c in chats)


def test_invokes_from_many_threads_never_share_a_trace(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    def run(i: int) -> str:
        return rag_chain(fake_chat(ANSWER)).invoke(QUESTION, config={"callbacks": [handler]})

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(run, range(24))) == [ANSWER] * 24
    assert_separate_rag_traces(telemetry, 24)


async def test_async_nested_chains_keep_their_parents(
    telemetry: Telemetry, handler: CallbackHandler
) -> None:
    async def slow(x: str) -> str:
        await asyncio.sleep(0.001)
        return await fake_chat(x).ainvoke(x)

    chain = RunnableLambda(slow)
    await asyncio.gather(
        *(chain.ainvoke(f"q{i}", config={"callbacks": [handler]}) for i in range(10))
    )
    roots = telemetry.by_operation("invoke_workflow")
    chats = telemetry.by_operation("chat")
    assert len(roots) == 10 and len(chats) == 10
    assert {telemetry.parent_of(c).context.span_id for c in chats} == {
        r.context.span_id for r in roots
    }
