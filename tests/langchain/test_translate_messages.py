"""translate.message reads LangChain messages' fields as getattr would, without its misses."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from semtrace.records import ToolCallPart, ToolCallResponsePart
from semtrace_langchain import translate

_MESSAGES = [
    HumanMessage("hi", name="ann"),
    HumanMessage("hi", tool_calls=[{"name": "extra", "args": {}, "id": "x"}]),  # an extra
    SystemMessage("be brief"),
    AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": 1}, "id": "c1"}]),
    ToolMessage("42", tool_call_id="c1"),
]


@pytest.mark.parametrize("msg", _MESSAGES, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("name", ["tool_calls", "tool_call_id", "name", "type", "nothing"])
def test_attr_is_getattr(msg: Any, name: str) -> None:
    assert translate._attr(msg, name) == getattr(msg, name, None)


def test_message_keeps_tool_calls_ids_and_names() -> None:
    human, extra, _, ai, tool = (translate.message(m) for m in _MESSAGES)
    assert (human.role, human.name) == ("user", "ann")
    assert [p.name for p in extra.parts if isinstance(p, ToolCallPart)] == ["extra"]
    assert [(p.name, p.id, p.arguments) for p in ai.parts if isinstance(p, ToolCallPart)] == [
        ("lookup", "c1", {"q": 1})
    ]
    assert [(p.id, p.response) for p in tool.parts if isinstance(p, ToolCallResponsePart)] == [
        ("c1", "42")
    ]


def test_a_prompt_is_read_as_it_was_when_the_call_started() -> None:
    prompt = [HumanMessage("hi")]
    start = translate.model_start(prompt, None, {"model": "gpt-4o-mini"})
    prompt.append(AIMessage("added by the app after the call started"))
    assert [m.role for m in start.messages] == ["user"]  # read now, on the worker's side
