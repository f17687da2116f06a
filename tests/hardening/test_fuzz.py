"""Promise 5: any payload a framework hands over is recorded safely, or not at all.

Hypothesis feeds the LangChain callbacks and the LlamaIndex span and event handlers
(through LlamaIndex's own dispatcher) arbitrary payloads in every argument: None,
huge strings, lone surrogates, deep and cyclic structures, bytes, NaN and infinities,
huge integers, objects whose ``__repr__``/``__str__`` raise, non-string dict keys and
messages of unknown types, inside real framework objects built without validation.

For every example: nothing escapes; every span and event attribute is a valid
OpenTelemetry attribute value (str, bool, int, float or a homogeneous sequence of one
of them; strings encodable as UTF-8, as OTLP requires); content attributes stay within
``max_content_length`` and the JSON ones still parse after truncation; every span that
started has ended once the run is closed. Each example gets a ``Telemetry`` (and span
checker) of its own rather than the shared ``telemetry`` fixture's, so that a
violation is pinned on the example that made it and Hypothesis can shrink it.
The SDK's own ``exception`` event (message and stack trace, recorded as OpenTelemetry
prescribes) is held to the type rules only.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from typing import Any

from hypothesis import HealthCheck, Phase, example, find, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace.id_generator import IdGenerator
from semtrace import CaptureMode, Settings, semconv
from semtrace.testing import Telemetry

MAX_LENGTH = 256
#: Content attributes that are always JSON.
JSON_KEYS = {
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_DEFINITIONS,
    semconv.GEN_AI_RETRIEVAL_DOCUMENTS,
}
#: Content attributes that are JSON unless the value was a plain string.
VALUE_KEYS = {
    semconv.GEN_AI_TOOL_CALL_ARGUMENTS,
    semconv.GEN_AI_TOOL_CALL_RESULT,
    semconv.SEMTRACE_INPUT_VALUE,
    semconv.SEMTRACE_OUTPUT_VALUE,
}
TEXT_KEYS = {semconv.GEN_AI_RETRIEVAL_QUERY_TEXT}
SETTINGS = Settings(capture=CaptureMode.SPAN_AND_EVENT, max_content_length=MAX_LENGTH)
FUZZ = settings(
    max_examples=int(os.environ.get("SEMTRACE_FUZZ_EXAMPLES", "200")),  # more for a deep run
    report_multiple_bugs=False,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.nested_given,  # Pinned.draw's find(), in explicit examples only
    ],
)

# --- payloads ---


class Hostile:
    """An object every conversion of which raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        raise RuntimeError("no format")


class HostileError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


class Unknown:
    """A message of a type no framework knows."""

    type = "alien"
    role = "martian"
    content = ("beep", 7)


def cyclic(inner: Any) -> Any:
    loop: dict[Any, Any] = {"inner": inner}
    loop["self"] = loop
    items: list[Any] = [loop, inner]
    items.append(items)
    return items


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return {"deep": value}


HUGE = "ä" * 20_000  # past the content limit and the background-count threshold
texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.just(HUGE),
    st.just(""),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    texts,
    st.binary(max_size=16),
    st.builds(Hostile),
    st.builds(Unknown),
    st.builds(object),
)
keys = st.one_of(st.text(max_size=12), st.integers(), st.tuples(st.integers()), st.builds(Hostile))
payloads = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(keys, inner, max_size=4),
        st.sets(st.integers(), max_size=3),
    ),
    max_leaves=12,
).flatmap(
    lambda p: st.one_of(
        st.just(p), st.just(cyclic(p)), st.integers(20, 3000).map(lambda n: {"x": p, **deep(n)})
    )
)
errors = st.one_of(
    st.builds(RuntimeError, texts),
    st.builds(HostileError),
    st.builds(ValueError, payloads),
    st.just(GeneratorExit()),
)


_SIMPLEST = settings(database=None, phases=(Phase.generate, Phase.shrink))


class Pinned:
    """``st.data()`` for an ``@example``: the draws labelled here get these values.

    Every other draw gets its strategy's simplest value, the one hypothesis shrinks to,
    so a pinned example is the shrunk failing one. (Hypothesis cannot replay ``st.data()``
    draws in an explicit example: the payload it found is pinned by its draw's label.)
    """

    def __init__(self, **values: Any) -> None:
        self.values = values

    def draw(self, strategy: st.SearchStrategy[Any], label: str | None = None) -> Any:
        if label in self.values:
            return self.values[label]
        return find(strategy, lambda _: True, settings=_SIMPLEST)

    def __repr__(self) -> str:
        return "Pinned(" + ", ".join(f"{k}={v!r}" for k, v in self.values.items()) + ")"


