"""The pure translation of LlamaIndex objects into semtrace records."""

from __future__ import annotations

from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.memory import ChatMemoryBuffer, SimpleComposableMemory
from llama_index.core.prompts import PromptTemplate, SelectorPromptTemplate
from semtrace.records import TextPart, ToolCallPart, ToolCallResponsePart, Usage
from semtrace_llamaindex import translate

OpenAI = type("OpenAI", (), {"__module__": "llama_index.llms.openai.base"})
Bedrock = type("BedrockEmbedding", (), {"__module__": "llama_index.embeddings.bedrock.base"})


class MyOpenAI(OpenAI):  # type: ignore[misc,valid-type]
    """A user's subclass of a provider's LLM."""


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        (OpenAI(), "openai"),
        (MyOpenAI(), "openai"),
        (Bedrock(), "aws.bedrock"),
        (object(), "llama_index"),
    ],
    ids=["integration", "user-subclass", "embedding", "unknown"],
)
def test_provider_comes_from_the_integration_package(instance: Any, expected: str) -> None:
    assert translate.provider(instance) == expected


def test_provider_is_decided_once_per_class() -> None:
    translate.provider(MyOpenAI())
    before = translate._provider_of.cache_info()
    assert translate.provider(MyOpenAI()) == "openai"  # another instance, the same class
    after = translate._provider_of.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"model": "m"}, "m"),
        (MappingProxyType({"model": "m"}), "m"),  # a mapping that is not a dict
        (SimpleNamespace(model="m"), "m"),
        (SimpleNamespace(), None),
        (None, None),
    ],
    ids=["dict", "mapping", "object", "absent", "none"],
)
def test_get_reads_mappings_by_key_and_objects_by_attribute(obj: Any, expected: Any) -> None:
    for _ in range(2):  # the second read answers from the per-class cache
        assert translate.get(obj, "model") == expected


def test_unknown_model_name_is_no_model() -> None:
    assert translate.model_name(None, {"model_name": "unknown"}) is None
    assert (
        translate.model_name(SimpleNamespace(model="gpt-4o"), {"model_name": "unknown"}) == "gpt-4o"
    )


def test_tool_calls_in_blocks_and_additional_kwargs_are_one_part() -> None:
    msg = ChatMessage(
        role="assistant",
        blocks=[TextBlock(text="Let me add."), ToolCallBlock(tool_call_id="c1", tool_name="add")],
        additional_kwargs={
            "tool_calls": [ToolSelection(tool_id="c1", tool_name="add", tool_kwargs={})]
        },
    )
    parts = translate.message(msg).parts
    assert [type(p) for p in parts] == [TextPart, ToolCallPart]


def test_openai_tool_call_objects_become_tool_call_parts() -> None:
    call = SimpleNamespace(
        id="call_9", function=SimpleNamespace(name="search", arguments='{"q": "x"}')
    )
    msg = ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]})
    assert translate.message(msg).parts == [ToolCallPart("search", "call_9", '{"q": "x"}')]


def test_tool_message_is_a_tool_call_response() -> None:
    msg = ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "c1"})
    out = translate.message(msg)
    assert (out.role, out.parts) == ("tool", [ToolCallResponsePart("5", "c1")])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"usage_metadata": {"prompt_token_count": 8, "candidates_token_count": 2}}, (8, 2)),
        ({"usage": {"inputTokens": 6, "outputTokens": 3}}, (6, 3)),
        ({"prompt_eval_count": 5, "eval_count": 4}, (5, 4)),
        (SimpleNamespace(usage=SimpleNamespace(prompt_tokens=7, completion_tokens=1)), (7, 1)),
    ],
    ids=["gemini", "bedrock", "ollama", "openai-object"],
)
def test_usage_shapes_are_read(raw: Any, expected: tuple[int, int]) -> None:
    usage = translate.usage(raw)
    assert usage is not None and (usage.input_tokens, usage.output_tokens) == expected


def test_no_usage_is_none_so_the_core_counts_with_tiktoken() -> None:
    assert translate.usage({"id": "x"}) is None
    assert translate.usage(None, {}) is None


def test_finish_reasons_use_the_conventions_words() -> None:
    end = translate.model_end(
        ChatResponse(
            message=ChatMessage(role="assistant", content="hi"), raw={"stop_reason": "end_turn"}
        )
    )
    assert list(end.finish_reasons) == ["stop"]
    tool = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [ToolSelection(tool_id="c", tool_name="t", tool_kwargs={})]
        },
    )
    assert list(translate.model_end(ChatResponse(message=tool)).finish_reasons) == ["tool_call"]


def test_completion_response_becomes_one_assistant_message() -> None:
    end = translate.model_end(
        CompletionResponse(text="done", raw={"usage": {"prompt_tokens": 1, "completion_tokens": 1}})
    )
    assert end.output[0].role == "assistant" and end.output[0].parts == [TextPart("done")]
    assert end.usage == Usage(input_tokens=1, output_tokens=1)


def test_cancellations_are_not_failures() -> None:
    assert translate.is_cancellation(GeneratorExit())
    assert not translate.is_cancellation(ValueError())


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_selector_prompt_template_is_named_by_its_default_template() -> None:
    named = PromptTemplate("{q}", metadata={"prompt_name": "qa", "prompt_version": "2"})
    assert translate.prompt_ref(SelectorPromptTemplate(default_template=named)) == ("qa", "2")


def test_prompt_name_that_cannot_be_printed_names_no_prompt() -> None:
    template = SimpleNamespace(metadata={"prompt_name": Unprintable()})
    assert translate.prompt_ref(template) is None


def test_composable_memory_conversation_is_its_primary_memorys() -> None:
    primary = ChatMemoryBuffer.from_defaults(chat_store_key="conversation-1")
    memory = SimpleComposableMemory.from_defaults(primary_memory=primary)
    assert translate.conversation_id(memory) == "conversation-1"


class _Settings(ChatMemoryBuffer):
    """A pydantic model with a property, standing in for an LLM's fields."""

    @property
    def temperature(self) -> float:
        return 0.25

    @property
    def seed(self) -> int:
        raise RuntimeError("not configured")


def test_model_fields_are_read_from_fields_and_properties_and_absent_ones_are_none() -> None:
    memory = _Settings.from_defaults(token_limit=77)
    for _ in range(2):  # the second time, what the class has is known (cached)
        assert translate.field(memory, "token_limit") == 77  # a pydantic field
        assert translate.field(memory, "temperature") == 0.25  # a property
        assert translate.field(memory, "seed") is None  # a property that raises
        assert translate.field(memory, "top_p") is None  # absent
    assert translate.field(SimpleNamespace(top_p=0.5), "top_p") == 0.5
    assert translate.request_params(memory, None) == {"temperature": 0.25}


def test_a_chat_prompt_is_read_as_it_was_when_the_call_started() -> None:
    prompt = [ChatMessage(role="user", content="hi")]
    start = translate.chat_start(prompt, {"temperature": 0.2}, None, OpenAI(), stream=False)
    prompt.append(ChatMessage(role="assistant", content="added by the app afterwards"))
    assert [m.role for m in start.messages] == ["user"]  # read now, on the worker's side
    assert start.params["temperature"] == 0.2
