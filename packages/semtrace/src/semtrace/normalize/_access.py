"""Reading provider payloads that arrive as dicts or as SDK objects.

Provider packages hand over their SDK's pydantic models, plain dicts, or dicts of
models (``dict(event)``), so every reader here accepts all of them and treats a
missing or unreadable key as absent.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
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
        if _mapping(obj):
            return obj.get(key)
        values = getattr(obj, "__dict__", None)
        if isinstance(values, dict):
            if key in values:
                return values[key]
            # Pydantic raises (and formats an error) on a miss: ask the class first.
            if not class_has(type(obj), key):  # type: ignore[arg-type]
                for store in _STORES:
                    found = getattr(obj, store, None)
                    if isinstance(found, dict) and key in found:
                        return found[key]
                return None
        return getattr(obj, key, None)
    except Exception:  # a property that raises: treat as absent
        return None


def reader(obj: Any) -> Callable[[str], Any]:
    """``get(obj, key)`` for many keys of one object, its shape worked out once.

    A model object is read for a few dozen keys per model call (its parameters, base
    URL, region), most of them absent: a pydantic model's extras are looked up once here
    instead of on every miss.
    """
    if isinstance(obj, dict):
        return obj.get
    values = stores = None
    if obj is not None and not isinstance(obj, (str, bytes, int, float, bool)):
        try:
            if not _mapping(obj):
                values = getattr(obj, "__dict__", None)
                if isinstance(values, dict):
                    stores = []  # a loop, not a comprehension: no frames of its own
                    for name in _STORES:
                        store = getattr(obj, name, None)
                        if isinstance(store, dict):
                            stores.append(store)
        except Exception:  # an object that cannot be inspected: get() copes key by key
            values = None
    if not isinstance(values, dict) or stores is None:
        return functools.partial(get, obj)
    cls, fields, extras = type(obj), values, stores

    def read(key: str) -> Any:
        if key in fields:
            return fields[key]
        if class_has(cls, key):  # type: ignore[arg-type]
            return get(obj, key)  # a property or class attribute: read it as get() does
        for store in extras:
            if key in store:
                return store[key]
        return None

    return read


# Where pydantic keeps what is not a field: extras, then private attributes (_client).
_STORES = ("__pydantic_extra__", "__pydantic_private__")


@functools.lru_cache(maxsize=4096)
def class_has(cls: type, key: str) -> bool:
    """``hasattr(cls, key)``, cached: on a pydantic model class a miss raises and formats."""
    return hasattr(cls, key)


def _mapping(obj: Any) -> bool:
    """``isinstance(obj, Mapping)``, answered per class for the common case."""
    cls = type(obj)
    # A proxy (wrapt) names another class: the ABC's own test looks at both.
    if is_mapping_class(cls):  # type: ignore[arg-type]
        return True
    return obj.__class__ is not cls and isinstance(obj, Mapping)


@functools.lru_cache(maxsize=1024)
def is_mapping_class(cls: type) -> bool:
    """Whether instances of ``cls`` are mappings, answered once per class.

    The ABC's own test runs Python code on every call, and a model object is read a few
    dozen times per model call. (A class registered as a Mapping after it was first read
    here would still be read as an object.)
    """
    return issubclass(cls, Mapping)


def has_any(obj: Any, keys: frozenset[str]) -> bool:
    """Whether ``obj`` may hold one of ``keys``: False only when it surely holds none.

    A cheap test before many reads: a dict's keys, or a model object's fields and extras.
    """
    if isinstance(obj, dict):
        return not keys.isdisjoint(obj)
    if _mapping(obj):
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
