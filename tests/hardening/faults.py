"""The faults injected by the fault-injection suite: one place that raises, each.

A fault replaces one function (semtrace's own entry points and helpers, the SDK's
tracer, span, meter and exporter, tiktoken's encoder) by one that counts its calls
and raises :class:`InjectedFault`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class InjectedFault(RuntimeError):
    """Raised by an injected fault; never expected to reach the application."""


class Scope(enum.Enum):
    """What the span lifecycle can still promise when this fault fires."""

    #: A helper semtrace calls failed: every span that started must still end, once.
    INTERNAL = "internal"
    #: An entry point itself is broken: spans it should have ended end on shutdown.
    ENTRY = "entry"


@dataclass(frozen=True)
class Tried:
    """One fault-injection case that ran: the fault, the scenario, how often it fired."""

    fault: str
    scenario: str
    hits: int


#: The cases run in this session (the suite's conftest prints the count).
TRIED: list[Tried] = []


def _recorder() -> Any:
    from semtrace._recording.recorder import Recorder

    return Recorder


def _operations() -> tuple[Any, ...]:
    """Every operation class: a fault in ``describe`` is one in each operation's."""
    from semtrace._telemetry import operations

    return tuple({type(o) for o in operations._OPERATIONS.values()} | {operations.Operation})


def _counter() -> Any:
    from semtrace._telemetry.tokens import TokenCounter

    return TokenCounter


def _tokens() -> Any:
    from semtrace._telemetry import tokens

    return tokens


def _signals() -> Any:
    from semtrace.quality import signals

    return signals


def _policy() -> Any:
    from semtrace._telemetry.content import ContentPolicy

    return ContentPolicy


def _tracer() -> Any:
    from opentelemetry.sdk.trace import Tracer

    return Tracer


def _span() -> Any:
    from opentelemetry.sdk.trace import Span

    return Span


def _histogram() -> Any:
    from opentelemetry.sdk.metrics._internal.instrument import Histogram

    return Histogram


def _counter_instrument() -> Any:
    from opentelemetry.sdk.metrics._internal.instrument import Counter

    return Counter


def _encoding() -> Any:
    from tiktoken.core import Encoding

    return Encoding


def owners(fault: Fault, exporter: Any) -> list[Any]:
    """What the fault patches: one owner, or each class of a family that defines the method."""
    if fault.owner is None:
        return [exporter]
    found = fault.owner()
    if not isinstance(found, tuple):
        return [found]
    return [cls for cls in found if fault.attribute in vars(cls)]


