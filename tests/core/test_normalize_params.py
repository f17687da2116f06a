"""semtrace.normalize.request_params: every provider's spelling of the sampling parameters."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from semtrace import normalize


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        pytest.param(
            [{"model": "gpt-4o", "max_completion_tokens": 50, "temperature": 0.3, "n": 2}],
            {"max_tokens": 50, "temperature": 0.3, "choice_count": 2},
            id="openai-reasoning-models",
        ),
        pytest.param(
            [{"max_output_tokens": 64, "top_p": 0.9}],
            {"max_tokens": 64, "top_p": 0.9},
            id="openai-responses",
        ),
        pytest.param(
            [{"model": "o4-mini", "reasoning_effort": "high"}],
            {"reasoning_level": "high"},
            id="openai-reasoning-effort",
        ),
        pytest.param(
            [{"reasoning": {"effort": "low", "summary": "auto"}}],
            {"reasoning_level": "low"},
            id="openai-responses-reasoning",
        ),
        pytest.param(
            [{"reasoning_effort": 3, "reasoning": "high"}],
            {},
            id="reasoning-effort-not-a-string",
        ),
        pytest.param(
            [{"max_tokens": 1024, "stop_sequences": ["\n\nHuman:"], "top_k": 5}],
            {"max_tokens": 1024, "stop": ["\n\nHuman:"], "top_k": 5},
            id="anthropic",
        ),
        pytest.param(
            [{"model": "llama3.2", "options": {"num_predict": 50, "temperature": 0.3, "seed": 7}}],
            {"max_tokens": 50, "temperature": 0.3, "seed": 7},
            id="ollama-options",
        ),
        pytest.param([{"num_predict": -1}], {}, id="ollama-unlimited-is-no-limit"),
        pytest.param(
            [
                {
                    "generationConfig": {
                        "maxOutputTokens": 50,
                        "topP": 0.5,
                        "topK": 3,
                        "stopSequences": ["END"],
                        "candidateCount": 1,
                    }
                }
            ],
            {"max_tokens": 50, "top_p": 0.5, "top_k": 3, "stop": ["END"]},
            id="gemini-generation-config",
        ),
        pytest.param(
            [{"inferenceConfig": {"maxTokens": 5, "temperature": 0.1, "stopSequences": ["x"]}}],
            {"max_tokens": 5, "temperature": 0.1, "stop": ["x"]},
            id="bedrock-inference-config",
        ),
        pytest.param(
            [{"random_seed": 11, "frequency_penalty": 0.5, "presence_penalty": 0.25}],
            {"seed": 11, "frequency_penalty": 0.5, "presence_penalty": 0.25},
            id="mistral",
        ),
        pytest.param(
            [{"stop": None}, {"ls_temperature": 0.2, "ls_max_tokens": 9, "ls_stop": ["."]}],
            {"temperature": 0.2, "max_tokens": 9, "stop": ["."]},
            id="langchain-ls-metadata",
        ),
        pytest.param(
            [{"temperature": 0.9}, {"temperature": 0.1, "top_p": 0.3}],
            {"temperature": 0.9, "top_p": 0.3},
            id="earlier-source-wins",
        ),
        pytest.param(
            [SimpleNamespace(num_predict=50, temperature=None, top_k=4)],
            {"max_tokens": 50, "top_k": 4},
            id="model-object-fields",
        ),
        pytest.param(
            [{"temperature": "hot", "max_tokens": True, "seed": None}], {}, id="bad-values-dropped"
        ),
    ],
)
def test_request_params(sources: list[Any], expected: dict[str, Any]) -> None:
    assert normalize.request_params(*sources) == expected
