"""Reading provider payloads that arrive as dicts or as SDK objects.

Provider packages hand over their SDK's pydantic models, plain dicts, or dicts of
models (``dict(event)``), so every reader here accepts all of them and treats a
missing or unreadable key as absent.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, else ``obj.key``; None when absent or unreadable.

    Called for every streamed chunk, so the common shapes (a dict, a pydantic model's
    field) are answered first and the class lookup of a miss is cached.
    """
    if isinstance(obj, dict):
        return obj.get(key)
    if obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return None
    try:
        if isinstance(obj, Mapping):
            return obj.get(key)
        values = getattr(obj, "__dict__", None)
        if isinstance(values, dict):
            if key in values:
                return values[key]
            # Pydantic raises (and formats an error) on a miss: ask the class first.
            if not _class_has(type(obj), key):  # type: ignore[arg-type]
                for store in ("__pydantic_extra__", "__pydantic_private__"):  # extras, _client
                    found = getattr(obj, store, None)
                    if isinstance(found, dict) and key in found:
                        return found[key]
                return None
        return getattr(obj, key, None)
    except Exception:  # a property that raises: treat as absent
        return None


@functools.lru_cache(maxsize=4096)
def _class_has(cls: type, key: str) -> bool:
    return hasattr(cls, key)


def has_any(obj: Any, keys: frozenset[str]) -> bool:
    """Whether ``obj`` may hold one of ``keys``: False only when it surely holds none.

    A cheap test before many reads: a dict's keys, or a model object's fields and extras.
    """
    if isinstance(obj, dict):
        return not keys.isdisjoint(obj)
    if isinstance(obj, Mapping):
        return True
    values = getattr(obj, "__dict__", None)
    if not isinstance(values, dict) or not keys.isdisjoint(values):
        return True
    extra = getattr(obj, "__pydantic_extra__", None)
    return isinstance(extra, dict) and not keys.isdisjoint(extra)


def first(obj: Any, keys: Iterable[str]) -> Any:
    """The first of ``keys`` that ``obj`` has a non-None value for."""
    for key in keys:
        value = get(obj, key)
        if value is not None:
            return value
    return None


def count(value: Any) -> int | None:
    """A token count: an int or a finite float, never a bool or a negative number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return value
    return None


def first_count(obj: Any, keys: Iterable[str]) -> int | None:
    """The first of ``keys`` holding a count."""
    for key in keys:
        value = count(get(obj, key))
        if value is not None:
            return value
    return None


def text(value: Any) -> str | None:
    """A non-empty string, or an enum's string value (``FinishReason.STOP``); else None."""
    value = getattr(value, "value", value)
    return value if isinstance(value, str) and value else None


def is_payload(obj: Any) -> bool:
    """Whether ``obj`` can hold keys (a mapping or an object, not a scalar)."""
    return obj is not None and not isinstance(obj, (str, bytes, int, float, bool, list, tuple))