@dataclass
class Fault:
    """``owner().attribute`` raises while the fault is injected."""

    id: str
    owner: Callable[[], Any] | None  # None: the test's own exporter instance
    attribute: str
    scope: Scope = Scope.INTERNAL
    #: Run the real function first, then raise (an SDK span processor raising in ``on_end``).
    after_original: bool = False
    hits: int = field(default=0, compare=False)

    def raiser(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def boom(*args: Any, **kwargs: Any) -> Any:
            if self.after_original:
                original(*args, **kwargs)
            self.hits += 1
            raise InjectedFault(self.id)

        return boom


def catalogue() -> list[Fault]:
    """Every fault, fresh (hit counts at zero)."""
    entry = [
        Fault(f"Recorder.{m}", _recorder, m, Scope.ENTRY)
        for m in ("start", "skip", "end", "fail", "cancel", "chunk", "promote", "activate")
    ]
    internal = [
        *(
            Fault(f"operations.{f}", _operations, f)
            for f in ("describe", "at_end", "content_at_start", "content_at_end")
        ),
        *(
            Fault(f"TokenCounter.{m}", _counter, m)
            for m in ("count_input", "count_output", "count_texts")
        ),
        Fault("tokens.get_encoding", _tokens, "get_encoding"),
        Fault("signals.after_retrieval", _signals, "after_retrieval"),
        Fault("signals.after_model", _signals, "after_model"),
        *(
            Fault(f"ContentPolicy.{m}", _policy, m)
            for m in (
                "text",
                "messages_json",
                "system_instructions_json",
                "tools_json",
                "documents_json",
                "value_json",
            )
        ),
        Fault("sdk.Tracer.start_span", _tracer, "start_span"),
        *(
            Fault(f"sdk.Span.{m}", _span, m)
            for m in (
                "set_attributes",
                "set_attribute",
                "add_event",
                "set_status",
                # No record_exception: semtrace writes the exception event with add_event,
                # bounded (the SDK's would format the whole error first).
                "update_name",
            )
        ),
        Fault("sdk.Histogram.record", _histogram, "record"),
        Fault("sdk.Counter.add", _counter_instrument, "add"),
        Fault("tiktoken.Encoding.encode_ordinary", _encoding, "encode_ordinary"),
        Fault("exporter.export", None, "export"),
    ]
    # The SDK's Span.end calls every span processor's on_end with no guard: a processor
    # that raises makes Span.end raise after the span has ended.
    span_end = Fault("sdk.Span.end", _span, "end", after_original=True)
    return [*entry, *internal, span_end]


#: Where each fault's function is called, from ``probe()`` (regenerate with
#: ``uv run python -m tests.hardening.faults``): faults called by only a few scenarios...
ONLY_IN: dict[str, tuple[str, ...]] = {
    # LlamaIndex starts a span under its nearest recorded ancestor: it never skips.
    "Recorder.skip": (
        "lc-rag-tool",
        "lc-rag-tool-async",
        "lc-stream",
        "lc-astream",
        "lc-abandoned-stream",
        "lc-abandoned-astream",
        "lc-completion",
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "lc-agent",
        "lc-react-agent-async",
        "lc-agent-tool-error",
    ),
    "Recorder.fail": (
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "lc-agent-tool-error",
        "li-model-error",
        "li-model-error-async",
        "li-agent-tool-error",
    ),
    "Recorder.cancel": ("lc-abandoned-astream", "li-abandoned-stream", "li-workflow-cancelled"),
    "Recorder.chunk": (
        "lc-stream",
        "lc-astream",
        "lc-abandoned-stream",
        "lc-abandoned-astream",
        "li-query-stream",
        "li-query-astream",
        "li-abandoned-stream",
        "li-stream-chat",
        "li-agent-tool-call",
        "li-llm-astream",
    ),
    "Recorder.promote": ("lc-react-agent-async",),
    "Recorder.activate": (
        "lc-rag-tool",
        "lc-rag-tool-async",
        "lc-completion",
        "lc-model-error",
        "lc-model-error-async",
        "lc-agent",
        "lc-react-agent-async",
        "lc-agent-tool-error",
        "li-query-stream",
        "li-query-astream",
        "li-abandoned-stream",
    ),
    "TokenCounter.count_texts": (
        "li-query",
        "li-query-async",
        "li-query-rerank",
        "li-query-stream",
        "li-query-astream",
        "li-abandoned-stream",
        "li-model-error",
        "li-model-error-async",
        "li-chat",
        "li-chat-async",
        "li-retrieve",
        "li-retrieve-async",
        "li-embed",
        "li-embed-async",
    ),
    "ContentPolicy.system_instructions_json": (
        "lc-rag-tool",
        "lc-rag-tool-async",
        "lc-stream",
        "lc-astream",
        "lc-abandoned-stream",
        "lc-abandoned-astream",
        "lc-model-error",
        "lc-model-error-async",
        "li-query-async",
        "li-chat",
        "li-chat-async",
    ),
    "ContentPolicy.tools_json": ("li-agent-tool-call", "li-agent-tool-error"),
    "sdk.Span.set_status": (
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "lc-agent-tool-error",
        "li-model-error",
        "li-model-error-async",
        "li-agent-tool-error",
    ),
    "sdk.Span.update_name": ("lc-react-agent-async",),
    "sdk.Counter.add": (
        "lc-rag-tool",
        "lc-rag-tool-async",
        "lc-stream",
        "lc-astream",
        "lc-abandoned-stream",
        "lc-agent",
        "lc-react-agent-async",
        "lc-agent-tool-error",
    ),
}
#: ...and faults called by all scenarios but these.
NOT_IN: dict[str, tuple[str, ...]] = {
    "Recorder.start": (),
    "Recorder.end": ("li-workflow-cancelled",),
    "operations.describe": (),
    "operations.at_end": ("lc-retriever-error", "li-workflow-cancelled"),
    "operations.content_at_start": (),
    "operations.content_at_end": ("lc-retriever-error", "li-workflow-cancelled"),
    "TokenCounter.count_input": (
        "lc-abandoned-astream",
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "li-abandoned-stream",
        "li-model-error",
        "li-model-error-async",
        "li-retrieve",
        "li-retrieve-async",
        "li-embed",
        "li-embed-async",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "TokenCounter.count_output": (
        "lc-abandoned-astream",
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "li-abandoned-stream",
        "li-model-error",
        "li-model-error-async",
        "li-retrieve",
        "li-retrieve-async",
        "li-embed",
        "li-embed-async",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "tokens.get_encoding": (
        "lc-abandoned-astream",
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "signals.after_retrieval": (
        "lc-completion",
        "lc-retriever-error",
        "lc-agent",
        "lc-react-agent-async",
        "lc-agent-tool-error",
        "li-stream-chat",
        "li-embed",
        "li-embed-async",
        "li-agent-tool-call",
        "li-agent-tool-error",
        "li-workflow-cancelled",
        "li-tool",
        "li-llm-astream",
    ),
    "signals.after_model": (
        "lc-abandoned-astream",
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "li-abandoned-stream",
        "li-model-error",
        "li-model-error-async",
        "li-retrieve",
        "li-retrieve-async",
        "li-embed",
        "li-embed-async",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "ContentPolicy.text": (
        "lc-agent-tool-error",
        "li-embed",
        "li-embed-async",
        "li-workflow-cancelled",
        "li-llm-astream",
        "li-tool",  # the tool returns a number: written as JSON, not as text
    ),
    "ContentPolicy.messages_json": (
        "lc-retriever-error",
        "li-retrieve",
        "li-retrieve-async",
        "li-embed",
        "li-embed-async",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "ContentPolicy.documents_json": (
        "lc-completion",
        "lc-retriever-error",
        "lc-agent",
        "lc-react-agent-async",
        "lc-agent-tool-error",
        "li-stream-chat",
        "li-embed",
        "li-embed-async",
        "li-agent-tool-call",
        "li-agent-tool-error",
        "li-workflow-cancelled",
        "li-tool",
        "li-llm-astream",
    ),
    "ContentPolicy.value_json": ("li-workflow-cancelled", "li-llm-astream"),
    "sdk.Tracer.start_span": (),
    "sdk.Span.set_attributes": (),
    "sdk.Span.set_attribute": (
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "li-tool",
    ),
    "sdk.Span.add_event": (
        "lc-abandoned-astream",
        # By hand: an evaluation event is recorded only for a failing signal, and how much
        # of this abandoned stream's answer was read before it was collected varies.
        "li-abandoned-stream",
        "li-embed",
        "li-embed-async",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "sdk.Histogram.record": ("lc-retriever-error", "li-workflow-cancelled", "li-tool"),
    "tiktoken.Encoding.encode_ordinary": (
        "lc-abandoned-astream",
        "lc-model-error",
        "lc-model-error-async",
        "lc-retriever-error",
        "li-workflow-cancelled",
        "li-tool",
    ),
    "exporter.export": (),
    "sdk.Span.end": (),
}


def reached(fault_id: str, scenario_id: str) -> bool:
    """Whether the scenario calls the fault's function (so the fault fires)."""
    if fault_id in ONLY_IN:
        return scenario_id in ONLY_IN[fault_id]
    return scenario_id not in NOT_IN[fault_id]


def probe(scenario_ids: list[str] | None = None) -> dict[str, list[str]]:
    """Which scenarios reach each fault's function (spies that count, never raise).

    Regenerates :data:`REACHED` (``uv run python -m tests.hardening.faults``).
    """
    import pytest
    from semtrace import _worker as worker
    from semtrace.testing import Telemetry

    from tests.hardening import scenarios

    reached: dict[str, list[str]] = {f.id: [] for f in catalogue()}
    for scenario in scenarios.SCENARIOS:
        if scenario_ids is not None and scenario.id not in scenario_ids:
            continue
        telemetry = Telemetry()
        calls: dict[str, int] = {}
        patch = pytest.MonkeyPatch()
        with scenarios.instrumented(scenario.framework, telemetry) as handle:
            for fault in catalogue():
                for owner in owners(fault, telemetry.exporter):
                    patch.setattr(
                        owner,
                        fault.attribute,
                        _spy(fault.id, getattr(owner, fault.attribute), calls),
                    )
            try:
                scenario(handle)
                worker.drain()  # the worker's part of the runs calls them too
            finally:
                patch.undo()
        telemetry.shutdown()
        for fault_id in calls:
            reached[fault_id].append(scenario.id)
    return reached


def _spy(fault_id: str, original: Callable[..., Any], calls: dict[str, int]) -> Callable[..., Any]:
    def spy(*args: Any, **kwargs: Any) -> Any:
        calls[fault_id] = calls.get(fault_id, 0) + 1
        return original(*args, **kwargs)

    return spy


if __name__ == "__main__":
    import tests.conftest  # noqa: F401  (the offline tiktoken cache)
    from tests.hardening import scenarios

    found = probe()
    every = [s.id for s in scenarios.SCENARIOS]
    print("ONLY_IN = {")
    for fault_id, where in found.items():
        if len(where) < len(every) / 2:
            print(f"    {fault_id!r}: {tuple(where)!r},")
    print("}\nNOT_IN = {")
    for fault_id, where in found.items():
        if len(where) >= len(every) / 2:
            print(f"    {fault_id!r}: {tuple(s for s in every if s not in where)!r},")
    print("}")
