"""Promise 6: content stays private unless the user opts in, and then passes their hook.

Capture off (the default): canary words placed in the question, the retrieved
documents, the tool arguments, the tool results and the model's answer (both
frameworks, a RAG pipeline and an agent with a tool call) appear nowhere in what is
exported: span names, attribute keys and values, event names and attributes, status
descriptions, links; metric data points' attributes; log records of semtrace and
OpenTelemetry at DEBUG. The canaries are plain words, so the quality signals' text
analysis (which normalizes and stems words) cannot hide a leak, and every check is
case-insensitive.

Errors (decided here): an exception's message is diagnostic data, not message content.
OpenTelemetry records it on the failing span (``status.description`` and the
``exception`` event with ``exception.message``/``exception.stacktrace``) whatever the
capture setting, and so does semtrace; it never copies it anywhere else. So a canary in
an exception message may appear in exactly those places of the failing spans, and
nowhere else (not in other spans, attributes, metrics (``error.type`` is the class
name) or logs). Applications that put user text in exception messages must redact it
there themselves; ``redact`` hooks apply to captured content only.

Capture on: the redaction hook sees every text before it is recorded (each text in a
content attribute is something the hook returned), ``semtrace.redact_secrets`` removes
API keys, bearer tokens and e-mail addresses, and even the heaviest span stays under
the SDK's default limit of 128 attributes.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import semtrace
from langchain_core.messages import AIMessage
from semtrace import CaptureMode, Settings, semconv
from semtrace.testing import Telemetry

from tests.hardening.scenarios import (
    FailingChat,
    instrumented,
    lc_config,
    rag_tool_chain,
    tool_calls,
)
from tests.langchain.pipelines import FakeChat, fake_chat
from tests.llamaindex.fakes import AnswerLLM, ToolCallingLLM

# One canary per place content can enter; plain lowercase words.
QUESTION = "zqxquestionword"
DOCUMENT = "zqxdocumentword"
TOOL_ARG = "zqxtoolargword"
TOOL_RESULT = "zqxtoolresultword"
ANSWER = "zqxanswerword"
SYSTEM = "zqxsystemword"
ERROR = "zqxerrorword"
CANARIES = (QUESTION, DOCUMENT, TOOL_ARG, TOOL_RESULT, ANSWER, SYSTEM)

LC_QUESTION = f"What does the with statement do, {QUESTION}?"
LC_DOCS = [
    f"The with statement wraps a block with a context manager {DOCUMENT}.",
    f"A for loop iterates over a sequence {DOCUMENT}.",
]
LC_ANSWER = f"It wraps a block with a context manager, {ANSWER}."
CONTENT_KEYS = semconv.CONTENT_ATTRIBUTES


# --- where a canary could surface ---


def exported_places(telemetry: Telemetry) -> Iterator[tuple[str, str]]:
    """(where, text) for everything exported: spans, events, links, metrics."""
    for span in telemetry.spans():
        yield f"{span.name}: name", span.name
        for key, value in (span.attributes or {}).items():
            yield f"{span.name}: attribute {key}", f"{key}={value!r}"
        if span.status.description:
            yield f"{span.name}: status", span.status.description
        for event in span.events:
            yield f"{span.name}: event {event.name}", event.name
            for key, value in (event.attributes or {}).items():
                yield f"{span.name}: event {event.name} {key}", f"{key}={value!r}"
        for link in span.links:
            yield f"{span.name}: link", repr(dict(link.attributes or {}))
    data = telemetry.metric_reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    yield f"metric {metric.name}", repr(dict(point.attributes or {}))


def logged(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[str, str]]:
    """(where, text) of every record of semtrace's and OpenTelemetry's loggers.

    The frameworks' own DEBUG logs may print prompts (LlamaIndex logs retrieved nodes):
    that is theirs, not instrumentation's.
    """
    for record in caplog.records:
        if record.name.startswith(("semtrace", "opentelemetry")):
            text = record.getMessage() + (record.exc_text or "")
            yield f"log {record.name}", text


def leaks(places: Iterator[tuple[str, str]], canaries: tuple[str, ...]) -> list[str]:
    return [
        f"{canary} in {where}"
        for where, text in places
        for canary in canaries
        if canary in text.lower()
    ]


# --- pipelines carrying the canaries ---


def lc_rag(handler: Any) -> str:
    chain = rag_tool_chain(fake_chat(LC_ANSWER), docs=LC_DOCS)
    return str(chain.invoke(LC_QUESTION, config=lc_config(handler)))


def lc_agent(handler: Any) -> str:
    from langchain.agents import create_agent
    from langchain_core.tools import tool

    @tool
    def lookup(topic: str) -> str:
        """Look a topic up."""
        return f"found {TOOL_RESULT}"

    model = fake_chat(tool_calls(("lookup", {"topic": TOOL_ARG}, "call_1")), LC_ANSWER)
    agent = create_agent(model, tools=[lookup], system_prompt=f"Be brief {SYSTEM}.")
    result = agent.invoke({"messages": [("user", LC_QUESTION)]}, config=lc_config(handler))
    return str(result["messages"][-1].content)


def li_rag(_: Any) -> str:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding

    embed = MockEmbedding(embed_dim=8, model_name="text-embedding-3-small")
    index = VectorStoreIndex.from_documents([Document(text=t) for t in LC_DOCS], embed_model=embed)
    engine = index.as_query_engine(llm=AnswerLLM(answer=LC_ANSWER, as_chat_model=True))
    return str(engine.query(LC_QUESTION))


def li_agent(_: Any) -> str:
    import asyncio

    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool

    def lookup(topic: str) -> str:
        """Look a topic up."""
        return f"found {TOOL_RESULT}"

    async def ask() -> str:
        agent = FunctionAgent(
            name="helper",
            system_prompt=f"Be brief {SYSTEM}.",
            tools=[FunctionTool.from_defaults(lookup)],
            llm=ToolCallingLLM(tool="lookup", arguments={"topic": TOOL_ARG}, final=LC_ANSWER),
        )
        return str(await agent.run(LC_QUESTION))

    return asyncio.run(ask())


PIPELINES = {
    "langchain-rag": ("langchain", lc_rag),
    "langchain-agent": ("langchain", lc_agent),
    "llamaindex-rag": ("llamaindex", li_rag),
    "llamaindex-agent": ("llamaindex", li_agent),
}
#: The canaries each pipeline carries into content.
CARRIES = {
    "langchain-rag": (QUESTION, DOCUMENT, ANSWER),
    "langchain-agent": (QUESTION, TOOL_ARG, TOOL_RESULT, ANSWER, SYSTEM),
    "llamaindex-rag": (QUESTION, DOCUMENT, ANSWER),
    "llamaindex-agent": (QUESTION, TOOL_ARG, TOOL_RESULT, ANSWER, SYSTEM),
}


# --- capture off ---


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_no_canary_is_exported_or_logged_with_capture_off(
    pipeline: str, telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    framework, run = PIPELINES[pipeline]
    caplog.set_level(logging.DEBUG)
    with instrumented(framework, telemetry, Settings()) as handle:
        assert ANSWER in run(handle)
    assert telemetry.spans(), "nothing was recorded"
    assert not any(CONTENT_KEYS & set(s.attributes or {}) for s in telemetry.spans())
    found = leaks(exported_places(telemetry), CANARIES) + leaks(logged(caplog), CANARIES)
    assert not found, "content leaked with capture off:\n" + "\n".join(sorted(set(found)))


def test_an_error_message_is_recorded_only_on_the_failing_spans(
    telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    class Down(FailingChat):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"provider rejected the prompt {ERROR}")

    caplog.set_level(logging.DEBUG)
    with instrumented("langchain", telemetry, Settings()) as handler, pytest.raises(RuntimeError):
        rag_tool_chain(Down(messages=iter([])), docs=LC_DOCS).invoke(
            LC_QUESTION, config=lc_config(handler)
        )
    allowed = re.compile(r": (status|event exception exception\.(message|stacktrace))$")
    failing = {s.name for s in telemetry.spans() if not s.status.is_ok and s.status.description}
    assert {"chat gpt-4o-mini"} <= failing
    elsewhere = [
        where
        for where, text in exported_places(telemetry)
        if ERROR in text.lower() and not (where.split(":")[0] in failing and allowed.search(where))
    ]
    assert not elsewhere, elsewhere
    assert not leaks(logged(caplog), (ERROR,))
    assert not leaks(exported_places(telemetry), CANARIES)  # the rest stays private


# --- capture on ---


class RecordingRedactor:
    """Replaces every text by a numbered token, remembering what it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, text: str) -> str:
        self.seen.append(text)
        return f"<R{len(self.seen) - 1}>"


