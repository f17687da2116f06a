"""The provider-by-framework matrix: each real client package, and what its model spans say.

One :class:`Client` per (provider, framework) pair: how to build its chat model against the
local server, how the framework calls it (:class:`Framework`), and the expectations the
shared tests in ``test_model_spans.py`` check its spans against. Where a client does not
record something its provider's API sends, the expectation says so and :data:`GAPS` pins
it as a strict xfail naming the client code that drops it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from semtrace import semconv as sc

from tests.providers.servers.base import ProviderServer

PROMPT = "Capital of France?"
TOOL_PROMPT = "Weather in Paris?"

# The sampling parameters every client is built with, and what the span must say of them.
PARAMS: Mapping[str, Any] = {sc.GEN_AI_REQUEST_MAX_TOKENS: 50, sc.GEN_AI_REQUEST_TEMPERATURE: 0.3}

Check = tuple[Callable[[ProviderServer], Any], Any]
"""What a client sent, read from the server's requests, and the value it must be."""


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


@dataclass(frozen=True)
class Spans:
    """What a model span of one client carries, for one way of calling it.

    Attributes:
        response_id: ``gen_ai.response.id`` is the answer's id.
        response_model: ``gen_ai.response.model`` is the answer's model.
        finish: ``gen_ai.response.finish_reasons`` is the answer's finish reason.
    """

    response_id: bool = True
    response_model: bool = True
    finish: bool = True


@dataclass(frozen=True)
class RequestParams:
    """A model built with other sampling parameters, and what the span must say of them.

    Attributes:
        settings: The client's keyword arguments, in place of max tokens 50, temperature 0.3.
        sent: What the client sent for them.
        span: The request-parameter attributes and their values.
        model: The model asked for, when not the client's usual one.
        usage: As :func:`tests.providers.expect.check_span`'s ``usage``.
    """

    settings: Mapping[str, Any]
    sent: Check
    span: Mapping[str, Any]
    model: str | None = None
    usage: bool | None = True


@dataclass(frozen=True)
class Client:
    """One provider's client package in one framework, and what its model spans must say.

    Attributes:
        provider: The local server it talks to (``{provider}_server``).
        framework: ``langchain`` or ``llamaindex``.
        package: The client's package.
        make: Builds the chat model: ``make(server, model, settings, stream_usage)``.
        model: The model asked for (``gen_ai.request.model``).
        provider_name: The expected ``gen_ai.provider.name``.
        settings: The client's spelling of max tokens 50 and temperature 0.3.
        sent: What a plain call sent, read from the server.
        call: The span of a whole answer.
        stream: The span of a streamed answer.
        stream_sent: What a stream sent, if anything is checked.
        stream_answer: Answer fields a stream test sets (e.g. reasoning tokens).
        call_answer: Answer fields a call test sets.
        asynchronous: The async calls are tested (False: why not, in a comment).
        stream_without_usage: The provider streams with or without usage, on request.
        tool_call_id: The id of the tool call the server answers with.
        tool_call_id_checked: The client's tool call carries that id (False: the client
            makes its own, or the provider's API has none).
        tool_finish: The finish reason after a tool call, when the API says another.
        caching: Cache reads and writes the API reports: (input, read, write), or None.
        caching_streams: Prompt caching is tested on streams too.
        error: The exception a failed request raises, and how to read its HTTP status.
        one_request_on_error: A failed call made one request (no retry, nothing asked
            before it).
        fail_on: The path a failing server fails (others still answer).
        stream_error: The exception the provider's own error event in a stream raises.
        request_params: Other sampling parameters and their attributes.
        truncated_xfail: Why a ``length`` finish cannot be observed, if it cannot.
    """

    provider: str
    framework: str
    package: str
    make: Callable[..., Any]
    model: str
    provider_name: str
    settings: Mapping[str, Any]
    sent: Check
    call: Spans = Spans()
    stream: Spans = Spans()
    stream_sent: Check | None = None
    stream_answer: Mapping[str, Any] = field(default_factory=dict)
    call_answer: Mapping[str, Any] = field(default_factory=dict)
    asynchronous: bool = True
    stream_without_usage: bool = False
    tool_call_id: str = "call_weather_1"
    tool_call_id_checked: bool = True
    tool_finish: str | None = None
    caching: tuple[int, int, int] | None = None
    caching_streams: bool = False
    error: tuple[type[BaseException], Callable[[Any], int] | None] = (Exception, None)
    one_request_on_error: bool = True
    fail_on: str = ""
    stream_error: type[BaseException] | None = None
    request_params: RequestParams | None = None
    truncated_xfail: str | None = None

    @property
    def id(self) -> str:
        """``provider-framework``, the test id."""
        return f"{self.provider}-{self.framework}"

    def build(
        self,
        server: ProviderServer,
        *,
        model: str | None = None,
        settings: Mapping[str, Any] | None = None,
        stream_usage: bool = False,
    ) -> Any:
        """The chat model on ``server``, with the usual or the given sampling parameters.

        ``stream_usage`` asks for usage in streams, where the client must be told to
        (OpenAI's ``stream_options``); other clients ignore it.
        """
        chosen = self.settings if settings is None else settings
        return self.make(server, model or self.model, dict(chosen), stream_usage)


