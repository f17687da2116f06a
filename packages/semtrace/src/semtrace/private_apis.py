"""Every use of another package's private API, in one place.

Each of these has no public equivalent today. ``tests/core/test_private_apis.py``
checks every one against the installed packages, so the release that breaks one fails
that test by name instead of silently changing what semtrace does:

* ``opentelemetry.metrics._internal._ProxyMeterProvider``: the only way to tell that no
  meter provider has been set yet (the tracing API has the public
  ``ProxyTracerProvider``; metrics has no such class).
* ``opentelemetry._logs._internal.ProxyLoggerProvider``: the same for the Logs API (the
  class is not exported by ``opentelemetry._logs``).
* ``SpanProcessor._on_ending``: the SDK calls it on the span processors just before a
  span ends; a processor that wraps others must pass it on.
* ``opentelemetry.context._SUPPRESS_INSTRUMENTATION_KEY``: the key instrumentations set
  to silence each other (``opentelemetry-instrumentation`` reads the same one).
* ``json.encoder.c_make_encoder``: the C encoder ``JSONEncoder.encode`` builds anew on every
  call; built directly it renders a small dict (a tool's schema, a tool call's arguments)
  a fifth cheaper, and semtrace renders several per model call. Checked against
  ``encode`` when set up, and not used where it differs.
* The download URLs of tiktoken's encodings, read from ``tiktoken_ext.openai_public``'s
  source: tiktoken names a cached file by the sha1 of that URL, and says which files are
  cached nowhere else.

Example:
    >>> from opentelemetry.sdk.metrics import MeterProvider
    >>> from semtrace.private_apis import is_unset_meter_provider
    >>> is_unset_meter_provider(MeterProvider())
    False
"""

from __future__ import annotations

import inspect
import json
import json.encoder
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from opentelemetry import context as otel_context

PROXY_METER_PROVIDER: type | None
try:
    from opentelemetry.metrics._internal import _ProxyMeterProvider

    PROXY_METER_PROVIDER = _ProxyMeterProvider
except ImportError:  # pragma: no cover - a future API; test_private_apis fails on it
    PROXY_METER_PROVIDER = None

PROXY_LOGGER_PROVIDER: type | None
try:
    from opentelemetry._logs._internal import ProxyLoggerProvider

    PROXY_LOGGER_PROVIDER = ProxyLoggerProvider
except ImportError:  # pragma: no cover - a future API; test_private_apis fails on it
    PROXY_LOGGER_PROVIDER = None

try:  # the API's key; instrumentations set it to silence each other
    from opentelemetry.context import (
        _SUPPRESS_INSTRUMENTATION_KEY as SUPPRESS_INSTRUMENTATION_KEY,
    )
except ImportError:  # pragma: no cover - a future API; test_private_apis fails on it
    SUPPRESS_INSTRUMENTATION_KEY = otel_context.create_key("suppress_instrumentation")

#: Name of the SDK's "span is ending" hook on span processors.
ON_ENDING: str = "_on_ending"


def is_unset_meter_provider(provider: object) -> bool:
    """Whether ``provider`` is the API's placeholder: no meter provider was set yet.

    If the API no longer has the placeholder class, every provider counts as set, so
    semtrace never replaces one it should not.
    """
    return PROXY_METER_PROVIDER is not None and isinstance(provider, PROXY_METER_PROVIDER)


def is_unset_logger_provider(provider: object) -> bool:
    """Whether ``provider`` is the Logs API's placeholder: no logger provider was set yet.

    As for meters: without the placeholder class, every provider counts as set.
    """
    return PROXY_LOGGER_PROVIDER is not None and isinstance(provider, PROXY_LOGGER_PROVIDER)


def instrumentation_suppressed() -> bool:
    """Whether the current context asks instrumentations to record nothing."""
    return bool(otel_context.get_value(SUPPRESS_INSTRUMENTATION_KEY))


def forward_on_ending(processor: object, span: Any) -> None:
    """Pass the SDK's "span is ending" hook to ``processor``, if it has one."""
    hook = getattr(processor, ON_ENDING, None)
    if hook is not None:
        hook(span)


@cache
def tiktoken_download_url(file_name: str) -> str | None:
    """The URL tiktoken downloads ``file_name`` (e.g. ``o200k_base.tiktoken``) from.

    Returns:
        The URL, or None when tiktoken is not installed or names no such file.
    """
    try:
        import tiktoken_ext.openai_public as public

        source = inspect.getsource(public)
    except Exception:
        return None
    match = re.search(r'"(https://[^"]+/' + re.escape(file_name) + r')"', source)
    return match.group(1) if match else None


def fast_json(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` without its per-call set-up, where the C accelerator allows it.

    Returns ``encoder.encode`` itself when the accelerator is missing, the encoder indents,
    or the shortcut renders a probe value differently (another Python's signature).
    """
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None or encoder.indent is not None:
        return encoder.encode
    quote = (
        json.encoder.encode_basestring_ascii
        if encoder.ensure_ascii
        else json.encoder.encode_basestring
    )
    settings = (
        encoder.default, quote, None, encoder.key_separator, encoder.item_separator,
        encoder.sort_keys, encoder.skipkeys, encoder.allow_nan,
    )  # fmt: skip
    circular = encoder.check_circular

    def encode(value: Any) -> str:
        # A new C encoder per call, as encode() makes: its markers are the call's own.
        return "".join(make({} if circular else None, *settings)(value, 0))

    # String keys only: a sorting encoder refuses mixed ones, shortcut or not.
    probe = {"b": [1, 2.5, None, True, '\u00e9\n"', (3,)], "a": {"z": -0.0, "y": "x"}}
    try:
        if encode(probe) == encoder.encode(probe):
            return encode
    except Exception:
        pass
    return encoder.encode
