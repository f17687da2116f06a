"""The per-span shortcuts of the tracker: one cached ``identify`` and the table's ``release``."""

from __future__ import annotations

import time
import uuid

from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from semtrace_llamaindex import classify
from semtrace_llamaindex.classify import Kind, Op
from semtrace_llamaindex.table import OpenSpan, SpanTable


def _span_id(name: str) -> str:
    return f"{name}-{uuid.uuid4()}"


def test_identify_answers_as_split_id_and_entry_kind_do() -> None:
    cases = [
        (_span_id("MockLLM.complete"), MockLLM()),
        (_span_id("MockLLM.predict"), MockLLM()),
        (_span_id("MockEmbedding.get_query_embedding"), MockEmbedding(embed_dim=2)),
        (_span_id("Dispatcher.span.<locals>.helper"), None),
        ("no-uuid-suffix", None),
    ]
    for span_id, instance in cases:
        for _ in range(2):  # the second answer comes from the cache
            name, method = classify.split_id(span_id)
            expected = (name, method, classify.entry_kind(instance, method))
            assert classify.identify(span_id, instance) == expected


def test_identify_tells_apart_classes_with_the_same_span_name() -> None:
    span_id = _span_id("Thing.complete")
    assert classify.identify(span_id, MockLLM())[2] is Kind.LLM
    assert classify.identify(span_id, object())[2] is Kind.OTHER


def test_identify_cache_stays_bounded() -> None:
    for n in range(classify._MAX_IDENTITIES + 10):
        classify.identify(_span_id(f"Generated{n}.run"), None)
    assert len(classify._IDENTITIES) <= classify._MAX_IDENTITIES


def _open_span(span_id: str) -> OpenSpan:
    return OpenSpan(span_id, None, "LLM.stream", "stream", Kind.LLM, Op.MODEL, None, None, 0)


def test_release_ends_a_span_on_its_last_hold_only() -> None:
    table = SpanTable(max_open=10, timeout_s=60)
    span = _open_span("a")
    span.holds = 2
    table.add(span.id, span)
    assert table.release(span) is False
    assert table.find("a") is span
    assert table.release(span) is True
    assert table.find("a") is None
    assert table.release(span) is False  # already gone: never ended twice


def test_release_forgets_a_stream_awaiting_its_first_chunk() -> None:
    table = SpanTable(max_open=10, timeout_s=60)
    span = _open_span("a")
    table.add(span.id, span)
    key = table.stream_key(1, None)
    table.await_first_chunk(span, key)
    assert table.awaiting(key) == "a"
    assert table.release(span) is True
    assert table.awaiting(key) is None


def test_add_evicts_the_oldest_past_the_bound_and_unindexes_it() -> None:
    table = SpanTable(max_open=1, timeout_s=60)
    old = _open_span("old")
    table.add(old.id, old)
    table.await_first_chunk(old, ("k", None))
    new = _open_span("new")
    new.created = time.monotonic() + 1
    assert table.add(new.id, new) == [old]
    assert table.awaiting(("k", None)) is None
    assert table.find("old") is None
