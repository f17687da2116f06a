"""The LlamaIndex span table's one walk up the dispatcher's tree."""

from __future__ import annotations

from semtrace_llamaindex.classify import Kind, Op
from semtrace_llamaindex.table import ANCESTOR_DEPTH, OpenSpan, SpanTable


def _span(span_id: str, parent: str | None) -> OpenSpan:
    return OpenSpan(span_id, parent, span_id, "run", Kind.OTHER, Op.SKIP, None, None, 0)


def _chain(table: SpanTable, length: int) -> OpenSpan:
    """``s0 <- s1 <- ... <- s{length-1}``; returns the deepest."""
    parent = None
    for i in range(length):
        span = _span(f"s{i}", parent)
        table.add(span.id, span)
        parent = span.id
    return span


def test_the_walk_yields_the_ancestors_nearest_first() -> None:
    table = SpanTable(max_open=100, timeout_s=60)
    deepest = _chain(table, 4)
    assert [s.id for s in table.above(deepest)] == ["s2", "s1", "s0"]


def test_the_walk_stops_at_its_depth_however_deep_the_tree() -> None:
    table = SpanTable(max_open=100, timeout_s=60)
    deepest = _chain(table, ANCESTOR_DEPTH + 5)
    assert len(list(table.above(deepest))) == ANCESTOR_DEPTH


def test_the_walk_stops_at_a_parent_no_longer_in_the_table() -> None:
    table = SpanTable(max_open=100, timeout_s=60)
    deepest = _chain(table, 4)
    table.pop("s1")
    assert [s.id for s in table.above(deepest)] == ["s2"]
