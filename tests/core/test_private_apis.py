"""The private APIs semtrace depends on still exist and still mean what it assumes.

Each test names one entry of :mod:`semtrace.private_apis`; the release of OpenTelemetry
or tiktoken that changes one fails here, by name.
"""

from __future__ import annotations

import json
import json.encoder
import subprocess
import sys
from collections.abc import Callable

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from semtrace import private_apis


def test_the_metrics_api_still_has_its_proxy_meter_provider() -> None:
    assert private_apis.PROXY_METER_PROVIDER is not None, "_ProxyMeterProvider is gone"
    assert not private_apis.is_unset_meter_provider(MeterProvider())


def test_the_global_meter_provider_is_the_proxy_until_one_is_set() -> None:
    code = (
        "from opentelemetry import metrics\n"
        "from opentelemetry.sdk.metrics import MeterProvider\n"
        "from semtrace.private_apis import is_unset_meter_provider as unset\n"
        "assert unset(metrics.get_meter_provider())\n"
        "metrics.set_meter_provider(MeterProvider())\n"
        "assert not unset(metrics.get_meter_provider())\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_logs_api_still_has_its_proxy_logger_provider() -> None:
    from opentelemetry.sdk._logs import LoggerProvider

    assert private_apis.PROXY_LOGGER_PROVIDER is not None, "ProxyLoggerProvider is gone"
    assert not private_apis.is_unset_logger_provider(LoggerProvider())


def test_the_global_logger_provider_is_the_proxy_until_one_is_set() -> None:
    code = (
        "from opentelemetry import _logs\n"
        "from opentelemetry.sdk._logs import LoggerProvider\n"
        "from semtrace.private_apis import is_unset_logger_provider as unset\n"
        "assert unset(_logs.get_logger_provider())\n"
        "_logs.set_logger_provider(LoggerProvider())\n"
        "assert not unset(_logs.get_logger_provider())\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_sdk_still_calls_on_ending_on_span_processors() -> None:
    seen: list[str] = []

    class Probe(SpanProcessor):
        pass

    def on_ending(span: Span) -> None:
        seen.append(span.name)

    probe = Probe()
    setattr(probe, private_apis.ON_ENDING, on_ending)
    provider = TracerProvider()
    provider.add_span_processor(probe)
    provider.get_tracer("probe").start_span("ending").end()
    provider.shutdown()
    assert seen == ["ending"], f"the SDK no longer calls {private_apis.ON_ENDING}"


def test_suppress_instrumentation_sets_the_key_semtrace_reads() -> None:
    assert not private_apis.instrumentation_suppressed()
    with suppress_instrumentation():
        assert private_apis.instrumentation_suppressed()


def test_tiktoken_source_still_names_each_encodings_url() -> None:
    for name in ("o200k_base", "cl100k_base"):
        url = private_apis.tiktoken_download_url(f"{name}.tiktoken")
        assert url is not None, f"no URL for {name} in tiktoken_ext.openai_public"
        assert url.startswith("https://") and url.endswith(f"/{name}.tiktoken")


class _Thing:
    def __str__(self) -> str:
        return "a thing"


JSON_VALUES = [
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    [1, 2.5, None, True, "caf\u00e9\n\u2028", (3, 4)],
    {2: "non-str key", "nan": float("nan"), "inf": float("inf"), "thing": _Thing()},
    {"b": {"z": -0.0}, "a": []},
    "a bare string",
    7,
]


@pytest.mark.parametrize("sort_keys", [False, True])
@pytest.mark.parametrize("ensure_ascii", [False, True])
def test_the_json_accelerator_is_still_used_by_this_python(
    ensure_ascii: bool, sort_keys: bool
) -> None:
    encoder = json.JSONEncoder(default=str, ensure_ascii=ensure_ascii, sort_keys=sort_keys)
    assert private_apis.fast_json(encoder) != encoder.encode


@pytest.mark.parametrize("sort_keys", [False, True])
@pytest.mark.parametrize("ensure_ascii", [False, True])
@pytest.mark.parametrize("value", JSON_VALUES)
def test_fast_json_renders_what_encode_renders(
    value: object, ensure_ascii: bool, sort_keys: bool
) -> None:
    encoder = json.JSONEncoder(default=str, ensure_ascii=ensure_ascii, sort_keys=sort_keys)
    assert _rendered(private_apis.fast_json(encoder), value) == _rendered(encoder.encode, value)


def _rendered(encode: Callable[[object], str], value: object) -> str:
    """The text, or the error's type (sorting mixed keys fails either way)."""
    try:
        return encode(value)
    except (TypeError, ValueError) as error:
        return type(error).__name__


def test_fast_json_still_refuses_a_circular_value() -> None:
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular"):
        private_apis.fast_json(json.JSONEncoder())(looped)


def _another_signature(*args: object) -> object:
    raise TypeError("c_make_encoder() takes 10 arguments")


@pytest.mark.parametrize("accelerator", [None, _another_signature], ids=["missing", "changed"])
def test_fast_json_is_encode_itself_without_a_working_accelerator(
    monkeypatch: pytest.MonkeyPatch, accelerator: object
) -> None:
    monkeypatch.setattr(json.encoder, "c_make_encoder", accelerator)
    encoder = json.JSONEncoder()
    assert private_apis.fast_json(encoder) == encoder.encode
