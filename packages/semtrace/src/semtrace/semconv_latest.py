"""The newest GenAI conventions, behind ``OTEL_SEMCONV_STABILITY_OPT_IN``, and the name table.

The GenAI conventions left ``open-telemetry/semantic-conventions`` after 1.41 for
``open-telemetry/semantic-conventions-genai``, where they are still in development. By
default semtrace writes the released 1.41 names, which backends read today; with
``OTEL_SEMCONV_STABILITY_OPT_IN`` holding ``gen_ai_latest_experimental`` (a
comma-separated list, as OpenTelemetry defines the variable) it writes the newest ones.

What differs between the two is one :class:`Conventions` table: the telemetry code asks it
for a name or a shape (``names.cache_write_input_tokens``, ``names.run_content_as_messages``)
rather than testing a flag. The newest names themselves are spelled here once.
``docs/conventions-latest.md`` lists every difference.

Example:
    >>> conventions(opted_in("http, gen_ai_latest_experimental")).retrieval_top_k
    'gen_ai.retrieval.top_k'
    >>> conventions(False).retrieval_top_k
    'gen_ai.request.top_k'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from semtrace import semconv

V = TypeVar("V")

#: The standard variable (a comma-separated list of opt-in tokens).
OTEL_SEMCONV_STABILITY_OPT_IN: Final = "OTEL_SEMCONV_STABILITY_OPT_IN"
#: The token that asks for the newest, experimental GenAI conventions.
GEN_AI_LATEST_EXPERIMENTAL: Final = "gen_ai_latest_experimental"

#: The schema the newest conventions publish (the ``semantic-conventions-genai`` README).
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/gen-ai/1.42.0"

# --- attributes renamed or added since 1.41 ---
#: Was ``gen_ai.usage.cache_creation.input_tokens`` (semantic-conventions-genai #440).
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
#: Was ``gen_ai.request.top_k`` (a double) on retrieval spans; an int (#217).
GEN_AI_RETRIEVAL_TOP_K: Final = "gen_ai.retrieval.top_k"
#: The version of the prompt template ``gen_ai.prompt.name`` names.
GEN_AI_PROMPT_VERSION: Final = "gen_ai.prompt.version"
#: The reasoning effort requested, as sent to the provider (``low``, ``high``...).
GEN_AI_REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"
#: Required on the usage counters: which modality the tokens were.
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"
#: The provider reported a total without saying which modality it was.
TOKEN_MODALITY_UNKNOWN: Final = "unknown"
#: tiktoken counted it: tiktoken counts text only.
TOKEN_MODALITY_TEXT: Final = "text"

# --- metrics ---
#: Were ``gen_ai.client.operation.duration`` for chat and text completion calls.
METRIC_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
#: Was ``gen_ai.client.operation.duration`` for embeddings calls.
METRIC_EMBEDDINGS_DURATION: Final = "gen_ai.client.embeddings.duration"
METRIC_INFERENCE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.inference.time_to_first_chunk"
METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.inference.time_per_output_chunk"
# The counters that replace gen_ai.client.token.usage (and gen_ai.token.type) for totals...
METRIC_USAGE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
METRIC_USAGE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
METRIC_USAGE_CACHE_READ_INPUT_TOKENS: Final = (
    "gen_ai.client.inference.usage.cache_read.input_tokens"
)
METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = (
    "gen_ai.client.inference.usage.cache_write.input_tokens"
)
METRIC_USAGE_REASONING_OUTPUT_TOKENS: Final = (
    "gen_ai.client.inference.usage.reasoning.output_tokens"
)
# ...and the histograms that replace it for per-call distributions.
METRIC_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
METRIC_OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
METRIC_EMBEDDINGS_INPUT_TOKENS: Final = "gen_ai.client.embeddings.operation.input_tokens"
#: How long each tool ran (``gen_ai.tool.name``, ``gen_ai.tool.type``, ``error.type``).
METRIC_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"

#: The attributes only the newest conventions define (``docs/conventions-latest.md`` lists
#: them; ``tests/core/test_conventions_latest.py`` checks that it does).
STANDARD_ATTRIBUTES: Final = frozenset(
    {
        GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        GEN_AI_RETRIEVAL_TOP_K,
        GEN_AI_PROMPT_VERSION,
        GEN_AI_TOKEN_MODALITY,
        GEN_AI_REQUEST_REASONING_LEVEL,
    }
)


def opted_in(value: str | None) -> bool:
    """Whether an ``OTEL_SEMCONV_STABILITY_OPT_IN`` value asks for the newest conventions.

    Tokens are comma-separated; blanks around them are ignored, and so are tokens of
    other categories (``http``, ``database``) and unknown ones, as OpenTelemetry does.
    """
    if not value:
        return False
    return GEN_AI_LATEST_EXPERIMENTAL in (token.strip() for token in value.split(","))


@dataclass(frozen=True)
class Conventions:
    """Every name and shape that differs between the 1.41 conventions and the newest."""

    #: True for the newest conventions.
    latest: bool
    #: ``schema_url`` of semtrace's tracer and meters.
    schema_url: str
    cache_write_input_tokens: str
    #: The prompt template's version, on the model call that used it.
    prompt_version: str
    #: ``gen_ai.request.top_k``'s type on model calls (a double in 1.41, an int since).
    request_top_k_type: type
    #: The key of the reasoning effort requested; None: not written (1.41 has none).
    reasoning_level: str | None
    #: Key and type of a retriever's top k.
    retrieval_top_k: str
    retrieval_top_k_type: type
    time_to_first_chunk: str
    time_per_output_chunk: str
    #: ``invoke_agent`` (INTERNAL) carries ``gen_ai.provider.name`` and ``gen_ai.agent.id``:
    #: the newest conventions removed both from the internal span (#242, #289).
    agent_provider_and_id: bool
    #: Agent and workflow input and output as ``gen_ai.input.messages`` /
    #: ``gen_ai.output.messages`` instead of ``semtrace.input.value`` /
    #: ``semtrace.output.value``.
    run_content_as_messages: bool
    #: Retrieved documents' ids and scores in ``gen_ai.retrieval.documents`` (ids and
    #: scores only, without content capture), instead of ``semtrace.retrieval.document_ids``
    #: and ``semtrace.retrieval.document_scores``.
    documents_as_standard: bool
    #: ``gen_ai.execute_tool.duration`` for every tool run (the newest conventions only).
    tool_duration: bool

    def given(self, attributes: Mapping[str, V]) -> Mapping[str, V]:
        """Attributes an integration gave, under this table's names.

        Integrations spell the 1.41 names (``semtrace.prompt.version``); the recorder
        renames them here, so integrations never need to know which conventions apply.
        Nothing to rename (the 1.41 names, or no version given): ``attributes`` itself.
        """
        if (
            self.prompt_version == semconv.SEMTRACE_PROMPT_VERSION
            or semconv.SEMTRACE_PROMPT_VERSION not in attributes
        ):
            return attributes
        out = dict(attributes)
        version = out.pop(semconv.SEMTRACE_PROMPT_VERSION)
        if version is not None:
            out[self.prompt_version] = version
        return out


#: The released 1.41 conventions: the default.
RELEASED: Final = Conventions(
    latest=False,
    schema_url=semconv.SCHEMA_URL,
    cache_write_input_tokens=semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    prompt_version=semconv.SEMTRACE_PROMPT_VERSION,
    request_top_k_type=float,
    reasoning_level=None,
    retrieval_top_k=semconv.GEN_AI_REQUEST_TOP_K,
    retrieval_top_k_type=float,
    time_to_first_chunk=semconv.METRIC_TIME_TO_FIRST_CHUNK,
    time_per_output_chunk=semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
    agent_provider_and_id=True,
    run_content_as_messages=False,
    documents_as_standard=False,
    tool_duration=False,
)
#: The newest conventions, from ``semantic-conventions-genai``.
LATEST: Final = Conventions(
    latest=True,
    schema_url=SCHEMA_URL,
    cache_write_input_tokens=GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    prompt_version=GEN_AI_PROMPT_VERSION,
    request_top_k_type=int,
    reasoning_level=GEN_AI_REQUEST_REASONING_LEVEL,
    retrieval_top_k=GEN_AI_RETRIEVAL_TOP_K,
    retrieval_top_k_type=int,
    time_to_first_chunk=METRIC_INFERENCE_TIME_TO_FIRST_CHUNK,
    time_per_output_chunk=METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK,
    agent_provider_and_id=False,
    run_content_as_messages=True,
    documents_as_standard=True,
    tool_duration=True,
)


def conventions(latest: bool) -> Conventions:
    """The table for the released conventions, or for the newest."""
    return LATEST if latest else RELEASED
