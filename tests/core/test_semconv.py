"""semtrace's attribute names agree with the installed semantic-conventions package."""

from __future__ import annotations

import warnings

import pytest
from semtrace import semconv

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as upstream

OURS = {
    name: value
    for name, value in vars(semconv).items()
    if name.startswith("GEN_AI_") and isinstance(value, str) and value not in semconv.PROPOSED
}


@pytest.mark.parametrize("name", sorted(n for n in OURS if hasattr(upstream, n)))
def test_genai_attribute_matches_the_semconv_package(name: str) -> None:
    assert OURS[name] == getattr(upstream, name)


def test_most_genai_names_are_known_to_the_semconv_package() -> None:
    # A few are newer than the package (e.g. agent/workflow names in older releases);
    # the rest must exist there, so a rename upstream is noticed.
    known = [n for n in OURS if hasattr(upstream, n)]
    assert len(known) >= len(OURS) - 3, sorted(set(OURS) - set(known))


def test_operation_names_match_the_semconv_enum() -> None:
    values = {v.value for v in upstream.GenAiOperationNameValues}
    for op in (
        semconv.OP_CHAT,
        semconv.OP_TEXT_COMPLETION,
        semconv.OP_EMBEDDINGS,
        semconv.OP_EXECUTE_TOOL,
        semconv.OP_INVOKE_AGENT,
    ):
        assert op in values
