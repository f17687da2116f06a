"""Suite-wide set-up: an offline tiktoken cache from the repo's own BPE files."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from semtrace import semconv_latest
from semtrace.testing import Telemetry, tiktoken_cache_from

from tests.conformance import schemas

DATA = Path(__file__).parent / "data"

# Before anything imports tiktoken's loader: tests never touch the network.
_CACHE_ROOT = Path(tempfile.mkdtemp(prefix="semtrace-tiktoken-"))
atexit.register(shutil.rmtree, _CACHE_ROOT, ignore_errors=True)  # ~5 MB per test session
_CACHE = tiktoken_cache_from(DATA / "tiktoken", _CACHE_ROOT)
os.environ["TIKTOKEN_CACHE_DIR"] = str(_CACHE)
for _var in (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "SEMTRACE_COUNT_TOKENS",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
):
    os.environ.pop(_var, None)


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Real SDK providers with in-memory exporters and the span checker.

    After the test, every span that started must have ended exactly once, before its
    trace's root, and every content attribute (on spans and their events) must be valid
    against the GenAI conventions' schemas: this runs for every test that records spans.
    """
    t = Telemetry()
    yield t
    t.shutdown()
    t.assert_spans_well_formed()
    assert_content_conforms(t.exporter.get_finished_spans())


def assert_content_conforms(spans: Iterable[ReadableSpan]) -> None:
    """Every content attribute of ``spans`` and of their events fits its schema."""
    found = []
    for span in spans:
        scope = span.instrumentation_scope
        latest = scope is not None and scope.schema_url == semconv_latest.SCHEMA_URL
        found += schemas.problems(span.name, span.attributes, latest=latest)
        for event in span.events:
            where = f"{span.name} > {event.name}"
            found += schemas.problems(where, event.attributes, latest=latest)
    if found:
        raise AssertionError("content outside the GenAI schemas:\n" + "\n".join(found[:20]))