TOKEN = re.compile(r"<R\d+>")
PLACEHOLDER = re.compile(r"<\d+ bytes>|<…>")


def only_tokens(value: Any, where: str) -> list[str]:
    """Strings in a ``_plain`` value (keys included) that did not come from the hook."""
    if isinstance(value, str):
        return [] if TOKEN.fullmatch(value) or PLACEHOLDER.fullmatch(value) else [where]
    if isinstance(value, dict):
        bad = [f"{where}.<key {k!r}>" for k in value if not TOKEN.fullmatch(k)]
        return bad + [b for k, v in value.items() for b in only_tokens(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [b for i, v in enumerate(value) for b in only_tokens(v, f"{where}[{i}]")]
    return []


def unredacted(key: str, value: str) -> list[str]:
    """Texts of one content attribute that bypassed the hook (structure is allowed)."""
    if key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        return [
            b for i, m in enumerate(json.loads(value)) for b in parts(m["parts"], f"{key}[{i}]")
        ]
    if key == semconv.GEN_AI_SYSTEM_INSTRUCTIONS:
        return parts(json.loads(value), key)
    if key == semconv.GEN_AI_TOOL_DEFINITIONS:
        return [
            b
            for i, t in enumerate(json.loads(value))
            for b in only_tokens(t["description"], f"{key}[{i}].description")
            + only_tokens(t["parameters"], f"{key}[{i}].parameters")
        ]
    if key == semconv.GEN_AI_RETRIEVAL_DOCUMENTS:
        return [
            b
            for i, d in enumerate(json.loads(value))
            for b in only_tokens(d["content"], f"{key}[{i}].content")
        ]
    try:  # value attributes: the hook's token, or JSON of tokens
        return only_tokens(json.loads(value), key)
    except json.JSONDecodeError:
        return only_tokens(value, key)


def parts(items: list[dict[str, Any]], where: str) -> list[str]:
    bad = []
    for i, part in enumerate(items):
        for field in ("content", "arguments", "response"):
            if field in part:
                bad += only_tokens(part[field], f"{where}.parts[{i}].{field}")
    return bad


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_the_redaction_hook_sees_every_recorded_text(pipeline: str, telemetry: Telemetry) -> None:
    framework, run = PIPELINES[pipeline]
    hook = RecordingRedactor()
    settings = Settings(capture=CaptureMode.SPAN_AND_EVENT, redact=hook)
    with instrumented(framework, telemetry, settings) as handle:
        run(handle)
    recorded = [
        (f"{span.name} {key}", key, value)
        for span in telemetry.spans()
        for attributes in (span.attributes, *(e.attributes for e in span.events))
        for key, value in (attributes or {}).items()
        if key in CONTENT_KEYS
    ]
    assert recorded, "nothing was captured"
    bypassed = [f"{where}: {b}" for where, key, value in recorded for b in unredacted(key, value)]
    assert not bypassed, "texts recorded without passing the hook:\n" + "\n".join(bypassed)
    given_to_hook = "\n".join(hook.seen).lower()
    for canary in CARRIES[pipeline]:
        assert canary in given_to_hook, f"the hook never saw {canary}"
    assert not leaks(exported_places(telemetry), CANARIES)


SECRETS = {
    "openai key": "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234",
    "legacy openai key": "sk-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "anthropic key": "sk-ant-api03-AbCdEfGhIjKlMnOpQrSt-uvwx",
    "bearer token": "Bearer eyJhbGciOiJIUzI1NiJ9abcdefgh",
    "lowercase bearer": "authorization: bearer abcdefghijklmnop",
    "email": "jane.doe+rag@example.co.uk",
    "aws key": "AKIAIOSFODNN7EXAMPLE",
    "github token": "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
}


@pytest.mark.parametrize("kind", list(SECRETS))
def test_redact_secrets_removes_each_kind_of_secret(kind: str) -> None:
    secret = SECRETS[kind]
    text = f"use {secret} now, please"
    cleaned = semtrace.redact_secrets(text)
    assert secret not in cleaned and "REDACTED" in cleaned, cleaned
    assert cleaned.startswith("use ") and cleaned.endswith(" now, please")


#: Common key shapes the docstring's "API keys" suggests are covered, and are not.
MISSED_SHAPES = {
    "stripe secret key": "sk_live_51HxAbCdEfGhIjKlMnOpQrStUv",
    "google api key": "AIzaSyA1bCdEfGhIjKlMnOpQrStUvWxYz012345",
    "slack bot token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "hugging face token": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
}


@pytest.mark.parametrize("kind", list(MISSED_SHAPES))
def test_redact_secrets_removes_other_common_api_key_shapes(kind: str) -> None:
    """GAP (semtrace._telemetry.content._SECRET_PATTERNS): these widespread key shapes pass through.

    Fix: add patterns for ``(sk|rk|pk)_(live|test)_…`` (Stripe), ``AIza[0-9A-Za-z_-]{35}``
    (Google), ``xox[abposr]-…`` (Slack) and ``hf_[A-Za-z0-9]{30,}`` (Hugging Face).
    """
    secret = MISSED_SHAPES[kind]
    assert secret not in semtrace.redact_secrets(f"key={secret}")


@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_redact_secrets_end_to_end(framework: str, telemetry: Telemetry) -> None:
    secrets = [SECRETS["openai key"], SECRETS["bearer token"], SECRETS["email"]]
    question = "Summarise: " + " / ".join(secrets)
    settings = Settings(capture=CaptureMode.SPAN_AND_EVENT, redact=semtrace.redact_secrets)
    with instrumented(framework, telemetry, settings) as handle:
        if framework == "langchain":
            rag_tool_chain(fake_chat(f"Done for {secrets[2]}")).invoke(
                question, config=lc_config(handle)
            )
        else:
            from tests.hardening.scenarios import li_index

            engine = li_index().as_query_engine(llm=AnswerLLM(answer=f"Done for {secrets[2]}"))
            engine.query(question)
    everything = "\n".join(text for _, text in exported_places(telemetry))
    assert "REDACTED" in everything, "content was not captured"
    for secret in secrets:
        assert secret not in everything
    assert "eyJhbGciOiJIUzI1NiJ9abcdefgh" not in everything


# --- the heaviest span ---


class HeavyChat(FakeChat):
    """Every request parameter the conventions name, and a provider that reports it all.

    Streams word by word; the last chunk carries usage and response metadata, as
    OpenAI's streaming API does with ``stream_usage``.
    """

    top_p: float = 0.9
    top_k: int = 40
    seed: int = 7
    frequency_penalty: float = 0.1
    presence_penalty: float = 0.2
    n: int = 2

    @property
    def _identifying_params(self) -> dict[str, Any]:  # what LangChain's invocation params hold
        keys = ("model_name", "temperature", "max_tokens", "top_p", "top_k", "seed")
        keys += ("frequency_penalty", "presence_penalty", "n")
        return {k: getattr(self, k) for k in keys}

    def _stream(
        self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Any:
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        reply = next(self.messages)
        words = str(reply.content).split(" ")
        for i, word in enumerate(words):
            last = i == len(words) - 1
            chunk = AIMessageChunk(
                content=word if i == 0 else " " + word,
                usage_metadata=reply.usage_metadata if last else None,
                response_metadata=reply.response_metadata if last else {},
            )
            if run_manager is not None:
                run_manager.on_llm_new_token(
                    chunk.content, chunk=ChatGenerationChunk(message=chunk)
                )
            yield ChatGenerationChunk(message=chunk)


def test_the_heaviest_span_stays_under_the_sdk_attribute_limit(telemetry: Telemetry) -> None:
    reply = AIMessage(
        content="The with statement wraps the execution of a block with a context manager.",
        usage_metadata={
            "input_tokens": 1200,
            "output_tokens": 300,
            "total_tokens": 1500,
            "input_token_details": {"cache_read": 800, "cache_creation": 100},
            "output_token_details": {"reasoning": 120},
        },
        response_metadata={
            "model_name": "gpt-4o-mini-2024-07-18",
            "id": "chatcmpl-1",
            "finish_reason": "length",
        },
    )
    tool = {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up.", "parameters": {"type": "object"}},
    }
    model = HeavyChat(messages=itertools.cycle([reply])).bind(stop=["END"], tools=[tool])
    custom = {f"app.attribute_{i}": f"value {i}" for i in range(28)}
    settings = Settings(capture=CaptureMode.SPAN_AND_EVENT)
    with (
        instrumented("langchain", telemetry, settings) as handler,
        semtrace.context(
            user_id="u-1", session_id="s-1", conversation_id="c-1", tags=["a", "b"], **custom
        ),
    ):
        config = {
            **lc_config(handler),
            "metadata": {"user_id": "u-2", "session_id": "s-2", "thread_id": "t-2"},
            "tags": ["heavy"],
        }
        chain = rag_tool_chain(model)
        "".join(chain.stream("What does the with statement do?", config=config))
    heaviest = max(telemetry.spans(), key=lambda s: len(s.attributes or {}))
    count = len(heaviest.attributes or {})
    print(f"heaviest span: {heaviest.name}, {count} attributes")
    assert heaviest.name.startswith("chat"), heaviest.name
    assert heaviest.dropped_attributes == 0
    assert count < 128, count
    attributes = heaviest.attributes or {}
    for key in (
        semconv.GEN_AI_USAGE_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        semconv.GEN_AI_RESPONSE_MODEL,
        semconv.GEN_AI_REQUEST_MODEL,
        semconv.GEN_AI_REQUEST_TOP_P,
        semconv.GEN_AI_REQUEST_CHOICE_COUNT,
        semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_TOOL_DEFINITIONS,
        "semtrace.quality.groundedness",
        "semtrace.quality.truncated",
        "app.attribute_27",
    ):
        assert key in attributes, key
    assert count >= 64, f"not so heavy after all: {sorted(attributes)}"
    for event in heaviest.events:
        assert len(event.attributes or {}) < 128
    assert heaviest.dropped_events == 0
