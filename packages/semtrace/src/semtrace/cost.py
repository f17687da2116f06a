"""What a model call cost, from its token usage and a price table.

Example:
    >>> from semtrace.cost import PriceTable
    >>> from semtrace.config import SEMTRACE_PRICES, env_default_prices, env_prices_path
from semtrace.records import Usage
    >>> table = PriceTable.load({"my-model": {"input": 1.0, "output": 2.0}})
    >>> table.cost("my-model", "openai", Usage(input_tokens=1000, output_tokens=500))
    Cost(amount=0.002, currency='USD', source='user', model='my-model', estimated=False)
    >>> table.cost("gpt-4o-mini-2024-07-18", "openai", Usage(1_000_000, 0)).amount
    0.15
    >>> table.cost("unknown-model", "openai", Usage(1000, 500)) is None
    True

A model with no known price gets no cost: semtrace never guesses one.

Price tables:
    A table maps a model name to its rates, in currency units per **million** tokens.
    It comes from a JSON file (or TOML, on Python 3.11+, chosen by a ``.toml`` suffix),
    from a mapping, or from the file named by ``SEMTRACE_PRICES``::

        {
          "my-finetune": {"input": 3.0, "output": 12.0, "cache_read": 1.5,
                          "aliases": ["ft:gpt-4o-mini:acme::abc123"]},
          "claude-sonnet-4-5": {
            "input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75,
            "tiers": [{"above_input_tokens": 200000, "input": 6.0, "output": 22.5,
                       "cache_read": 0.6, "cache_write": 7.5}]
          },
          "ollama/*": {"input": 0, "output": 0}
        }

    Fields of an entry: ``input`` and ``output`` (required; an embeddings model says
    ``"output": 0``); ``cache_read`` (cached input; omitted = the input rate);
    ``cache_write`` (cache creation; omitted = the input rate); ``reasoning`` (reasoning
    output; omitted = the output rate); ``currency`` (ISO 4217 code, default ``USD``);
    ``tiers``; ``aliases`` (other names for this entry); ``source`` and ``as_of``
    (provenance, informational). Anything else is an error, as is a negative or
    non-numeric rate; the message names the model and the field. Self-hosted models are
    priced with explicit zero rates; ``"<provider>/*"`` prices every model of a provider.

    A tier replaces *all* rates when a request's input tokens (cached ones included) are
    strictly above ``above_input_tokens``, the way Gemini and Claude long-context prices
    work; the highest tier passed wins. A tier must repeat each optional rate its base
    price sets, so a long-context cache rate is never silently the short-context one.

Lookup:
    Names are compared without regard to case. For each layer (the user's table first,
    then the shipped defaults), these names are tried in order, and for each name first
    ``{provider}/{name}`` and then ``{name}``:

    1. the model name as given (an entry's ``aliases`` count as its names);
    2. the part after the last ``/`` (``openai/gpt-4o`` and ``models/gemini-2.5-pro``
       are routed names; ``meta-llama/Llama-3-8B`` matches an entry of that full name
       first);
    3. 1 and 2 without a trailing date stamp: ``-YYYY-MM-DD`` (OpenAI snapshots),
       ``-YYYYMMDD`` (Anthropic) or ``@YYYYMMDD`` (Vertex). So ``gpt-4o-mini-2024-07-18``
       is priced as ``gpt-4o-mini`` unless the table lists the snapshot itself, which is
       how a snapshot with its own price (``gpt-4o-2024-05-13``) is kept apart;
    4. ``{provider}/*``.

    There is deliberately no longest-prefix rule: ``gpt-4o-mini-audio-preview`` or
    ``gpt-4o-mini-realtime`` are not priced like ``gpt-4o-mini``. The user's table wins
    over the shipped defaults as a whole: a user entry found by any rule above beats a
    default found by any rule.

Billing (the OpenAI / LangChain / OpenTelemetry convention of :class:`~semtrace.records.Usage`):
    ``input_tokens`` *includes* cached and cache-creation tokens and ``output_tokens``
    *includes* reasoning tokens, so a call costs::

        (input - cache_read - cache_write) * input_rate
        + cache_read * cache_read_rate + cache_write * cache_write_rate
        + (output - reasoning) * output_rate + reasoning * reasoning_rate

    all over one million. Integrations must normalise usage into this convention: raw
    Anthropic usage leaves cached tokens out of ``input_tokens`` and raw Gemini usage
    leaves thoughts out of the output count. Counts impossible under the convention
    (cached tokens above ``input_tokens``, reasoning above ``output_tokens``) get no cost
    rather than a wrong one; counts that merely look possible are billed as given.
    Anthropic's one-hour cache writes cost more than the five-minute rate a table
    gives; batch and regional prices are not modelled.

Shipped defaults:
    ``prices.json`` next to this module holds a handful of OpenAI and Anthropic list
    prices, each with its ``source`` (the provider's pricing page) and ``as_of`` (the day
    it was checked). Its keys are provider-scoped (``openai/gpt-4o``), so they price
    calls to that provider's own API only, never Azure, Bedrock or Vertex, whose prices
    differ. Turn them off with ``include_defaults=False`` or ``SEMTRACE_DEFAULT_PRICES=false``.

    To update them: check each model on its ``source`` page, change the rates, set
    ``as_of`` to the day you checked, drop models the provider retired, and run
    ``uv run pytest tests/core/test_cost.py``. Add a model only with a price read on
    the provider's own page; when in doubt, leave it out.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from semtrace.config import SEMTRACE_PRICES, env_default_prices, env_prices_path
from semtrace.records import Usage

logger = logging.getLogger(__name__)

#: :attr:`Cost.source` of a price from the user's table (file, env var or mapping).
COST_SOURCE_USER: Final = "user"
#: :attr:`Cost.source` of a price from the shipped ``prices.json``.
COST_SOURCE_DEFAULT: Final = "default"
DEFAULT_CURRENCY: Final = "USD"
#: Rates are per this many tokens.
TOKENS_PER_RATE: Final = 1_000_000

_RATE_FIELDS: Final = ("input", "output", "cache_read", "cache_write", "reasoning")
_OPTIONAL_RATES: Final = ("cache_read", "cache_write", "reasoning")
_ENTRY_FIELDS: Final = frozenset({*_RATE_FIELDS, "currency", "tiers", "aliases", "source", "as_of"})
_TIER_FIELDS: Final = frozenset({*_RATE_FIELDS, "above_input_tokens"})
_CURRENCY = re.compile(r"[A-Z]{3}")
_DATE_STAMP = re.compile(r"(?:-20\d\d-[01]\d-[0-3]\d|[-@]20\d\d[01]\d[0-3]\d)$")
_WILDCARD = "*"
_CACHE_LIMIT = 1024


def _check_rate(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"field {name!r} must be a non-negative number, not {value!r}")


@dataclass(frozen=True, slots=True)
class Tier:
    """Rates that replace a :class:`Price`'s above a number of input tokens per request.

    Attributes:
        above_input_tokens: The tier applies when input tokens (cached included) exceed this.
        input: Input rate per million tokens.
        output: Output rate per million tokens.
        cache_read: Cached-input rate; None means the tier's input rate.
        cache_write: Cache-creation rate; None means the tier's input rate.
        reasoning: Reasoning-output rate; None means the tier's output rate.
    """

    above_input_tokens: int
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None

    def __post_init__(self) -> None:
        threshold = self.above_input_tokens
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ValueError(
                f"field 'above_input_tokens' must be a positive integer, not {threshold!r}"
            )
        for name in _RATE_FIELDS:
            _check_rate(name, getattr(self, name), optional=name in _OPTIONAL_RATES)


@dataclass(frozen=True, slots=True)
class _Rates:
    input: float
    output: float
    cache_read: float
    cache_write: float
    reasoning: float


def _rates(source: Price | Tier) -> _Rates:
    return _Rates(
        input=source.input,
        output=source.output,
        cache_read=source.input if source.cache_read is None else source.cache_read,
        cache_write=source.input if source.cache_write is None else source.cache_write,
        reasoning=source.output if source.reasoning is None else source.reasoning,
    )


@dataclass(frozen=True, slots=True)
class Price:
    """One model's rates, in ``currency`` per million tokens.

    Attributes:
        input: Rate of uncached input tokens.
        output: Rate of output tokens (reasoning included unless ``reasoning`` is set).
        cache_read: Rate of cached input tokens; None bills them as ordinary input.
        cache_write: Rate of cache-creation tokens; None bills them as ordinary input.
        reasoning: Rate of reasoning tokens when billed unlike output; None = ``output``.
        currency: ISO 4217 code.
        tiers: Rates for requests above some input size, e.g. long-context pricing.
        source: Where the price was read (a pricing page URL), for the record.
        as_of: The day the price was checked (``YYYY-MM-DD``), for the record.

    Raises:
        ValueError: If a rate is negative or not a number, the currency is not a
            three-letter code, two tiers share a threshold, a tier omits an optional
            rate the base price sets, or ``as_of`` is not a date.
    """

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    currency: str = DEFAULT_CURRENCY
    tiers: tuple[Tier, ...] = ()
    source: str | None = None
    as_of: str | None = None
    _resolved: _Rates = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in _RATE_FIELDS:
            _check_rate(name, getattr(self, name), optional=name in _OPTIONAL_RATES)
        currency = self.currency.strip().upper() if isinstance(self.currency, str) else ""
        if not _CURRENCY.fullmatch(currency):
            raise ValueError(
                f"field 'currency' must be a three-letter ISO 4217 code, not {self.currency!r}"
            )
        object.__setattr__(self, "currency", currency)
        if not isinstance(self.tiers, (tuple, list)):
            raise ValueError(f"field 'tiers' must be a sequence of Tier, not {self.tiers!r}")
        tiers = tuple(self.tiers)
        if not all(isinstance(t, Tier) for t in tiers):
            raise ValueError("field 'tiers' must hold Tier values")
        tiers = tuple(sorted(tiers, key=lambda t: t.above_input_tokens))
        thresholds = [t.above_input_tokens for t in tiers]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError(f"field 'tiers' repeats a threshold: {thresholds}")
        for tier in tiers:
            for name in _OPTIONAL_RATES:
                if getattr(self, name) is not None and getattr(tier, name) is None:
                    raise ValueError(
                        f"tier above {tier.above_input_tokens} input tokens must set "
                        f"{name!r}, as the base price does"
                    )
        object.__setattr__(self, "tiers", tiers)
        if self.source is not None and (not isinstance(self.source, str) or not self.source):
            raise ValueError(f"field 'source' must be a non-empty string, not {self.source!r}")
        if self.as_of is not None:
            try:
                datetime.date.fromisoformat(self.as_of)
            except (TypeError, ValueError):
                raise ValueError(
                    f"field 'as_of' must be a YYYY-MM-DD date, not {self.as_of!r}"
                ) from None
        object.__setattr__(self, "_resolved", _rates(self))

    def rates_for(self, input_tokens: int) -> Price | Tier:
        """The price or tier that applies to a request of ``input_tokens`` input tokens."""
        chosen: Price | Tier = self
        for tier in self.tiers:
            if input_tokens <= tier.above_input_tokens:
                break
            chosen = tier
        return chosen

    def amount(self, usage: Usage) -> float | None:
        """What ``usage`` costs at this price (see the module docstring for the formula).

        Args:
            usage: Token counts in the OpenAI/LangChain convention (input includes
                cached tokens, output includes reasoning tokens).

        Returns:
            The amount in :attr:`currency`, or None if neither input nor output was
            reported or the counts break the convention.
        """
        terms = self._terms(usage)
        return None if terms is None else sum(terms.values()) / TOKENS_PER_RATE

    def parts(self, usage: Usage) -> dict[str, float] | None:
        """What each kind of token in ``usage`` cost: the terms of :meth:`amount`.

        For exporters that show a cost breakdown (the Langfuse view), never on the hot
        path. Reasoning tokens are part of ``output``, as the providers bill them.

        Returns:
            ``input`` (uncached), ``cache_read``, ``cache_write`` and ``output`` amounts in
            :attr:`currency`, or None where :meth:`amount` is None.
        """
        terms = self._terms(usage)
        if terms is None:
            return None
        return {kind: value / TOKENS_PER_RATE for kind, value in terms.items()}

    def _terms(self, usage: Usage) -> dict[str, float] | None:
        """Tokens times rate per kind (before dividing by the rate unit), or None.

        None where neither input nor output was reported, or the counts break the
        convention (cache tokens are part of input, reasoning tokens part of output).
        """
        if not usage.reported:
            return None
        inp = usage.input_tokens or 0
        out = usage.output_tokens or 0
        cached = usage.cache_read_input_tokens or 0
        written = usage.cache_creation_input_tokens or 0
        reasoning = usage.reasoning_output_tokens or 0
        if min(inp, out, cached, written, reasoning) < 0:
            return None
        if cached + written > inp or reasoning > out:
            return None
        chosen = self.rates_for(inp)
        r = self._resolved if chosen is self else _rates(chosen)
        return {
            "input": (inp - cached - written) * r.input,
            "cache_read": cached * r.cache_read,
            "cache_write": written * r.cache_write,
            "output": (out - reasoning) * r.output + reasoning * r.reasoning,
        }


@dataclass(frozen=True, slots=True)
class Cost:
    """What one call cost.

    Attributes:
        amount: The cost, in ``currency``.
        currency: ISO 4217 code.
        source: Whose price it was: ``"user"`` (the user's table) or ``"default"``
            (semtrace's shipped ``prices.json``).
        model: The table entry that priced the call (e.g. ``openai/gpt-4o-mini``).
        estimated: True when the token counts were estimated (tiktoken), not reported.
    """

    amount: float
    currency: str
    source: str
    model: str
    estimated: bool = False


# --- building a table ---


@dataclass(frozen=True, slots=True)
class _Layer:
    """One table's names (keys and aliases, casefolded) to (entry key, price)."""

    origin: str
    names: Mapping[str, tuple[str, Price]]


_EMPTY_USER = _Layer(COST_SOURCE_USER, {})


def _name(value: object, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {what} must be a non-empty string, not {value!r}")
    name = value.strip().casefold()
    if _WILDCARD in name:
        provider, _, rest = name.partition("/")
        if what != "model name" or rest != _WILDCARD or not provider or _WILDCARD in provider:
            raise ValueError(f"{where}: {what} {value!r}: '*' is only allowed as '<provider>/*'")
    return name


def _tier(raw: object, index: int) -> Tier:
    if not isinstance(raw, Mapping):
        raise ValueError(f"tiers[{index}] must be a table of rates, not {raw!r}")
    unknown = sorted(str(k) for k in raw if k not in _TIER_FIELDS)
    if unknown:
        raise ValueError(f"tiers[{index}]: unknown field {unknown[0]!r}")
    for required in ("above_input_tokens", "input", "output"):
        if required not in raw:
            raise ValueError(f"tiers[{index}]: missing field {required!r}")
    try:
        return Tier(**{str(k): v for k, v in raw.items()})
    except ValueError as exc:
        raise ValueError(f"tiers[{index}]: {exc}") from None


def _price(raw: object) -> tuple[Price, tuple[object, ...]]:
    if isinstance(raw, Price):
        return raw, ()
    if not isinstance(raw, Mapping):
        raise ValueError(f"entry must be a table of rates, not {raw!r}")
    unknown = sorted(str(k) for k in raw if k not in _ENTRY_FIELDS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    for required in ("input", "output"):
        if required not in raw:
            raise ValueError(f"missing field {required!r}")
    fields = {str(k): v for k, v in raw.items() if k != "aliases"}
    tiers = fields.get("tiers", ())
    if not isinstance(tiers, (list, tuple)):
        raise ValueError(f"field 'tiers' must be a list, not {tiers!r}")
    fields["tiers"] = tuple(_tier(t, i) for i, t in enumerate(tiers))
    if isinstance(fields.get("as_of"), datetime.date):  # TOML parses bare dates
        fields["as_of"] = fields["as_of"].isoformat()
    aliases = raw.get("aliases", ())
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple)):
        raise ValueError(f"field 'aliases' must be a list of names, not {aliases!r}")
    return Price(**fields), tuple(aliases)


def _layer(table: Mapping[Any, Any], origin: str, where: str) -> _Layer:
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: a price table must map model names to rates")
    names: dict[str, tuple[str, Price]] = {}
    owner: dict[str, str] = {}
    for key, raw in table.items():
        name = _name(key, "model name", where)
        try:
            price, aliases = _price(raw)
        except ValueError as exc:
            raise ValueError(f"{where}: model {key!r}: {exc}") from None
        entry = (str(key).strip(), price)
        spellings = [(key, name)]
        spellings += [(a, _name(a, "alias", f"{where}: model {key!r}")) for a in aliases]
        for spelling, n in spellings:
            if n in owner:
                raise ValueError(f"{where}: {spelling!r} names both {owner[n]!r} and {key!r}")
            owner[n] = str(key)
            names[n] = entry
    return _Layer(origin, names)


def _read(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read price table {str(path)!r}: {exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib

                data: object = tomllib.loads(text)
            else:
                raise ValueError("TOML price tables need Python 3.11+; use JSON")
        else:
            data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ValueError(f"price table {str(path)!r} is not valid: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"price table {str(path)!r} must map model names to rates")
    return data


@functools.cache
def _default_layer() -> _Layer:
    try:
        text = resources.files("semtrace").joinpath("prices.json").read_text(encoding="utf-8")
        return _layer(json.loads(text), COST_SOURCE_DEFAULT, "semtrace/prices.json")
    except (OSError, ValueError):  # a broken install must not break the application
        logger.warning("semtrace: the shipped prices.json cannot be read; no default prices")
        return _Layer(COST_SOURCE_DEFAULT, {})


def _env_layer() -> _Layer:
    path = env_prices_path()
    if not path:
        return _EMPTY_USER
    try:
        return _layer(_read(Path(path)), COST_SOURCE_USER, path)
    except ValueError as exc:
        logger.warning("%s=%r is ignored: %s", SEMTRACE_PRICES, path, exc)
        return _EMPTY_USER


def _lookup_keys(model: str, provider: str | None) -> tuple[str, ...]:
    """The table keys tried for a call, most specific first (see the module docstring)."""
    name = model.strip().casefold()
    bare = name.rsplit("/", 1)[-1]
    names: list[str] = []
    for candidate in (name, bare, _DATE_STAMP.sub("", name), _DATE_STAMP.sub("", bare)):
        if candidate and candidate not in names:
            names.append(candidate)
    prefix = provider.strip().casefold() + "/" if provider and provider.strip() else ""
    if not prefix:
        return tuple(names)
    return (*(k for n in names for k in (prefix + n, n)), prefix + _WILDCARD)


# --- the table ---

PriceSource = str | Path | Mapping[str, "Price | Mapping[str, Any]"]


class PriceTable:
    """Prices by model: the user's table, then (unless turned off) the shipped defaults.

    Build one at configuration time with :meth:`load`; lookups are cached and cheap.

    Example:
        >>> from semtrace.cost import Price, PriceTable
        >>> table = PriceTable({"local-llama": Price(0, 0)}, include_defaults=False)
        >>> table.price_for("Local-Llama") == Price(input=0, output=0)
        True
        >>> table.price_for("local-llama-3") is None
        True
    """

    __slots__ = ("_cache", "_layers")

    def __init__(
        self,
        prices: Mapping[str, Price | Mapping[str, Any]] | None = None,
        *,
        include_defaults: bool = True,
    ) -> None:
        """Build a table from a mapping of model names to prices.

        Args:
            prices: Model name to a :class:`Price` or a mapping of its fields (the file
                format); these override the shipped defaults.
            include_defaults: Fall back to the shipped ``prices.json``.

        Raises:
            ValueError: If an entry is invalid; the message names the model and field.
        """
        user = _layer(prices, COST_SOURCE_USER, "price table") if prices else _EMPTY_USER
        self._init(user, include_defaults)

    def _init(self, user: _Layer, include_defaults: bool) -> None:
        layers = [user] if user.names else []
        if include_defaults:
            layers.append(_default_layer())
        self._layers: tuple[_Layer, ...] = tuple(layers)
        self._cache: dict[tuple[str, str | None], tuple[str, Price, str] | None] = {}

    @classmethod
    def load(
        cls, source: PriceSource | None = None, *, include_defaults: bool | None = None
    ) -> PriceTable:
        """Load the user's prices from a file or mapping, layered over the defaults.

        Args:
            source: A JSON/TOML file path or a mapping. None reads the file named by
                ``SEMTRACE_PRICES`` (a bad one logs a warning and is ignored).
            include_defaults: Fall back to the shipped prices; None reads
                ``SEMTRACE_DEFAULT_PRICES`` (default true).

        Returns:
            The table.

        Raises:
            ValueError: If an explicit ``source`` cannot be read or is invalid.
        """
        if source is None:
            user = _env_layer()
        elif isinstance(source, (str, Path)):
            user = _layer(_read(Path(source)), COST_SOURCE_USER, str(source))
        else:
            user = _layer(source, COST_SOURCE_USER, "price table")
        table = cls.__new__(cls)
        table._init(
            user,
            env_default_prices() if include_defaults is None else include_defaults,
        )
        return table

    def __repr__(self) -> str:
        counts = ", ".join(f"{layer.origin}={len(layer.names)}" for layer in self._layers)
        return f"PriceTable({counts})"

    def _find(self, model: str | None, provider: str | None) -> tuple[str, Price, str] | None:
        if not model or not isinstance(model, str):
            return None
        cache_key = (model, provider)
        try:
            return self._cache[cache_key]
        except KeyError:
            pass
        found: tuple[str, Price, str] | None = None
        keys = _lookup_keys(model, provider)
        for layer in self._layers:
            hit = next((layer.names[k] for k in keys if k in layer.names), None)
            if hit is not None:
                found = (*hit, layer.origin)
                break
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[cache_key] = found
        return found

    def price_for(self, model: str | None, provider: str | None = None) -> Price | None:
        """The price of ``model`` called through ``provider``, or None if unknown.

        Args:
            model: Model name as the provider or framework reports it.
            provider: ``gen_ai.provider.name`` of the call; entries keyed
                ``{provider}/{model}`` (all shipped defaults are) need it to match.

        Returns:
            The price, or None: a model with no known price is never guessed.
        """
        found = self._find(model, provider)
        return found[1] if found else None

    def price_of(
        self, model: str | None, provider: str | None, response_model: str | None = None
    ) -> Price | None:
        """The price :meth:`cost` would use for a call (the response model's first)."""
        found = self._find(response_model, provider) or self._find(model, provider)
        return found[1] if found else None

    def cost(
        self,
        model: str | None,
        provider: str | None,
        usage: Usage | None,
        *,
        estimated: bool = False,
        response_model: str | None = None,
    ) -> Cost | None:
        """What a call cost.

        Args:
            model: The requested model.
            provider: ``gen_ai.provider.name`` of the call.
            usage: Its token usage.
            estimated: The counts were estimated (tiktoken), not reported.
            response_model: The model that answered; priced first when given, as it
                names the exact snapshot (and the real model behind an Azure deployment).

        Returns:
            The cost, or None if no price is known or usage is missing or inconsistent.
        """
        if usage is None:
            return None
        found = self._find(response_model, provider) or self._find(model, provider)
        if found is None:
            return None
        key, price, origin = found
        amount = price.amount(usage)
        if amount is None:
            return None
        return Cost(amount, price.currency, origin, key, estimated)
