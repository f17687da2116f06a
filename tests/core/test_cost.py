"""semtrace.cost: price tables, model lookup and what a call cost."""

from __future__ import annotations

import datetime
import json
import logging
import math
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from semtrace.config import SEMTRACE_DEFAULT_PRICES, SEMTRACE_PRICES
from semtrace.cost import (
    COST_SOURCE_DEFAULT,
    COST_SOURCE_USER,
    Cost,
    Price,
    PriceTable,
    Tier,
)
from semtrace.records import Usage

LONG_CONTEXT = Price(
    3.0,
    15.0,
    cache_read=0.3,
    cache_write=3.75,
    tiers=(Tier(200_000, 6.0, 22.5, cache_read=0.6, cache_write=7.5),),
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SEMTRACE_PRICES, raising=False)
    monkeypatch.delenv(SEMTRACE_DEFAULT_PRICES, raising=False)


def shipped() -> dict[str, Any]:
    text = resources.files("semtrace").joinpath("prices.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# --- amounts ---


@pytest.mark.parametrize(
    ("price", "usage", "expected"),
    [
        pytest.param(Price(1.0, 2.0), Usage(1000, 500), 0.002, id="basic"),
        pytest.param(Price(1.0, 2.0), Usage(output_tokens=100), 0.0002, id="output-only"),
        pytest.param(Price(0.02, 0), Usage(input_tokens=1000), 0.00002, id="embeddings"),
        pytest.param(
            Price(2.5, 10.0, cache_read=1.25),
            Usage(1000, 100, cache_read_input_tokens=400),
            (600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6,
            id="cached-input-at-cache-rate",
        ),
        pytest.param(
            Price(2.5, 10.0),
            Usage(1000, 100, cache_read_input_tokens=400),
            (1000 * 2.5 + 100 * 10) / 1e6,
            id="cached-input-without-cache-rate-is-input",
        ),
        pytest.param(
            Price(3.0, 15.0, cache_read=0.3, cache_write=3.75),
            Usage(10_000, 0, cache_read_input_tokens=2000, cache_creation_input_tokens=5000),
            (3000 * 3.0 + 2000 * 0.3 + 5000 * 3.75) / 1e6,
            id="cache-write",
        ),
        pytest.param(
            Price(1.1, 4.4),
            Usage(100, 1000, reasoning_output_tokens=800),
            (100 * 1.1 + 1000 * 4.4) / 1e6,
            id="reasoning-at-output-rate",
        ),
        pytest.param(
            Price(1.0, 4.0, reasoning=8.0),
            Usage(0, 1000, reasoning_output_tokens=250),
            (750 * 4.0 + 250 * 8.0) / 1e6,
            id="reasoning-at-own-rate",
        ),
        pytest.param(
            LONG_CONTEXT, Usage(200_000, 1000), (200_000 * 3 + 1000 * 15) / 1e6, id="tier-at-edge"
        ),
        pytest.param(
            LONG_CONTEXT,
            Usage(200_001, 1000),
            (200_001 * 6 + 1000 * 22.5) / 1e6,
            id="tier-above-edge",
        ),
        pytest.param(
            LONG_CONTEXT,
            Usage(250_000, 0, cache_read_input_tokens=200_000),
            (50_000 * 6 + 200_000 * 0.6) / 1e6,
            id="tier-counts-cached-input-and-has-own-cache-rate",
        ),
        pytest.param(
            Price(1.0, 2.0, tiers=(Tier(1000, 100.0, 200.0), Tier(100, 10.0, 20.0))),
            Usage(500, 1),
            (500 * 10 + 20) / 1e6,
            id="tiers-sorted-middle",
        ),
        pytest.param(
            Price(1.0, 2.0, tiers=(Tier(1000, 100.0, 200.0), Tier(100, 10.0, 20.0))),
            Usage(1001, 1),
            (1001 * 100 + 200) / 1e6,
            id="tiers-sorted-highest",
        ),
        pytest.param(Price(0, 0), Usage(10**6, 10**6), 0.0, id="self-hosted-zero"),
    ],
)
def test_amount(price: Price, usage: Usage, expected: float) -> None:
    amount = price.amount(usage)
    assert amount is not None
    assert amount == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "usage",
    [
        pytest.param(Usage(), id="nothing-reported"),
        pytest.param(Usage(100, 10, cache_read_input_tokens=101), id="cached-above-input"),
        pytest.param(
            Usage(100, 10, cache_read_input_tokens=60, cache_creation_input_tokens=50),
            id="cached-plus-written-above-input",
        ),
        pytest.param(Usage(100, 10, reasoning_output_tokens=11), id="reasoning-above-output"),
        pytest.param(Usage(-1, 10), id="negative"),
    ],
)
def test_usage_that_breaks_the_convention_gets_no_amount(usage: Usage) -> None:
    assert Price(1.0, 2.0).amount(usage) is None


# --- lookup ---

USER_TABLE: Mapping[str, Any] = {
    "my-model": {"input": 1, "output": 2},
    "my-finetune": {"input": 3, "output": 12, "aliases": ["ft:gpt-4o-mini:acme::abc123"]},
    "meta-llama/Llama-3-8B": {"input": 0.1, "output": 0.1},
    "gpt-4o": {"input": 2, "output": 8},
    "azure.ai.openai/gpt-4o": {"input": 2.75, "output": 11},
    "ollama/*": {"input": 0, "output": 0},
}


@pytest.mark.parametrize(
    ("model", "provider", "key"),
    [
        pytest.param("my-model", None, "my-model", id="exact"),
        pytest.param("  MY-Model ", "openai", "my-model", id="case-and-space-insensitive"),
        pytest.param("ft:gpt-4o-mini:acme::abc123", "openai", "my-finetune", id="alias"),
        pytest.param("openrouter/my-model", None, "my-model", id="routed-prefix-stripped"),
        pytest.param("models/my-model", "gcp.gemini", "my-model", id="models-prefix-stripped"),
        pytest.param(
            "meta-llama/Llama-3-8B", "huggingface", "meta-llama/Llama-3-8B", id="slash-in-key"
        ),
        pytest.param("my-model-2025-01-31", None, "my-model", id="openai-date-stamp"),
        pytest.param("my-model-20250131", None, "my-model", id="anthropic-date-stamp"),
        pytest.param("my-model@20250131", None, "my-model", id="vertex-date-stamp"),
        pytest.param("my-model-0613", None, None, id="not-a-date-stamp"),
        pytest.param("my-model-mini", None, None, id="no-longest-prefix"),
        pytest.param("my-mod", None, None, id="no-shorter-prefix"),
        pytest.param("llama3.1:8b", "ollama", "ollama/*", id="provider-wildcard"),
        pytest.param("llama3.1:8b", None, None, id="wildcard-needs-provider"),
        pytest.param("gpt-4o", "azure.ai.openai", "azure.ai.openai/gpt-4o", id="provider-scoped"),
        pytest.param("gpt-4o", "openai", "gpt-4o", id="user-over-default"),
        pytest.param(
            "gpt-4o-2024-05-13", "openai", "gpt-4o", id="user-over-default-even-via-date-rule"
        ),
        pytest.param("gpt-4o-mini-2024-07-18", "openai", "openai/gpt-4o-mini", id="default"),
        pytest.param("unknown-model", "openai", None, id="unknown"),
        pytest.param(None, "openai", None, id="no-model"),
        pytest.param("", "openai", None, id="empty-model"),
    ],
)
def test_lookup_in_a_user_table_over_defaults(
    model: str | None, provider: str | None, key: str | None
) -> None:
    table = PriceTable.load(USER_TABLE)
    cost = table.cost(model, provider, Usage(1000, 1000))
    assert (cost.model if cost else None) == key
    assert (table.price_for(model, provider) is None) is (key is None)


@pytest.mark.parametrize(
    ("model", "provider", "key"),
    [
        pytest.param("gpt-4o-mini", "openai", "openai/gpt-4o-mini", id="exact"),
        pytest.param("gpt-4o-mini-2024-07-18", "openai", "openai/gpt-4o-mini", id="dated"),
        pytest.param("gpt-4o-2024-08-06", "openai", "openai/gpt-4o", id="dated-alias"),
        pytest.param(
            "gpt-4o-2024-05-13", "openai", "openai/gpt-4o-2024-05-13", id="snapshot-own-price"
        ),
        pytest.param("openai/gpt-4o-mini", None, "openai/gpt-4o-mini", id="routed-name"),
        pytest.param(
            "claude-sonnet-4-5-20250929",
            "anthropic",
            "anthropic/claude-sonnet-4-5",
            id="anthropic-dated",
        ),
        pytest.param("gpt-4o-mini", None, None, id="defaults-need-the-provider"),
        pytest.param("gpt-4o", "azure.ai.openai", None, id="defaults-not-for-azure"),
        pytest.param("gpt-4o-mini-audio-preview", "openai", None, id="no-prefix-guess"),
        pytest.param("gpt-4o-mini-realtime-preview-2024-12-17", "openai", None, id="realtime"),
    ],
)
def test_lookup_in_shipped_defaults(model: str | None, provider: str | None, key: str) -> None:
    cost = PriceTable.load().cost(model, provider, Usage(10, 10))
    assert (cost.model if cost else None) == key
    if cost is not None:
        assert cost.source == COST_SOURCE_DEFAULT


def test_snapshot_priced_apart_from_its_alias() -> None:
    table = PriceTable.load()
    dated = table.price_for("gpt-4o-2024-05-13", "openai")
    alias = table.price_for("gpt-4o", "openai")
    assert dated is not None and alias is not None
    assert dated.input != alias.input


def test_cost_carries_currency_source_model_and_estimate() -> None:
    table = PriceTable.load({"m": {"input": 1, "output": 1, "currency": "eur"}})
    cost = table.cost("m", "openai", Usage(10**6, 0), estimated=True)
    assert cost == Cost(1.0, "EUR", COST_SOURCE_USER, "m", estimated=True)
    assert table.cost("m", "openai", None) is None
    assert table.cost("m", "openai", Usage()) is None
    assert table.cost("m", "openai", Usage(10, 20, cache_read_input_tokens=11)) is None


def test_zero_priced_model_costs_zero_not_none() -> None:
    table = PriceTable.load({"ollama/*": {"input": 0, "output": 0}}, include_defaults=False)
    cost = table.cost("qwen2.5:7b", "ollama", Usage(5000, 5000))
    assert cost is not None and cost.amount == 0.0


def test_response_model_is_priced_first_then_the_request_model() -> None:
    table = PriceTable.load(
        {"deployment": {"input": 1, "output": 1}, "real-model": {"input": 9, "output": 9}},
        include_defaults=False,
    )
    usage = Usage(10**6, 0)
    answered = table.cost("deployment", "azure.ai.openai", usage, response_model="real-model")
    assert answered is not None and answered.model == "real-model"
    fallback = table.cost("deployment", "azure.ai.openai", usage, response_model="unpriced")
    assert fallback is not None and fallback.model == "deployment"


def test_lookup_cache_stays_bounded() -> None:
    table = PriceTable.load({"m": {"input": 1, "output": 1}}, include_defaults=False)
    for i in range(3000):
        table.price_for(f"model-{i}", "openai")
    assert table.price_for("m", "openai") == Price(1, 1)
    assert len(table._cache) <= 1024


# --- loading and precedence ---


def test_user_entries_override_defaults_per_model() -> None:
    table = PriceTable.load({"openai/gpt-4o-mini": {"input": 0.1, "output": 0.2}})
    mini = table.cost("gpt-4o-mini", "openai", Usage(10**6, 0))
    other = table.cost("gpt-4.1", "openai", Usage(10**6, 0))
    assert mini is not None and (mini.amount, mini.source) == (0.1, COST_SOURCE_USER)
    assert other is not None and other.source == COST_SOURCE_DEFAULT


@pytest.mark.parametrize(
    ("include_defaults", "env", "has_defaults"),
    [
        pytest.param(True, None, True, id="explicit-on"),
        pytest.param(False, None, False, id="explicit-off"),
        pytest.param(None, None, True, id="default-on"),
        pytest.param(None, "false", False, id="env-off"),
        pytest.param(True, "false", True, id="explicit-beats-env"),
        pytest.param(None, "maybe", True, id="bad-env-falls-back"),
    ],
)
def test_shipped_defaults_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
    include_defaults: bool | None,
    env: str | None,
    has_defaults: bool,
) -> None:
    if env is not None:
        monkeypatch.setenv(SEMTRACE_DEFAULT_PRICES, env)
    table = PriceTable.load(include_defaults=include_defaults)
    assert (table.price_for("gpt-4o-mini", "openai") is not None) is has_defaults


