"""Provider names, as the GenAI conventions spell them (``gen_ai.provider.name``).

Frameworks name providers their own way: LangChain's ``ls_provider`` (``azure``,
``google_genai``, ``mistralai``), LlamaIndex's integration packages
(``llama_index.llms.bedrock_converse``, ``openai_like``). Both map here.

A client talking to another vendor's OpenAI-compatible endpoint stays the client's
provider (``openai``): the conventions say so, and ``server.address`` names the host.

Example:
    >>> provider_name("google_genai")
    'gcp.gemini'
    >>> provider_name("bedrock_converse")
    'aws.bedrock'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

OPENAI: Final = "openai"
AZURE_OPENAI: Final = "azure.ai.openai"
AZURE_INFERENCE: Final = "azure.ai.inference"
ANTHROPIC: Final = "anthropic"
BEDROCK: Final = "aws.bedrock"
GEMINI: Final = "gcp.gemini"
VERTEX: Final = "gcp.vertex_ai"
MISTRAL: Final = "mistral_ai"
GROQ: Final = "groq"
DEEPSEEK: Final = "deepseek"
XAI: Final = "x_ai"
COHERE: Final = "cohere"
PERPLEXITY: Final = "perplexity"
WATSONX: Final = "ibm.watsonx.ai"
OLLAMA: Final = "ollama"

# Framework spellings (LangChain ``ls_provider``, LlamaIndex package names) to the
# conventions' values. Values already in the conventions' spelling map to themselves.
_NAMES: Final[Mapping[str, str]] = {
    "openai": OPENAI,
    "openai_like": OPENAI,
    "azure": AZURE_OPENAI,
    "azure_openai": AZURE_OPENAI,
    "azure.ai.openai": AZURE_OPENAI,
    "azure_inference": AZURE_INFERENCE,
    "azure_ai": AZURE_INFERENCE,
    "azure.ai.inference": AZURE_INFERENCE,
    "anthropic": ANTHROPIC,
    "bedrock": BEDROCK,
    "bedrock_converse": BEDROCK,
    "amazon_bedrock": BEDROCK,
    "aws": BEDROCK,
    "aws.bedrock": BEDROCK,
    "google_genai": GEMINI,
    "gemini": GEMINI,
    "gcp.gemini": GEMINI,
    "google_vertexai": VERTEX,
    "google_anthropic_vertex": VERTEX,
    "vertex": VERTEX,
    "vertexai": VERTEX,
    "gcp.vertex_ai": VERTEX,
    "mistralai": MISTRAL,
    "mistral": MISTRAL,
    "mistral_ai": MISTRAL,
    "groq": GROQ,
    "deepseek": DEEPSEEK,
    "xai": XAI,
    "x_ai": XAI,
    "cohere": COHERE,
    "perplexity": PERPLEXITY,
    "ibm": WATSONX,
    "watsonx": WATSONX,
    "ibm.watsonx.ai": WATSONX,
    "ollama": OLLAMA,
    "huggingface": "huggingface",
    "huggingface_api": "huggingface",
}


def provider_name(hint: Any, default: str | None = None) -> str | None:
    """The conventions' name of the provider a framework calls ``hint``.

    Args:
        hint: LangChain's ``ls_provider`` or a LlamaIndex integration package's name.
        default: Returned when ``hint`` is empty.

    Returns:
        The conventions' value; an unknown hint lower-cased as it is; else ``default``.
    """
    if not isinstance(hint, str) or not hint.strip():
        return default
    key = hint.strip().lower()
    return _NAMES.get(key, key)