# --- the checks ---


class UrandomIds(IdGenerator):
    """Span and trace ids from ``os.urandom``.

    Hypothesis re-seeds the global ``random`` module for every example, and the SDK's
    default id generator draws from it: every example would reuse the same trace ids.
    """

    def generate_span_id(self) -> int:
        return int.from_bytes(os.urandom(8), "big") or 1

    def generate_trace_id(self) -> int:
        return int.from_bytes(os.urandom(16), "big") or 1


def fresh() -> Telemetry:
    """A provider of its own for one example, so a violation is pinned on that example."""
    telemetry = Telemetry()
    telemetry.tracer_provider.id_generator = UrandomIds()
    return telemetry


def check_value(where: str, key: str, value: Any) -> None:
    assert isinstance(key, str), (where, key)
    if isinstance(value, (list, tuple)):
        assert value, (where, key, "empty sequence")
        kinds = {type(v) for v in value}
        assert len(kinds) == 1 and kinds <= {str, bool, int, float}, (where, key, kinds)
        for item in value:
            check_scalar(where, key, item)
    else:
        check_scalar(where, key, value)


def check_scalar(where: str, key: str, value: Any) -> None:
    assert isinstance(value, (str, bool, int, float)), (where, key, type(value))
    if isinstance(value, str):
        value.encode("utf-8")  # OTLP strings must be valid UTF-8: no lone surrogates
    if isinstance(value, int) and not isinstance(value, bool):
        assert -(2**63) <= value < 2**63, (where, key, "int64 overflow")


def check_content(where: str, key: str, value: Any, plain: bool) -> None:
    assert isinstance(value, str), (where, key)
    if key in JSON_KEYS or (key in VALUE_KEYS and not plain):
        assert len(value) <= MAX_LENGTH, (where, key, len(value))
        json.loads(value)
    elif key in VALUE_KEYS or key in TEXT_KEYS:
        assert len(value) <= MAX_LENGTH, (where, key, len(value))


def check_spans(telemetry: Telemetry, plain: set[tuple[str, str]]) -> None:
    """Check every span; ``plain`` holds (operation, key) pairs whose value was a str."""
    telemetry.assert_spans_well_formed()
    for span in telemetry.spans():
        where = span.name
        assert isinstance(span.name, str) and len(span.name) <= 300, len(span.name)
        span.name.encode("utf-8")
        assert span.dropped_attributes == 0 and span.dropped_events == 0
        for key, value in (span.attributes or {}).items():
            check_value(where, key, value)
            if key in JSON_KEYS | VALUE_KEYS | TEXT_KEYS:
                op = str((span.attributes or {}).get(semconv.GEN_AI_OPERATION_NAME))
                check_content(where, key, value, plain=(op, key) in plain or ("*", key) in plain)
            elif isinstance(value, str):
                assert len(value) <= MAX_LENGTH or key in _LONG_OK, (key, len(value))
        if span.status.description is not None:
            assert len(span.status.description) <= 1024
            span.status.description.encode("utf-8")
        for event in span.events:
            for key, value in (event.attributes or {}).items():
                check_value(f"{where}/{event.name}", key, value)
                if event.name != "exception" and key in JSON_KEYS | VALUE_KEYS:
                    check_content(where, key, value, plain=False)
                if isinstance(value, str):
                    limit = EVENT_LIMITS.get(key, MAX_LENGTH)
                    assert len(value) <= limit, (where, event.name, key, len(value))


#: Non-content string attributes allowed past the content limit: none.
_LONG_OK: frozenset[str] = frozenset()
#: The documented limits of the event strings that are not content.
EVENT_LIMITS = {
    "exception.message": 4096,
    "exception.stacktrace": 16384,
    semconv.GEN_AI_EVALUATION_EXPLANATION: 2000,
}


# --- LangChain ---


def lc_message(content: Any, extra: Any, kind: int) -> Any:
    from langchain_core.messages import AIMessage, ChatMessage, HumanMessage, ToolMessage

    if kind == 0:
        return HumanMessage.model_construct(content=content, type="human")
    if kind == 1:
        return AIMessage.model_construct(
            content=content, tool_calls=extra, type="ai", response_metadata=extra
        )
    if kind == 2:
        return ToolMessage.model_construct(content=content, tool_call_id=extra, type="tool")
    if kind == 3:
        return ChatMessage.model_construct(content=content, role=extra, type="chat")
    if kind == 4:
        return {"role": extra, "content": content}
    if kind == 5:
        return (extra, content)
    return [content, extra, content] if kind == 6 else Unknown()