def test_constructor_takes_prices_and_includes_defaults() -> None:
    table = PriceTable({"m": Price(1, 2)})
    assert table.price_for("m") == Price(1, 2)
    assert table.price_for("gpt-4o-mini", "openai") is not None
    assert (
        PriceTable({"m": Price(1, 2)}, include_defaults=False).price_for("gpt-4o-mini", "openai")
        is None
    )


TABLE_JSON = {"my-model": {"input": 1.5, "output": 3, "as_of": "2026-01-02"}}


@pytest.mark.parametrize("as_str", [pytest.param(False, id="path"), pytest.param(True, id="str")])
def test_load_json_file(tmp_path: Path, as_str: bool) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(TABLE_JSON), encoding="utf-8")
    table = PriceTable.load(str(path) if as_str else path, include_defaults=False)
    assert table.price_for("my-model") == Price(1.5, 3, as_of="2026-01-02")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is 3.11+")
def test_load_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        """
["claude-sonnet-4-5"]
input = 3
output = 15
cache_read = 0.3
cache_write = 3.75
as_of = 2026-01-02
aliases = ["sonnet"]

[["claude-sonnet-4-5".tiers]]
above_input_tokens = 200_000
input = 6
output = 22.5
cache_read = 0.6
cache_write = 7.5
""",
        encoding="utf-8",
    )
    price = PriceTable.load(path, include_defaults=False).price_for("sonnet")
    assert price is not None
    assert price.as_of == "2026-01-02"
    assert price.tiers == (Tier(200_000, 6, 22.5, cache_read=0.6, cache_write=7.5),)


