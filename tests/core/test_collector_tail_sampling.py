"""examples/collector/tail_sampling.yaml: a well-formed pipeline with semtrace's policy.

The policy types allowed are those the contrib ``tail_sampling`` processor documents
(processor/tailsamplingprocessor/README.md in open-telemetry/opentelemetry-collector-contrib,
https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/tailsamplingprocessor).
Nothing here runs a collector: these are static checks of the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from semtrace import semconv
from semtrace.export import sampling
from semtrace.quality import signals

CONFIG = Path(__file__).parents[2] / "examples" / "collector" / "tail_sampling.yaml"

# The tail_sampling processor's policy types, as its README lists them.
POLICY_TYPES = frozenset(
    {
        "always_sample",
        "latency",
        "numeric_attribute",
        "probabilistic",
        "status_code",
        "string_attribute",
        "trace_state",
        "trace_flags",
        "rate_limiting",
        "bytes_limiting",
        "span_count",
        "boolean_attribute",
        "ottl_condition",
        "and",
        "drop",
        "composite",
    }
)
SECTIONS = ("receivers", "processors", "exporters")
OTTL_KEY = re.compile(r'attributes\["([^"]+)"\]')
OTTL_BELOW = re.compile(r'attributes\["semtrace\.quality\.(\w+)"\]\s*<\s*([0-9.]+)')
Q = semconv.SEMTRACE_QUALITY_PREFIX
SIGNALS = (*sampling.SCORES, *sampling.FLAGS)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def policies(config: dict[str, Any]) -> list[dict[str, Any]]:
    found = config["processors"]["tail_sampling"]["policies"]
    assert isinstance(found, list) and found
    return found


def _by_type(policies: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [p[kind] for p in policies if p["type"] == kind]


def _known_attribute_keys() -> set[str]:
    names = {v for k, v in vars(semconv).items() if k.isupper() and isinstance(v, str)}
    quality = {Q + s for s in SIGNALS} | {Q + s + ".label" for s in SIGNALS}
    local = {semconv.SEMTRACE_USAGE_COST_AMOUNT, semconv.SEMTRACE_USAGE_COST_CURRENCY}
    return names | quality | local


def _attribute_keys(policies: list[dict[str, Any]]) -> set[str]:
    keys = set()
    for policy in policies:
        body = policy.get(policy["type"]) or {}
        if "key" in body:
            keys.add(body["key"])
        for condition in body.get("span", []) + body.get("spanevent", []):
            keys.update(OTTL_KEY.findall(condition))
    return keys


def test_the_pipeline_only_references_defined_components(config: dict[str, Any]) -> None:
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces"}
    for pipeline in pipelines.values():
        for section in SECTIONS:
            assert pipeline[section], f"the pipeline has no {section}"
            for component in pipeline[section]:
                assert component in (config.get(section) or {}), f"{component} is not defined"


def test_the_pipeline_goes_from_otlp_through_tail_sampling_to_otlp(config: dict[str, Any]) -> None:
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert "tail_sampling" in traces["processors"]
    assert traces["processors"][0] == "memory_limiter"  # as the collector recommends
    assert all(e.split("/")[0] in {"otlp", "otlp_grpc", "otlp_http"} for e in traces["exporters"])


def test_every_policy_type_is_a_documented_one(policies: list[dict[str, Any]]) -> None:
    for policy in policies:
        assert policy["type"] in POLICY_TYPES, policy
        assert policy["type"] == "always_sample" or policy["type"] in policy, policy
    names = [p["name"] for p in policies]
    assert len(names) == len(set(names))


def test_attribute_keys_are_semtrace_names(policies: list[dict[str, Any]]) -> None:
    keys = _attribute_keys(policies)
    assert keys, "the policies look at semtrace's attributes"
    assert keys <= _known_attribute_keys(), keys - _known_attribute_keys()


def test_no_numeric_attribute_policy_on_a_float(policies: list[dict[str, Any]]) -> None:
    # numeric_attribute compares int64 values: a double attribute reads as 0 and matches
    # any range containing 0. Scores and cost are floats: they need ottl_condition.
    floats = {Q + s for s in sampling.SCORES} | {semconv.SEMTRACE_USAGE_COST_AMOUNT}
    assert not {b["key"] for b in _by_type(policies, "numeric_attribute")} & floats


def test_boolean_policies_are_the_flags_policy_keeps(policies: list[dict[str, Any]]) -> None:
    booleans = _by_type(policies, "boolean_attribute")
    assert all(b["value"] is True for b in booleans)
    assert {b["key"] for b in booleans} == {Q + f for f in sampling.Policy().keep_flags}
    assert sampling.Policy().keep_flags == frozenset(signals.FLAGS)  # so every flag has its policy


def test_thresholds_match_the_in_process_policy_defaults(
    config: dict[str, Any], policies: list[dict[str, Any]]
) -> None:
    policy, limits = sampling.Policy(), sampling.Limits()
    assert _by_type(policies, "status_code") == [{"status_codes": ["ERROR"]}]
    assert policy.max_duration_s is not None
    assert _by_type(policies, "latency") == [{"threshold_ms": policy.max_duration_s * 1000}]
    (probabilistic,) = _by_type(policies, "probabilistic")
    assert probabilistic["sampling_percentage"] == pytest.approx(policy.base_rate * 100)
    (tokens,) = _by_type(policies, "numeric_attribute")
    assert tokens["min_value"] == policy.max_tokens
    floors = {
        m.group(1): float(m.group(2))
        for body in _by_type(policies, "ottl_condition")
        for condition in body["span"]
        if (m := OTTL_BELOW.search(condition))
    }
    assert floors == dict(policy.floors())
    wait = config["processors"]["tail_sampling"]["decision_wait"]
    assert wait == f"{limits.decision_wait_s:g}s"
