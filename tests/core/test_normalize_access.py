"""semtrace.normalize._access: the many-key reader answers exactly as ``get`` does."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, PrivateAttr
from semtrace.normalize._access import get, reader
from semtrace.normalize.response import response_id, response_model


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    temperature: float = 0.5
    base_url: str | None = None
    _client: Any = PrivateAttr(default="private-client")

    @property
    def region(self) -> str:
        return "eu-west-1"

    @property
    def broken(self) -> str:
        raise RuntimeError("unreadable")


class _Slots:
    __slots__ = ("top_p",)

    def __init__(self) -> None:
        self.top_p = 0.9


class _Dynamic:
    def __getattr__(self, name: str) -> str:
        return f"dynamic {name}"


class _Dict(dict):  # type: ignore[type-arg]
    pass


_KEYS = (
    "temperature",
    "base_url",
    "max_tokens",
    "_client",
    "region",
    "broken",
    "top_p",
    "seed",
    "missing",
    "__class__",
)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(_Model(base_url="http://h:1", seed=7), id="pydantic-extras"),
        pytest.param(_Model(), id="pydantic"),
        pytest.param({"temperature": 0.1, "seed": 3}, id="dict"),
        pytest.param(_Dict(seed=4), id="dict-subclass"),
        pytest.param(OrderedDict(top_p=0.2), id="ordered-dict"),
        pytest.param(MappingProxyType({"seed": 5}), id="mapping"),
        pytest.param(SimpleNamespace(temperature=0.3, missing=None), id="namespace"),
        pytest.param(_Slots(), id="slots"),
        pytest.param(_Dynamic(), id="dynamic"),
        pytest.param(None, id="none"),
        pytest.param("text", id="str"),
        pytest.param(3, id="int"),
    ],
)
def test_reader_reads_every_key_as_get_does(obj: Any) -> None:
    read = reader(obj)
    assert [read(key) for key in _KEYS] == [get(obj, key) for key in _KEYS]


def test_reader_reads_extras_and_private_attributes() -> None:
    read = reader(_Model(seed=7))
    assert (read("seed"), read("_client"), read("region")) == (7, "private-client", "eu-west-1")
    assert read("broken") is None


@pytest.mark.parametrize(
    ("payloads", "expected"),
    [
        pytest.param(({}, {"id": "r-1"}), ("r-1", None), id="second-dict"),
        pytest.param(({"message": {"model": "m-1", "id": "i-1"}},), ("i-1", "m-1"), id="inner"),
        pytest.param((_Dict(id="r-2", model="m-2"),), ("r-2", "m-2"), id="dict-subclass"),
        pytest.param((SimpleNamespace(id="r-3", model_name="m-3"),), ("r-3", "m-3"), id="object"),
        pytest.param((None, {"other": 1}, {}), (None, None), id="none-found"),
    ],
)
def test_response_id_and_model_skip_dicts_without_the_keys(
    payloads: tuple[Any, ...], expected: tuple[str | None, str | None]
) -> None:
    assert (response_id(*payloads), response_model(*payloads)) == expected