@FUZZ
# Found by hypothesis: the ``stop`` invocation param became gen_ai.request.stop_sequences as
# it was, lone surrogate included (OTLP cannot encode it).
@example(
    data=Pinned(invocation_params={"stop": "\ud800"}),
    kinds=[],
    tool_args=None,
    error=RuntimeError(),
)
@given(
    data=st.data(),
    kinds=st.lists(st.integers(0, 7), min_size=0, max_size=4),
    tool_args=payloads,
    error=errors,
)
def test_langchain_callbacks_record_any_payload_safely(
    data: st.DataObject, kinds: list[int], tool_args: Any, error: Any
) -> None:
    from langchain_core.documents import Document
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, LLMResult
    from semtrace_langchain import CallbackHandler

    telemetry = fresh()
    draw = data.draw
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, settings=SETTINGS)
    root, chat, llm, tool, retriever = (uuid.uuid4() for _ in range(5))
    inputs = draw(payloads)
    handler.on_chain_start(
        draw(payloads),
        inputs,
        run_id=root,
        name=draw(payloads),
        metadata=draw(
            st.one_of(
                payloads,
                st.dictionaries(
                    st.sampled_from(
                        ["user_id", "session_id", "thread_id", "ls_provider", "lc_agent_name"]
                    ),
                    payloads,
                ),
            )
        ),
        tags=draw(st.one_of(payloads, st.lists(texts, max_size=3))),
    )
    messages = [lc_message(draw(payloads), draw(payloads), k) for k in kinds]
    handler.on_chat_model_start(
        draw(payloads),
        [messages],
        run_id=chat,
        parent_run_id=root,
        invocation_params=draw(
            st.one_of(
                payloads,
                st.fixed_dictionaries(
                    {
                        "tools": payloads,
                        "model": payloads,
                        "temperature": payloads,
                        "stop": payloads,
                    }
                ),
            ),
            label="invocation_params",
        ),
        metadata=draw(payloads),
    )
    handler.on_llm_new_token(draw(payloads), run_id=chat, chunk=draw(payloads))
    reply = AIMessage.model_construct(
        content=draw(payloads),
        tool_calls=draw(
            st.one_of(
                payloads,
                st.lists(
                    st.fixed_dictionaries({"name": texts, "args": payloads, "id": payloads}),
                    max_size=2,
                ),
            )
        ),
        response_metadata=draw(payloads),
        usage_metadata=draw(payloads),
        type="ai",
        id=draw(payloads),
    )
    result = LLMResult.model_construct(
        generations=[
            [ChatGeneration.model_construct(message=reply, text="", generation_info=draw(payloads))]
        ],
        llm_output=draw(payloads),
    )
    handler.on_llm_end(draw(st.one_of(st.just(result), payloads)), run_id=chat)
    handler.on_llm_start(
        draw(payloads),
        draw(st.one_of(payloads, st.lists(texts, max_size=2))),
        run_id=llm,
        parent_run_id=root,
        invocation_params=draw(payloads),
    )
    handler.on_llm_error(error, run_id=llm)
    handler.on_retriever_start(
        draw(payloads),
        draw(payloads),
        run_id=retriever,
        parent_run_id=root,
        metadata=draw(payloads),
    )
    docs = [
        Document.model_construct(
            page_content=draw(payloads), metadata=draw(payloads), id=draw(payloads)
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    handler.on_retriever_end(draw(st.one_of(st.just(docs), payloads)), run_id=retriever)
    input_str = draw(payloads)
    handler.on_tool_start(
        draw(payloads),
        input_str,
        run_id=tool,
        parent_run_id=root,
        inputs=tool_args,
        tool_call_id=draw(payloads),
        name=draw(payloads),
    )
    output = draw(payloads)
    handler.on_tool_end(output, run_id=tool)
    outputs = draw(payloads)
    handler.on_chain_end(outputs, run_id=root)
    handler.recorder.close()
    plain: set[tuple[str, str]] = set()
    arguments = tool_args if tool_args is not None else input_str
    if isinstance(arguments, str):
        plain.add(("execute_tool", semconv.GEN_AI_TOOL_CALL_ARGUMENTS))
    if isinstance(getattr(output, "content", output), str):
        plain.add(("execute_tool", semconv.GEN_AI_TOOL_CALL_RESULT))
    for op in ("invoke_workflow", "invoke_agent"):
        if isinstance(inputs, str):
            plain.add((op, semconv.SEMTRACE_INPUT_VALUE))
        if isinstance(outputs, str):
            plain.add((op, semconv.SEMTRACE_OUTPUT_VALUE))
    check_spans(telemetry, plain)


def test_lone_surrogate_in_langchain_stop_sequence_is_replaced() -> None:
    from langchain_core.outputs import LLMResult
    from semtrace_langchain import CallbackHandler

    telemetry = fresh()
    handler = CallbackHandler(tracer_provider=telemetry.tracer_provider, settings=SETTINGS)
    run = uuid.uuid4()
    handler.on_chat_model_start(
        {}, [[]], run_id=run, invocation_params={"model": "m", "stop": ["\ud800", "ok"]}
    )
    handler.on_llm_end(LLMResult(generations=[]), run_id=run)
    (span,) = telemetry.spans()
    assert (span.attributes or {})[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("?", "ok")
    check_spans(telemetry, set())


# --- LlamaIndex ---


class Bound:
    """Bound arguments of whatever shape the fuzzer draws."""

    def __init__(self, arguments: Any) -> None:
        self.arguments = arguments


def li_instances() -> dict[str, Any]:
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.tools import FunctionTool

    from tests.hardening.scenarios import li_index
    from tests.llamaindex.fakes import AnswerLLM, ReverseReranker

    index = li_index()
    return {
        "engine": index.as_query_engine(llm=AnswerLLM()),
        "retriever": index.as_retriever(),
        "llm": AnswerLLM(),
        "embed": MockEmbedding(embed_dim=4),
        "rerank": ReverseReranker(),
        "tool": FunctionTool.from_defaults(lambda a: a, name="echo"),
    }


@FUZZ
# Found by hypothesis: ReRankStartEvent.top_n of 2**63 became semtrace.rerank.top_n, past the
# int64 OTLP encodes.
@example(data=Pinned(top_n=2**63), error=RuntimeError())
@given(data=st.data(), error=errors)
def test_llamaindex_handlers_record_any_payload_safely(data: st.DataObject, error: Any) -> None:
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.events import embedding, llm, rerank, retrieval
    from llama_index.core.instrumentation.events.exception import ExceptionEvent
    from llama_index.core.schema import NodeWithScore, TextNode
    from semtrace_llamaindex import LlamaIndexInstrumentor

    telemetry = fresh()
    draw = data.draw
    things = li_instances()
    dispatcher = get_dispatcher()

    def bound() -> Any:
        return draw(
            st.one_of(
                st.builds(
                    Bound,
                    st.dictionaries(
                        st.sampled_from(
                            [
                                "str_or_query_bundle",
                                "query",
                                "texts",
                                "kwargs",
                                "args",
                                "message",
                                "ev",
                            ]
                        ),
                        payloads,
                    ),
                ),
                st.builds(Bound, payloads),
                payloads,
            )
        )

    def span_id(kind: str) -> str:
        return draw(st.one_of(st.just(f"{kind}-{uuid.uuid4()}"), st.text(max_size=20)))

    def event(cls: Any, sid: str, **fields: Any) -> Any:
        return cls.model_construct(span_id=sid, tags={}, **fields)

    def nodes() -> Any:
        made = [
            NodeWithScore.model_construct(
                node=TextNode.model_construct(text=draw(payloads), id_=draw(payloads), metadata={}),
                score=draw(payloads),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        return draw(st.one_of(st.just(made), payloads))

    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider, settings=SETTINGS)
    try:
        root = span_id("RetrieverQueryEngine.query")
        dispatcher.span_enter(
            id_=root,
            bound_args=bound(),
            instance=draw(
                st.sampled_from(
                    [things["engine"], things["retriever"], things["tool"], None, Hostile()]
                )
            ),
        )
        chat = span_id("AnswerLLM.chat")
        dispatcher.span_enter(id_=chat, bound_args=bound(), instance=things["llm"], parent_id=root)
        start_cls = draw(st.sampled_from([llm.LLMChatStartEvent, llm.LLMCompletionStartEvent]))
        dispatcher.event(
            event(
                start_cls,
                chat,
                messages=draw(payloads),
                prompt=draw(payloads),
                additional_kwargs=draw(payloads),
                model_dict=draw(payloads),
            )
        )
        dispatcher.event(
            event(llm.LLMChatInProgressEvent, chat, messages=[], response=draw(payloads))
        )
        dispatcher.event(
            event(
                draw(st.sampled_from([llm.LLMChatEndEvent, llm.LLMCompletionEndEvent])),
                chat,
                messages=draw(payloads),
                prompt="",
                response=draw(payloads),
            )
        )
        if draw(st.booleans()):
            dispatcher.span_exit(id_=chat, bound_args=bound(), result=draw(payloads))
        else:
            dispatcher.event(event(ExceptionEvent, chat, exception=error))
            dispatcher.span_drop(id_=chat, bound_args=bound(), err=error)
        emb = span_id("MockEmbedding.get_query_embedding")
        dispatcher.span_enter(id_=emb, bound_args=bound(), instance=things["embed"], parent_id=root)
        dispatcher.event(event(embedding.EmbeddingStartEvent, emb, model_dict=draw(payloads)))
        dispatcher.event(
            event(
                embedding.EmbeddingEndEvent, emb, chunks=draw(payloads), embeddings=draw(payloads)
            )
        )
        dispatcher.span_exit(id_=emb, bound_args=bound(), result=draw(payloads))
        ret = span_id("VectorIndexRetriever.retrieve")
        dispatcher.span_enter(
            id_=ret, bound_args=bound(), instance=things["retriever"], parent_id=root
        )
        dispatcher.event(
            event(retrieval.RetrievalEndEvent, ret, str_or_query_bundle="", nodes=nodes())
        )
        dispatcher.span_exit(id_=ret, bound_args=bound(), result=nodes())
        rr = span_id("ReverseReranker.postprocess_nodes")
        dispatcher.span_enter(id_=rr, bound_args=bound(), instance=things["rerank"], parent_id=root)
        dispatcher.event(
            event(
                rerank.ReRankStartEvent,
                rr,
                query=draw(payloads),
                nodes=nodes(),
                top_n=draw(payloads, label="top_n"),
                model_name=draw(payloads),
            )
        )
        dispatcher.event(event(rerank.ReRankEndEvent, rr, nodes=nodes()))
        dispatcher.span_exit(id_=rr, bound_args=bound(), result=nodes())
        tool = span_id("FunctionTool.call")
        dispatcher.span_enter(id_=tool, bound_args=bound(), instance=things["tool"], parent_id=root)
        dispatcher.span_exit(id_=tool, bound_args=bound(), result=draw(payloads))
        if draw(st.booleans()):
            dispatcher.span_exit(id_=root, bound_args=bound(), result=draw(payloads))
        else:
            dispatcher.span_drop(id_=root, bound_args=bound(), err=error)
    finally:
        instrumentor.uninstrument()  # ends whatever the payloads left open
    check_spans(telemetry, LI_PLAIN)


def test_llamaindex_rerank_top_n_past_int64_is_dropped() -> None:
    from llama_index.core.schema import NodeWithScore, TextNode
    from semtrace_llamaindex import LlamaIndexInstrumentor

    from tests.llamaindex.fakes import ReverseReranker

    telemetry = fresh()
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider, settings=SETTINGS)
    try:
        nodes = [NodeWithScore(node=TextNode(text="a"), score=0.5)]
        ReverseReranker(top_n=2**63).postprocess_nodes(nodes, query_str="q")
    finally:
        instrumentor.uninstrument()
    (span,) = [s for s in telemetry.spans() if s.name.startswith("rerank")]
    assert semconv.SEMTRACE_RERANK_TOP_N not in (span.attributes or {})
    check_spans(telemetry, LI_PLAIN)


#: LlamaIndex tool arguments are always a dict (JSON); results, inputs and outputs pass
#: through ``translate.output``/``query_text``, which may return a plain string.
LI_PLAIN = {
    ("*", semconv.GEN_AI_TOOL_CALL_RESULT),
    ("*", semconv.SEMTRACE_OUTPUT_VALUE),
    ("*", semconv.SEMTRACE_INPUT_VALUE),
}


def test_fuzz_payloads_include_every_kind_of_garbage() -> None:
    """The strategies really draw what the docstring promises (guards against a dead strategy)."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None)
    @given(payloads)
    def look(value: Any) -> None:
        stack, visited = [value], set()
        while stack:
            item = stack.pop()
            if id(item) in visited:
                seen.add("cycle")
                continue
            visited.add(id(item))
            seen.add(type(item).__name__)
            if isinstance(item, float) and math.isnan(item):
                seen.add("nan")
            if isinstance(item, str) and len(item) >= len(HUGE):
                seen.add("huge")
            if isinstance(item, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in item):
                seen.add("surrogate")
            if isinstance(item, dict):
                stack.extend(item.values())
                seen.update(type(k).__name__ + "-key" for k in item)
            elif isinstance(item, (list, tuple)):
                stack.extend(item)

    look()
    for kind in ("cycle", "nan", "huge", "surrogate", "bytes", "Hostile", "Unknown", "int-key"):
        assert kind in seen, kind