def test_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(TABLE_JSON), encoding="utf-8")
    monkeypatch.setenv(SEMTRACE_PRICES, str(path))
    table = PriceTable.load()
    cost = table.cost("my-model", "openai", Usage(10**6, 0))
    assert cost is not None and (cost.amount, cost.source) == (1.5, COST_SOURCE_USER)
    assert table.price_for("gpt-4o-mini", "openai") is not None  # defaults still layered


def test_explicit_source_beats_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(TABLE_JSON), encoding="utf-8")
    monkeypatch.setenv(SEMTRACE_PRICES, str(path))
    table = PriceTable.load({"other": {"input": 1, "output": 1}})
    assert table.price_for("my-model") is None
    assert table.price_for("other") is not None


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="missing-file"),
        pytest.param("{not json", id="invalid-json"),
        pytest.param('{"m": {"input": -1, "output": 1}}', id="invalid-table"),
    ],
)
def test_bad_env_var_warns_and_falls_back(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    content: str | None,
) -> None:
    path = tmp_path / "prices.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv(SEMTRACE_PRICES, str(path))
    with caplog.at_level(logging.WARNING, logger="semtrace.cost"):
        table = PriceTable.load()
    assert SEMTRACE_PRICES in caplog.text
    assert table.price_for("m") is None
    assert table.price_for("gpt-4o-mini", "openai") is not None


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(None, "cannot read", id="missing-file"),
        pytest.param("{not json", "not valid", id="invalid-json"),
        pytest.param("[1, 2]", "must map model names", id="not-a-table"),
        pytest.param('{"m": {"input": "cheap", "output": 1}}', "model 'm'.*'input'", id="field"),
    ],
)
def test_bad_explicit_file_raises(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "prices.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        PriceTable.load(path)


# --- validation ---


@pytest.mark.parametrize(
    ("table", "match"),
    [
        pytest.param(
            {"m": {"input": -1, "output": 1}}, r"model 'm': field 'input' .*non-negative", id="neg"
        ),
        pytest.param({"m": {"input": "1", "output": 1}}, r"model 'm': field 'input'", id="string"),
        pytest.param({"m": {"input": True, "output": 1}}, r"model 'm': field 'input'", id="bool"),
        pytest.param(
            {"m": {"input": 1, "output": math.nan}}, r"model 'm': field 'output'", id="nan"
        ),
        pytest.param(
            {"m": {"input": 1, "output": 1, "cache_read": -0.5}},
            r"model 'm': field 'cache_read'",
            id="neg-cache-read",
        ),
        pytest.param(
            {"m": {"input": 1, "output": 1, "cached": 0.5}},
            r"model 'm': unknown field 'cached'",
            id="unknown-field",
        ),
        pytest.param({"m": {"input": 1}}, r"model 'm': missing field 'output'", id="missing"),
        pytest.param({"m": 3}, r"model 'm': entry must be a table", id="not-a-table"),
        pytest.param(
            {"m": {"input": 1, "output": 1, "currency": "dollars"}},
            r"model 'm': field 'currency'",
            id="currency",
        ),
        pytest.param(
            {"m": {"input": 1, "output": 1, "as_of": "yesterday"}},
            r"model 'm': field 'as_of'",
            id="as-of",
        ),
        pytest.param(
            {"m": {"input": 1, "output": 1, "tiers": [{"input": 2, "output": 2}]}},
            r"model 'm': tiers\[0\]: missing field 'above_input_tokens'",
            id="tier-threshold-missing",
        ),
        pytest.param(
            {
                "m": {
                    "input": 1,
                    "output": 1,
                    "tiers": [{"above_input_tokens": 0, "input": 2, "output": 2}],
                }
            },
            r"model 'm': tiers\[0\]: field 'above_input_tokens'",
            id="tier-threshold-zero",
        ),
        pytest.param(
            {
                "m": {
                    "input": 1,
                    "output": 1,
                    "tiers": [{"above_input_tokens": 9, "input": 2, "output": -2}],
                }
            },
            r"model 'm': tiers\[0\]: field 'output'",
            id="tier-negative",
        ),
        pytest.param(
            {
                "m": {
                    "input": 1,
                    "output": 1,
                    "tiers": [{"above_input_tokens": 9, "input": 2, "output": 2, "rate": 1}],
                }
            },
            r"model 'm': tiers\[0\]: unknown field 'rate'",
            id="tier-unknown-field",
        ),
        pytest.param(
            {
                "m": {
                    "input": 1,
                    "output": 1,
                    "tiers": [
                        {"above_input_tokens": 9, "input": 2, "output": 2},
                        {"above_input_tokens": 9, "input": 3, "output": 3},
                    ],
                }
            },
            r"model 'm': .*repeats a threshold",
            id="tier-duplicate-threshold",
        ),
        pytest.param(
            {
                "m": {
                    "input": 1,
                    "output": 1,
                    "cache_read": 0.1,
                    "tiers": [
                        {"above_input_tokens": 9, "input": 2, "output": 2},
                    ],
                }
            },
            r"model 'm': tier above 9 input tokens must set 'cache_read'",
            id="tier-omits-cache-rate",
        ),
        pytest.param(
            {"m": {"input": 1, "output": 1, "aliases": "n"}},
            r"model 'm': field 'aliases'",
            id="aliases-not-a-list",
        ),
        pytest.param(
            {"a": {"input": 1, "output": 1, "aliases": ["B"]}, "b": {"input": 1, "output": 1}},
            r"'b' names both 'a' and 'b'",
            id="alias-collides-with-key",
        ),
        pytest.param(
            {"M": {"input": 1, "output": 1}, "m": {"input": 2, "output": 2}},
            r"'m' names both 'M' and 'm'",
            id="keys-differ-only-in-case",
        ),
        pytest.param({"gpt-*": {"input": 1, "output": 1}}, r"only allowed as", id="wildcard"),
        pytest.param({"": {"input": 1, "output": 1}}, r"non-empty string", id="empty-name"),
    ],
)
def test_invalid_tables_raise_naming_model_and_field(table: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PriceTable.load(table)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"input": -1, "output": 0}, id="negative"),
        pytest.param({"input": 1, "output": math.inf}, id="infinite"),
        pytest.param({"input": 1, "output": 1, "currency": "US"}, id="currency"),
        pytest.param({"input": 1, "output": 1, "tiers": 3}, id="tiers-not-a-sequence"),
        pytest.param({"input": 1, "output": 1, "tiers": ({"above": 1},)}, id="tiers-not-tier"),
        pytest.param({"input": 1, "output": 1, "source": ""}, id="empty-source"),
    ],
)
def test_price_validates_when_built_directly(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Price(**kwargs)


def test_price_normalises_currency_and_orders_tiers() -> None:
    price = Price(1, 2, currency=" eur ", tiers=(Tier(500, 3, 4), Tier(100, 2, 3)))
    assert price.currency == "EUR"
    assert [t.above_input_tokens for t in price.tiers] == [100, 500]


# --- the shipped table ---


def test_shipped_prices_load_through_importlib_resources() -> None:
    data = shipped()
    assert 0 < len(data) <= 20, "keep the shipped table small"
    table = PriceTable.load(include_defaults=True)
    for key in data:
        provider, _, model = key.partition("/")
        price = table.price_for(model, provider)
        assert price is not None, key


@pytest.mark.parametrize("key", sorted(shipped()))
def test_each_shipped_price_has_source_and_as_of(key: str) -> None:
    entry = shipped()[key]
    provider, _, model = key.partition("/")
    assert provider in {"openai", "anthropic"} and model, "shipped keys are provider-scoped"
    assert str(entry["source"]).startswith("https://"), key
    as_of = datetime.date.fromisoformat(entry["as_of"])
    assert datetime.date(2024, 1, 1) <= as_of <= datetime.date.today()
    assert PriceTable.load({}, include_defaults=True).price_for(model, provider) is not None
