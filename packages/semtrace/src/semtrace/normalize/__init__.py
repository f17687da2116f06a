"""Everything provider-specific, in one framework-neutral place.

Integrations hand these functions the raw payloads their framework gives them
(LangChain's ``response_metadata``, ``usage_metadata``, ``llm_output``,
``generation_info``, invocation params; LlamaIndex's ``response.raw``,
``additional_kwargs``, stream chunks; the model object itself for its base URL) and
get back values in the GenAI conventions' meaning. Each reader accepts dicts and SDK
objects alike and returns None (or ``{}``) for what it cannot read; none raises on
odd input.

Example:
    >>> from semtrace import normalize
    >>> normalize.provider_name("mistralai")
    'mistral_ai'
    >>> normalize.finish_reason_of({"done": True, "done_reason": "length"})
    'length'
    >>> normalize.usage({"prompt_eval_count": 26, "eval_count": 259}).input_tokens
    26
"""

from __future__ import annotations

from semtrace.normalize._access import class_has, is_mapping_class
from semtrace.normalize.finish import finish_reason, finish_reason_of
from semtrace.normalize.media import media_part
from semtrace.normalize.names import provider_name
from semtrace.normalize.params import request_params
from semtrace.normalize.response import response_id, response_model
from semtrace.normalize.server import base_url_of, region_of, server
from semtrace.normalize.stream import StreamSummary
from semtrace.normalize.usage import usage

__all__ = [
    "StreamSummary",
    "base_url_of",
    "class_has",
    "finish_reason",
    "finish_reason_of",
    "is_mapping_class",
    "media_part",
    "provider_name",
    "region_of",
    "request_params",
    "response_id",
    "response_model",
    "server",
    "usage",
]