# --- How each client is built ------------------------------------------------------------


def _chat_openai(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from langchain_openai import ChatOpenAI

    url = f"{server.url}/v1"
    return ChatOpenAI(
        model=model, base_url=url, api_key="test", max_retries=0, stream_usage=usage, **kw
    )


def _li_openai(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from llama_index.llms.openai import OpenAI

    extra = kw.pop("additional_kwargs", {})
    if usage:
        extra = {**extra, "stream_options": {"include_usage": True}}
    return OpenAI(
        model=model,
        api_base=f"{server.url}/v1",
        api_key="test",
        max_retries=0,
        additional_kwargs=extra,
        **kw,
    )


def _chat_anthropic(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from langchain_anthropic import ChatAnthropic

    return ChatAnthropic(model=model, base_url=server.url, api_key="test", max_retries=0, **kw)


def _li_anthropic(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from llama_index.llms.anthropic import Anthropic

    return Anthropic(model=model, base_url=server.url, api_key="test", max_retries=0, **kw)


def _chat_bedrock(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from langchain_aws import ChatBedrockConverse

    return ChatBedrockConverse(model=model, endpoint_url=server.url, region_name="us-east-1", **kw)


def _li_bedrock(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from llama_index.llms.bedrock_converse import BedrockConverse

    return BedrockConverse(
        model=model,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        max_retries=1,
        **kw,
    )


def _chat_gemini(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from langchain_google_genai import ChatGoogleGenerativeAI

    return ChatGoogleGenerativeAI(model=model, google_api_key="test", base_url=server.url, **kw)


def _li_gemini(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from google.genai import types
    from llama_index.llms.google_genai import GoogleGenAI

    return GoogleGenAI(
        model=model,
        api_key="test",
        max_retries=1,
        http_options=types.HttpOptions(base_url=server.url),
        **kw,
    )


def _chat_ollama(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from langchain_ollama import ChatOllama

    return ChatOllama(model=model, base_url=server.url, **kw)


def _li_ollama(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from llama_index.llms.ollama import Ollama

    return Ollama(model=model, base_url=server.url, **kw)


def _chat_mistral(server: ProviderServer, model: str, kw: dict[str, Any], usage: bool) -> Any:
    from langchain_mistralai import ChatMistralAI

    return ChatMistralAI(model=model, base_url=f"{server.url}/v1", api_key="test", **kw)


# --- What each client sends and raises ---------------------------------------------------


def _json(server: ProviderServer, *path: str, suffix: str | None = None) -> Any:
    request = server.calls(suffix)[0] if suffix else server.requests[0]
    value = request.json
    for key in path:
        value = value[key]
    return value


def _status_code(error: Any) -> int:
    return int(error.status_code)


def _clients() -> list[Client]:
    import anthropic
    import botocore.exceptions
    import httpx
    import ollama
    import openai
    from google.genai import errors as genai_errors

    bedrock_model = "anthropic.claude-3-haiku-20240307-v1:0"
    bedrock_status: Callable[[Any], int] = lambda e: e.response["ResponseMetadata"][  # noqa: E731
        "HTTPStatusCode"
    ]
    return [
        Client(
            "openai",
            "langchain",
            "langchain-openai",
            _chat_openai,
            model="gpt-4o-mini",
            provider_name="openai",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(lambda s: _json(s, "temperature"), 0.3),
            call_answer={"reasoning": 3},
            # langchain-openai reads no id from stream chunks (see GAPS).
            stream=Spans(response_id=False),
            stream_sent=(lambda s: _json(s, "stream_options"), {"include_usage": True}),
            stream_without_usage=True,
            caching=(1142, 1024, 0),
            error=(openai.APIStatusError, _status_code),
            stream_error=openai.APIError,
            request_params=RequestParams(
                model="o4-mini",
                settings={
                    "max_completion_tokens": 40,
                    "top_p": 0.9,
                    "seed": 7,
                    "frequency_penalty": 0.1,
                    "presence_penalty": 0.2,
                    "stop": ["END"],
                },
                sent=(
                    lambda s: tuple(_json(s, k) for k in ("max_completion_tokens", "seed", "stop")),
                    (40, 7, ["END"]),
                ),
                usage=None,
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 40,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_SEED: 7,
                    sc.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.1,
                    sc.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "openai",
            "llamaindex",
            "llama-index-llms-openai",
            _li_openai,
            model="gpt-4o-mini",
            provider_name="openai",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(lambda s: _json(s, "max_tokens"), 50),
            call_answer={"reasoning": 3},
            stream_sent=(lambda s: _json(s, "stream_options"), {"include_usage": True}),
            stream_without_usage=True,
            caching=(1142, 1024, 0),
            error=(openai.APIStatusError, _status_code),
            stream_error=openai.APIError,
            request_params=RequestParams(
                settings={
                    "max_tokens": 64,
                    "additional_kwargs": {
                        "top_p": 0.9,
                        "seed": 7,
                        "stop": ["END"],
                        "presence_penalty": 0.2,
                    },
                },
                sent=(
                    lambda s: tuple(_json(s, k) for k in ("top_p", "seed", "stop")),
                    (0.9, 7, ["END"]),
                ),
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_SEED: 7,
                    sc.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "anthropic",
            "langchain",
            "langchain-anthropic",
            _chat_anthropic,
            model="claude-sonnet-4-5",
            provider_name="anthropic",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(lambda s: _json(s, "max_tokens"), 50),
            # The message id of message_start reaches no callback (see GAPS).
            stream=Spans(response_id=False),
            # Anthropic streams always carry usage (message_start, message_delta).
            stream_answer={"cache_read": 10, "input_tokens": 31},
            tool_call_id="toolu_01A",
            caching=(1142, 1024, 77),
            caching_streams=True,
            error=(anthropic.APIStatusError, _status_code),
            stream_error=anthropic.APIStatusError,
            request_params=RequestParams(
                settings={"max_tokens": 64, "top_k": 5, "top_p": 0.9, "stop_sequences": ["END"]},
                sent=(lambda s: (_json(s, "top_k"), _json(s, "stop_sequences")), (5, ["END"])),
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
                    sc.GEN_AI_REQUEST_TOP_K: 5.0,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "anthropic",
            "llamaindex",
            "llama-index-llms-anthropic",
            _li_anthropic,
            model="claude-sonnet-4-5",
            provider_name="anthropic",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(lambda s: _json(s, "max_tokens"), 50),
            # stream_chat never yields message_start, the only event with the id and model.
            stream=Spans(response_id=False, response_model=False),
            tool_call_id="toolu_01A",
            caching=(1142, 1024, 77),
            caching_streams=True,
            error=(anthropic.APIStatusError, _status_code),
            stream_error=anthropic.APIStatusError,
        ),
        Client(
            "bedrock",
            "langchain",
            "langchain-aws",
            _chat_bedrock,
            model=bedrock_model,
            provider_name="aws.bedrock",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(
                lambda s: (unquote(s.requests[0].path), _json(s, "inferenceConfig", "maxTokens")),
                (f"/model/{bedrock_model}/converse", 50),
            ),
            # Converse answers carry no id and no model.
            call=Spans(response_id=False, response_model=False),
            stream=Spans(response_id=False, response_model=False),
            stream_sent=(lambda s: s.requests[0].path.endswith("/converse-stream"), True),
            tool_call_id="tooluse_1",
            caching=(1142, 1024, 77),
            caching_streams=True,
            error=(botocore.exceptions.ClientError, bedrock_status),
            request_params=RequestParams(
                settings={"max_tokens": 64, "top_p": 0.9, "stop_sequences": ["END"]},
                sent=(
                    lambda s: (
                        _json(s, "inferenceConfig", "topP"),
                        _json(s, "inferenceConfig", "stopSequences"),
                    ),
                    (0.9, ["END"]),
                ),
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "bedrock",
            "llamaindex",
            "llama-index-llms-bedrock-converse",
            _li_bedrock,
            model=bedrock_model,
            provider_name="aws.bedrock",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(lambda s: _json(s, "inferenceConfig", "maxTokens"), 50),
            call=Spans(response_id=False, response_model=False),
            # stream_chat passes over messageStop, the finish reason's event (see GAPS).
            stream=Spans(response_id=False, response_model=False, finish=False),
            # Its async calls need aioboto3, which is not installed.
            asynchronous=False,
            tool_call_id="tooluse_1",
            caching=(1142, 1024, 77),
            caching_streams=True,
            error=(botocore.exceptions.ClientError, bedrock_status),
            one_request_on_error=False,  # max_retries=1: a 429 or 500 is asked again
        ),
        Client(
            "gemini",
            "langchain",
            "langchain-google-genai",
            _chat_gemini,
            model="gemini-2.5-flash",
            provider_name="gcp.gemini",
            settings={"max_output_tokens": 50, "temperature": 0.3, "max_retries": 1},
            sent=(lambda s: _json(s, "generationConfig", "maxOutputTokens"), 50),
            # The response's responseId is never read (see GAPS).
            call=Spans(response_id=False),
            stream=Spans(response_id=False),
            stream_sent=(lambda s: s.requests[0].path.endswith(":streamGenerateContent"), True),
            # Every Gemini stream chunk carries usageMetadata.
            call_answer={"reasoning": 12, "output_tokens": 19},
            stream_answer={"reasoning": 12, "output_tokens": 19},
            tool_finish="stop",  # Gemini answers STOP with a functionCall
            tool_call_id_checked=False,  # the Gemini API's functionCall carries no id here
            caching=(1142, 1024, 0),
            request_params=RequestParams(
                settings={"max_output_tokens": 64, "top_k": 5, "top_p": 0.9, "stop": ["END"]},
                sent=(
                    lambda s: (
                        _json(s, "generationConfig", "topK"),
                        _json(s, "generationConfig", "stopSequences"),
                    ),
                    (5, ["END"]),
                ),
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
                    sc.GEN_AI_REQUEST_TOP_K: 5.0,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "gemini",
            "llamaindex",
            "llama-index-llms-google-genai",
            _li_gemini,
            model="gemini-2.5-flash",
            provider_name="gcp.gemini",
            settings={"max_tokens": 50, "temperature": 0.3},
            sent=(
                lambda s: _json(
                    s, "generationConfig", "maxOutputTokens", suffix=":generateContent"
                ),
                50,
            ),
            # The client drops responseId and modelVersion (see GAPS).
            call=Spans(response_id=False, response_model=False),
            stream=Spans(response_id=False, response_model=False),
            call_answer={"reasoning": 12, "output_tokens": 19},
            stream_answer={"reasoning": 12, "output_tokens": 19},
            tool_finish="stop",
            tool_call_id_checked=False,
            caching=(1142, 1024, 0),
            error=(genai_errors.APIError, lambda e: int(e.code)),
            one_request_on_error=False,  # building the model asks for the model's details
            truncated_xfail=(
                "llama_index.llms.google_genai.utils._error_if_finished_early raises "
                "RuntimeError on finishReason MAX_TOKENS instead of returning the truncated "
                "answer"
            ),
        ),
        Client(
            "ollama",
            "langchain",
            "langchain-ollama",
            _chat_ollama,
            model="llama3.2",
            provider_name="ollama",
            settings={"num_predict": 50, "temperature": 0.3},
            sent=(lambda s: _json(s, "options", "num_predict", suffix="/api/chat"), 50),
            # Ollama has no response ids; its counts always come in the `done` chunk.
            call=Spans(response_id=False),
            stream=Spans(response_id=False),
            tool_finish="stop",  # Ollama says `stop` after a tool call
            tool_call_id_checked=False,  # Ollama's tool calls have no id
            error=(ollama.ResponseError, _status_code),
            request_params=RequestParams(
                settings={"top_k": 5, "top_p": 0.9, "seed": 7, "stop": ["END"]},
                sent=(
                    lambda s: tuple(
                        _json(s, "options", k, suffix="/api/chat")
                        for k in ("top_k", "seed", "stop")
                    ),
                    (5, 7, ["END"]),
                ),
                span={
                    sc.GEN_AI_REQUEST_TOP_K: 5.0,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_SEED: 7,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "ollama",
            "llamaindex",
            "llama-index-llms-ollama",
            _li_ollama,
            model="llama3.2",
            provider_name="ollama",
            settings={
                "temperature": 0.3,
                "request_timeout": 10,
                "additional_kwargs": {"num_predict": 50},
            },
            sent=(lambda s: _json(s, "options", "num_predict", suffix="/api/chat"), 50),
            call=Spans(response_id=False),
            stream=Spans(response_id=False),
            tool_finish="stop",
            tool_call_id_checked=False,
            error=(ollama.ResponseError, _status_code),
            fail_on="/api/chat",  # chat() asks /api/show first (test_llamaindex_ollama_show_fails)
            one_request_on_error=False,  # the /api/show before it
            request_params=RequestParams(
                settings={
                    "additional_kwargs": {"num_predict": 64, "top_k": 5, "seed": 7, "stop": ["END"]}
                },
                sent=(
                    lambda s: tuple(
                        _json(s, "options", k, suffix="/api/chat") for k in ("top_k", "seed")
                    ),
                    (5, 7),
                ),
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
                    sc.GEN_AI_REQUEST_TOP_K: 5.0,
                    sc.GEN_AI_REQUEST_SEED: 7,
                    sc.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
                },
            ),
        ),
        Client(
            "mistral",
            "langchain",
            "langchain-mistralai",
            _chat_mistral,
            model="mistral-small-latest",
            provider_name="mistral_ai",
            settings={"max_tokens": 50, "temperature": 0.3, "max_retries": 1},
            sent=(lambda s: _json(s, "max_tokens"), 50),
            # Only streamed chunks carry the response's model through to a callback; the id
            # never does (see GAPS).
            call=Spans(response_id=False, response_model=False),
            stream=Spans(response_id=False, response_model=True),
            tool_call_id="D681PevKs",  # Mistral's tool call ids are 9 characters
            error=(httpx.HTTPStatusError, lambda e: int(e.response.status_code)),
            request_params=RequestParams(
                settings={"max_tokens": 64, "top_p": 0.9, "random_seed": 7, "max_retries": 1},
                sent=(lambda s: (_json(s, "top_p"), _json(s, "random_seed")), (0.9, 7)),
                span={
                    sc.GEN_AI_REQUEST_MAX_TOKENS: 64,
                    sc.GEN_AI_REQUEST_TOP_P: 0.9,
                    sc.GEN_AI_REQUEST_SEED: 7,
                },
            ),
        ),
    ]


CLIENTS: list[Client] = _clients()
BY_ID: dict[tuple[str, str], Client] = {(c.provider, c.framework): c for c in CLIENTS}


@dataclass(frozen=True)
class Gap:
    """Something a client does not pass on though its provider's API sends it.

    Attributes:
        provider: The provider.
        framework: The framework.
        stream: On a stream (else on a plain call).
        key: The attribute that should hold it.
        reason: The client code that drops it.
    """

    provider: str
    framework: str
    stream: bool
    key: str
    reason: str

    @property
    def id(self) -> str:
        """The test id."""
        how = "stream" if self.stream else "call"
        return f"{self.provider}-{self.framework}-{how}-{self.key}"


GAPS: list[Gap] = [
    Gap(
        "openai",
        "langchain",
        True,
        sc.GEN_AI_RESPONSE_ID,
        "langchain_openai.chat_models.base._convert_delta_to_message_chunk reads `id` from "
        "the chunk's `delta`, which has none, and _convert_chunk_to_generation_chunk never "
        "reads the chunk's own `id`",
    ),
    Gap(
        "anthropic",
        "langchain",
        True,
        sc.GEN_AI_RESPONSE_ID,
        "langchain_anthropic.chat_models.ChatAnthropic._make_message_chunk_from_anthropic_"
        "event keeps only the model of message_start; the message id reaches no callback",
    ),
    Gap(
        "anthropic",
        "llamaindex",
        True,
        sc.GEN_AI_RESPONSE_ID,
        "llama_index.llms.anthropic.base.Anthropic.stream_chat handles message_start "
        "without yielding a ChatResponse, so no event carries the message's id or model",
    ),
    Gap(
        "bedrock",
        "llamaindex",
        True,
        sc.GEN_AI_RESPONSE_FINISH_REASONS,
        "llama_index.llms.bedrock_converse.base.BedrockConverse.stream_chat passes over the "
        "messageStop event (`pass`) without yielding it, so its stopReason reaches no event",
    ),
    Gap(
        "gemini",
        "langchain",
        False,
        sc.GEN_AI_RESPONSE_ID,
        "langchain_google_genai.chat_models._response_to_result never reads the "
        "response's responseId into response_metadata",
    ),
    *(
        Gap(
            "gemini",
            "llamaindex",
            False,
            key,
            "llama_index.llms.google_genai.utils.chat_from_gemini_response builds `raw` from "
            "the candidate and usage_metadata only: responseId and modelVersion are dropped",
        )
        for key in (sc.GEN_AI_RESPONSE_ID, sc.GEN_AI_RESPONSE_MODEL)
    ),
    *(
        Gap(
            "mistral",
            "langchain",
            False,
            key,
            "langchain_mistralai.chat_models.ChatMistralAI._create_chat_result drops the "
            "response's `id` and writes the requested model (self.model) as llm_output's model",
        )
        for key in (sc.GEN_AI_RESPONSE_ID, sc.GEN_AI_RESPONSE_MODEL)
    ),
]


# --- How each framework calls a chat model -----------------------------------------------


class Framework:
    """Calls a chat model the way an app written for the framework does."""

    name: str

    def call(self, model: Any) -> Any:
        """One whole answer."""
        raise NotImplementedError

    async def acall(self, model: Any) -> Any:
        """One whole answer, awaited."""
        raise NotImplementedError

    def stream(self, model: Any) -> str:
        """A streamed answer, read to its end: its text."""
        raise NotImplementedError

    async def astream(self, model: Any) -> str:
        """A streamed answer, read to its end asynchronously: its text."""
        raise NotImplementedError

    def tool_call(self, model: Any) -> tuple[str, str]:
        """A call offering the ``get_weather`` tool: the name and id of the call asked for."""
        raise NotImplementedError


class LangChain(Framework):
    """Runnables invoked with semtrace's callback handler in their config."""

    name = "langchain"

    def __init__(self, handler: Any) -> None:
        self._config = {"callbacks": [handler]}

    def call(self, model: Any) -> Any:
        return model.invoke(PROMPT, config=self._config)

    async def acall(self, model: Any) -> Any:
        return await model.ainvoke(PROMPT, config=self._config)

    def stream(self, model: Any) -> str:
        return "".join(_text(c.content) for c in model.stream(PROMPT, config=self._config))

    async def astream(self, model: Any) -> str:
        return "".join([_text(c.content) async for c in model.astream(PROMPT, config=self._config)])

    def tool_call(self, model: Any) -> tuple[str, str]:
        message = model.bind_tools([get_weather]).invoke(TOOL_PROMPT, config=self._config)
        call = message.tool_calls[0]
        return call["name"], call["id"]


class LlamaIndex(Framework):
    """LLMs called directly, LlamaIndex instrumented by semtrace."""

    name = "llamaindex"

    def __init__(self) -> None:
        from llama_index.core.llms import ChatMessage

        self._messages = [ChatMessage(role="user", content=PROMPT)]

    def call(self, model: Any) -> Any:
        return model.chat(self._messages)

    async def acall(self, model: Any) -> Any:
        return await model.achat(self._messages)

    def stream(self, model: Any) -> str:
        return "".join(r.delta or "" for r in model.stream_chat(self._messages))

    async def astream(self, model: Any) -> str:
        return "".join([r.delta or "" async for r in await model.astream_chat(self._messages)])

    def tool_call(self, model: Any) -> tuple[str, str]:
        from llama_index.core.tools import FunctionTool

        tool = FunctionTool.from_defaults(fn=get_weather)
        response = model.chat_with_tools([tool], user_msg=TOOL_PROMPT)
        selection = model.get_tool_calls_from_response(response)[0]
        return selection.tool_name, selection.tool_id


def _text(content: Any) -> str:
    """A LangChain chunk's text: a string, or content blocks (Bedrock's)."""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))
