"""Images, audio and files in a LangChain prompt become the conventions' uri and blob parts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from semtrace import semconv
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

from tests.langchain.pipelines import fake_chat

PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

BLOB = {"type": "blob", "modality": "image", "mime_type": "image/png", "content": PNG}


def _parts(telemetry: Telemetry, handler: CallbackHandler, content: list[Any]) -> list[Any]:
    fake_chat("a cat").invoke([HumanMessage(content=content)], config={"callbacks": [handler]})
    [chat] = telemetry.by_operation("chat")
    [message] = json.loads(str((chat.attributes or {})[semconv.GEN_AI_INPUT_MESSAGES]))
    return message["parts"]  # type: ignore[no-any-return]


def test_an_openai_style_data_url_image_is_a_blob_part(
    telemetry: Telemetry, content_handler: CallbackHandler
) -> None:
    block = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    parts = _parts(telemetry, content_handler, [{"type": "text", "text": "What is it?"}, block])
    assert parts[1] == {
        "type": "blob",
        "modality": "image",
        "mime_type": "image/png",
        "content": PNG,
    }


def test_an_image_by_https_url_is_a_uri_part(
    telemetry: Telemetry, content_handler: CallbackHandler
) -> None:
    block = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    parts = _parts(telemetry, content_handler, [block])
    assert parts == [{"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"}]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "base64": PNG, "mime_type": "image/png"},  # LangChain 1.x standard
        {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
    ],
    ids=["standard", "standard-v0", "anthropic"],
)
def test_an_image_content_block_is_a_blob_part(
    telemetry: Telemetry, content_handler: CallbackHandler, block: dict[str, Any]
) -> None:
    [part] = _parts(telemetry, content_handler, [block])
    assert part == BLOB


def test_an_image_only_message_keeps_its_image(
    telemetry: Telemetry, content_handler: CallbackHandler
) -> None:
    block = {"type": "image", "url": "https://example.com/cat.png"}
    assert _parts(telemetry, content_handler, [block]) != []
