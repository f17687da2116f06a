"""Images and audio in a LlamaIndex chat become the conventions' uri and blob parts."""

from __future__ import annotations

import base64
import json
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock
from semtrace import semconv
from semtrace.testing import Telemetry

from tests.llamaindex.conftest import Instrument
from tests.llamaindex.fakes import AnswerLLM

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _parts(telemetry: Telemetry, blocks: list[Any]) -> list[Any]:
    AnswerLLM().chat([ChatMessage(role="user", blocks=blocks)])
    [chat] = telemetry.by_operation("chat")
    [message] = json.loads(str((chat.attributes or {})[semconv.GEN_AI_INPUT_MESSAGES]))
    return message["parts"]  # type: ignore[no-any-return]


def test_an_image_block_with_bytes_is_a_blob_part(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    parts = _parts(telemetry, [TextBlock(text="What is it?"), ImageBlock(image=PNG)])
    assert parts[1]["type"] == "blob"
    assert parts[1]["modality"] == "image"
    assert base64.b64decode(parts[1]["content"]) == PNG


def test_an_image_block_with_a_url_is_a_uri_part(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    parts = _parts(telemetry, [ImageBlock(url="https://example.com/cat.png")])
    assert parts[0]["type"] == "uri"
    assert parts[0]["uri"] == "https://example.com/cat.png"
