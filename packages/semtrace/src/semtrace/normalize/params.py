r"""Request parameters under every name providers and frameworks give them.

The keys returned are the ones :data:`semtrace._telemetry.attributes.REQUEST_PARAMS` writes
(``max_tokens`` -> ``gen_ai.request.max_tokens``...), plus ``stop`` and ``reasoning_level``
(the reasoning effort requested, written under the newest conventions only).

Example:
    >>> request_params({"options": {"num_predict": 64, "temperature": 0.2}})
    {'max_tokens': 64, 'temperature': 0.2}
    >>> request_params({"inferenceConfig": {"maxTokens": 5, "stopSequences": ["\n"]}})
    {'max_tokens': 5, 'stop': ['\n']}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from semtrace.normalize._access import reader

# Provider and framework spellings to semtrace's parameter names.
_NAMES: Final[Mapping[str, str]] = {
    "temperature": "temperature",
    "top_p": "top_p",
    "topP": "top_p",
    "top_k": "top_k",
    "topK": "top_k",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",  # OpenAI reasoning models
    "max_output_tokens": "max_tokens",  # OpenAI Responses, Gemini (snake case)
    "maxOutputTokens": "max_tokens",  # Gemini
    "max_new_tokens": "max_tokens",  # Hugging Face
    "max_tokens_to_sample": "max_tokens",  # Anthropic's legacy completions
    "num_predict": "max_tokens",  # Ollama
    "maxTokens": "max_tokens",  # Bedrock Converse
    "seed": "seed",
    "random_seed": "seed",  # Mistral
    "frequency_penalty": "frequency_penalty",
    "frequencyPenalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "presencePenalty": "presence_penalty",
    "stop": "stop",
    "stop_sequences": "stop",  # Anthropic, Gemini (snake case)
    "stopSequences": "stop",  # Gemini, Bedrock
    "reasoning_effort": "reasoning_level",  # OpenAI chat; LangChain's ChatOpenAI
    "n": "choice_count",
    "candidate_count": "choice_count",
    "candidateCount": "choice_count",
}
# Where providers nest their sampling parameters: Ollama's ``options``, Gemini's
# generation config, Bedrock's ``inferenceConfig``; tried after the top level.
_NESTED: Final = (
    "options",
    "generation_config",
    "generationConfig",
    "inferenceConfig",
    "inference_config",
)
_NESTED_SET: Final = frozenset(_NESTED)
# LangChain's run metadata repeats some parameters as ``ls_temperature``, ``ls_max_tokens``.
_LS_PREFIX: Final = "ls_"


def request_params(*sources: Any) -> dict[str, Any]:
    """Sampling parameters found in ``sources``; the first source to give one wins.

    Args:
        *sources: Mappings (invocation params, call kwargs, ``additional_kwargs``,
            LangChain ``ls_*`` metadata) or model objects, most specific first.

    Returns:
        ``{"max_tokens": 64, "temperature": 0.2, ...}``; values that cannot be what
        they claim (a negative ``num_predict`` means "no limit"; ``n`` of 1) are left out.
    """
    params: dict[str, Any] = {}
    for source in sources:
        # None and dict first: an ABC isinstance test costs more than the rest of a read.
        if source is None:
            continue
        if isinstance(source, (dict, Mapping)):
            if source:
                _collect(source, params)
                _collect_nested(source, params)
        else:
            _collect_fields(source, params)
    return params


def _collect_nested(source: Mapping[str, Any], params: dict[str, Any]) -> None:
    if type(source) is dict and _NESTED_SET.isdisjoint(source):
        return  # a plain dict holding no nested config: nothing for source.get to find
    for key in _NESTED:
        nested = source.get(key)
        if nested is None:
            continue
        if isinstance(nested, Mapping):
            _collect(nested, params)
        else:
            _collect_fields(nested, params)


def _collect(source: Mapping[str, Any], params: dict[str, Any]) -> None:
    for key, value in source.items():
        if not isinstance(key, str):
            continue
        name = _NAMES.get(key[len(_LS_PREFIX) :] if key.startswith(_LS_PREFIX) else key)
        if name is not None and name not in params and _valid(name, value):
            params[name] = value
        elif key == "reasoning" and isinstance(value, Mapping):  # OpenAI Responses
            effort = value.get("effort")
            if "reasoning_level" not in params and _valid("reasoning_level", effort):
                params["reasoning_level"] = effort


def _collect_fields(obj: Any, params: dict[str, Any]) -> None:
    """A config object's fields (``types.GenerateContentConfig``)."""
    read = reader(obj)
    for key, name in _NAMES.items():
        if name not in params and key != "n":
            value = read(key)
            if value is not None and _valid(name, value):  # most fields are absent
                params[name] = value


def _valid(name: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if name == "reasoning_level":  # the string sent to the provider: "low", "high"...
        return isinstance(value, str) and 0 < len(value) <= 64
    if name == "stop":
        if isinstance(value, str):
            return True
        return isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value)
    if not isinstance(value, (int, float)):
        return False
    if name == "max_tokens":
        return value > 0
    if name == "choice_count":
        return isinstance(value, int) and value != 1
    return True
