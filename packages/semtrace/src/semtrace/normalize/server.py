"""``server.address`` and ``server.port`` of a model call, from the client's base URL.

The URL is read from the model object a framework holds (LangChain's ``ChatOpenAI``,
LlamaIndex's ``OpenAI``...) or from the SDK client inside it; where none is set, the
provider's public endpoint is what the client talks to.

Example:
    >>> server("openai", url="http://127.0.0.1:8080/v1")
    ('127.0.0.1', 8080)
    >>> server("anthropic")
    ('api.anthropic.com', 443)
    >>> server("aws.bedrock", region="eu-west-1")
    ('bedrock-runtime.eu-west-1.amazonaws.com', 443)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from semtrace.normalize import names
from semtrace.normalize._access import get, reader, text

Server = tuple[str | None, int | None]

# What each provider's client talks to when no base URL is given.
_DEFAULTS: Final[Mapping[str, tuple[str, int]]] = {
    names.OPENAI: ("api.openai.com", 443),
    names.ANTHROPIC: ("api.anthropic.com", 443),
    names.GEMINI: ("generativelanguage.googleapis.com", 443),
    names.MISTRAL: ("api.mistral.ai", 443),
    names.GROQ: ("api.groq.com", 443),
    names.DEEPSEEK: ("api.deepseek.com", 443),
    names.XAI: ("api.x.ai", 443),
    names.COHERE: ("api.cohere.com", 443),
    names.PERPLEXITY: ("api.perplexity.ai", 443),
    names.OLLAMA: ("127.0.0.1", 11434),  # the ollama client's default host
}
# Regional endpoints: the host is made from the region.
_REGIONAL: Final[Mapping[str, str]] = {
    names.BEDROCK: "bedrock-runtime.{region}.amazonaws.com",
    names.VERTEX: "{region}-aiplatform.googleapis.com",
}
# Attributes that hold a base URL, on framework model objects and SDK clients.
_URL_FIELDS: Final = (
    "base_url",  # langchain-ollama, -google-genai; llama-index anthropic, ollama; SDK clients
    "openai_api_base",  # langchain-openai
    "api_base",  # llama-index openai
    "azure_endpoint",  # Azure OpenAI (both frameworks)
    "anthropic_api_url",  # langchain-anthropic
    "endpoint_url",  # langchain-aws, llama-index bedrock-converse
    "endpoint",  # langchain-mistralai
    "host",  # ollama.Client
    "api_endpoint",
)
_REGION_FIELDS: Final = ("region_name", "region", "location")
# Where framework objects keep their SDK client.
_CLIENT_FIELDS: Final = ("root_client", "client", "_client", "async_client", "_aclient")
_SCHEME_PORTS: Final[Mapping[str, int]] = {"https": 443, "http": 80}


def server(
    provider: str | None,
    obj: Any = None,
    *,
    url: Any = None,
    region: Any = None,
) -> Server:
    """The host and port a model call goes to.

    Args:
        provider: The conventions' provider name (see :func:`names.provider_name`).
        obj: A framework model or embedding object; its base URL and region are read
            when ``url`` and ``region`` are not given.
        url: The client's base URL, when the caller knows it.
        region: The cloud region, for regional endpoints (Bedrock, Vertex AI).

    Returns:
        ``(address, port)``; ``(None, None)`` when neither a URL nor the provider's
        default endpoint is known.
    """
    read = reader(obj) if obj is not None and (url is None or region is None) else None
    if url is None and read is not None:
        url = _base_url(obj, read)
    found = parse(url)
    if found[0] is not None:
        return found
    if region is None and read is not None:
        region = _first_text(obj, _REGION_FIELDS, read)  # the object is read once
    pattern = _REGIONAL.get(provider or "")
    if pattern is not None and isinstance(region, str) and region:
        return pattern.format(region=region), 443
    return _DEFAULTS.get(provider or "", (None, None))


def parse(url: Any) -> Server:
    """Host and port of a URL (``http://h:8080/v1``, ``h:11434``, an ``httpx.URL``)."""
    raw = text(url) if isinstance(url, str) else _stringify(url)
    if not raw:
        return None, None
    return _parse(raw)


@functools.lru_cache(maxsize=256)
def _parse(raw: str) -> Server:
    # Cached: a model object's base URL is the same on every call, and urlsplit is not cheap.
    if "://" not in raw:
        raw = "http://" + raw  # ollama's OLLAMA_HOST style: "localhost:11434"
    try:
        parts = urlsplit(raw.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None, None
    if not host:
        return None, None
    return host, port if port is not None else _SCHEME_PORTS.get(parts.scheme.lower())


def base_url_of(obj: Any) -> str | None:
    """The base URL a framework model object (or the SDK client it holds) calls."""
    return _base_url(obj, reader(obj))


def _base_url(obj: Any, read: Callable[[str], Any]) -> str | None:
    found = _first_url(obj, read)
    if found is not None:
        return found
    for key in _CLIENT_FIELDS:
        client = read(key)
        if client is None or isinstance(client, (str, bytes)):
            continue
        found = _first_url(client) or _first_url(get(client, "_client"))
        if found is None:
            meta = get(client, "meta")  # botocore clients: client.meta.endpoint_url
            found = _stringify(get(meta, "endpoint_url"))
        if found is None:  # google-genai: Client._api_client._http_options.base_url
            options = get(get(client, "_api_client"), "_http_options")
            found = _stringify(get(options, "base_url"))
        if found is not None:
            return found
    return None


def region_of(obj: Any) -> str | None:
    """The cloud region a model object names (``region_name``, ``region``, ``location``)."""
    return _first_text(obj, _REGION_FIELDS)


def _first_url(obj: Any, read: Callable[[str], Any] | None = None) -> str | None:
    read = read or reader(obj)
    for key in _URL_FIELDS:
        value = read(key)
        if value is None:  # most fields are absent: skip the Mapping ABC's slow test
            continue
        if isinstance(value, str) and value:
            return value
        if value is not None and type(value).__name__ == "URL":  # httpx.URL
            return str(value)
        if isinstance(value, Mapping):  # langchain-google-genai's client options
            nested = _first_text(value, ("base_url", "api_endpoint"))
            if nested is not None:
                return nested
    return None


def _first_text(
    obj: Any, keys: tuple[str, ...], read: Callable[[str], Any] | None = None
) -> str | None:
    read = read or reader(obj)
    for key in keys:
        value = text(read(key))
        if value is not None:
            return value
    return None


def _stringify(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if type(value).__name__ == "URL":
        return str(value)
    return None
