"""semtrace's attribute names agree with the installed semantic-conventions package.

``semconv.STANDARD_ATTRIBUTES`` must all be defined by the conventions, and
``semconv.OWN_ATTRIBUTES`` must stay out of every namespace the conventions own.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import pytest
from semtrace import semconv

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from opentelemetry.semconv import attributes as stable_attributes
    from opentelemetry.semconv._incubating import attributes as incubating_attributes
    from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as upstream


def _convention_attributes() -> frozenset[str]:
    """Every attribute key the installed package defines, stable and incubating."""
    keys: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for package in (stable_attributes, incubating_attributes):
            for info in pkgutil.iter_modules(package.__path__):
                module = importlib.import_module(f"{package.__name__}.{info.name}")
                keys.update(
                    v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)
                )
    return frozenset(keys)


CONVENTIONS = _convention_attributes()
#: Namespaces the conventions own: the first segment of every key they define
#: (``gen_ai``, ``server``, ``error``, ``user``, ``session``, ``http``, ...).
OWNED_NAMESPACES = frozenset(key.split(".", 1)[0] for key in CONVENTIONS if "." in key)
#: Module constants that hold attribute keys (the rest hold values, metric or event names).
KEY_PREFIXES = ("GEN_AI_", "SEMTRACE_", "ERROR_", "USER_", "SESSION_")
KEYS = {
    name: value
    for name, value in vars(semconv).items()
    if name.startswith(KEY_PREFIXES) and isinstance(value, str)
}


def test_the_package_owns_the_expected_namespaces() -> None:
    # Guards the namespace test below against an empty or broken scan of the package.
    assert {"gen_ai", "server", "error", "user", "session", "http"} <= OWNED_NAMESPACES
    assert "semtrace" not in OWNED_NAMESPACES


def test_every_attribute_key_is_classified_once() -> None:
    unclassified = {
        name
        for name, value in KEYS.items()
        if value not in semconv.STANDARD_ATTRIBUTES | semconv.OWN_ATTRIBUTES
    }
    assert not unclassified, f"add these to STANDARD_ATTRIBUTES or OWN_ATTRIBUTES: {unclassified}"
    assert not semconv.STANDARD_ATTRIBUTES & semconv.OWN_ATTRIBUTES


@pytest.mark.parametrize("key", sorted(semconv.STANDARD_ATTRIBUTES))
def test_standard_attribute_is_defined_by_the_conventions(key: str) -> None:
    assert key in CONVENTIONS


@pytest.mark.parametrize("key", sorted(semconv.OWN_ATTRIBUTES))
def test_own_attribute_stays_out_of_the_conventions_namespaces(key: str) -> None:
    namespace = key.split(".", 1)[0]
    assert namespace not in OWNED_NAMESPACES, f"{key} uses the conventions' {namespace}.*"
    assert key.startswith("semtrace."), key
    assert key not in CONVENTIONS


def test_cost_is_in_semtraces_namespace() -> None:
    # The conventions define no cost attribute; Langfuse reads gen_ai.usage.* as token usage.
    cost_keys = [v for v in KEYS.values() if ".cost" in v]
    assert cost_keys
    assert all(v.startswith("semtrace.") for v in cost_keys), cost_keys


@pytest.mark.parametrize(
    "name", sorted(n for n in KEYS if n.startswith("GEN_AI_") and hasattr(upstream, n))
)
def test_genai_constant_matches_the_semconv_package(name: str) -> None:
    assert KEYS[name] == getattr(upstream, name)


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
