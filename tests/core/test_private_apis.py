"""The private APIs semtrace depends on still exist and still mean what it assumes.

Each test names one entry of :mod:`semtrace.private_apis`; the release of OpenTelemetry
or tiktoken that changes one fails here, by name.
"""

from __future__ import annotations

import subprocess
import sys

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
