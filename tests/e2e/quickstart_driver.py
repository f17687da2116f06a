"""Run an example's ``main()`` in this process, record the spans it makes, optionally stay up.

Test-only. Runs with the project's interpreter:

    python tests/e2e/quickstart_driver.py examples/langchain_quickstart.py \
        [--dump spans.json] [--linger SECONDS]

* ``--dump``: ``semtrace.configure`` is wrapped so that, after the real ``configure()`` built
  its providers from the ``OTEL_*`` environment as usual, one more span processor records every
  finished span in memory. After ``main()`` returns they are written, atomically, as JSON: a list
  of ``{"name", "trace_id", "span_id", "parent_id", "kind", "status", "attributes", "events"}``
  (ids as lowercase hex, like Phoenix's REST API; tuples as lists). The example itself is not
  changed: it still exports over OTLP / serves Prometheus / prints its tree as configured.
* ``--linger``: after ``main()`` (and the dump), stay alive up to SECONDS, so that Prometheus can
  scrape the ``/metrics`` endpoint ``configure()`` started (``OTEL_METRICS_EXPORTER=
  prometheus``). The test kills the process once it has what it needs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def span_record(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "name": span.name,
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "status": span.status.status_code.name,
        "attributes": {k: _jsonable(v) for k, v in (span.attributes or {}).items()},
        "events": [
            {
                "name": e.name,
                "attributes": {k: _jsonable(v) for k, v in (e.attributes or {}).items()},
            }
            for e in span.events
        ],
    }


class Recording(SpanProcessor):
    """Keeps every finished span (as a JSON-able dict)."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        record = span_record(span)
        with self._lock:
            self.spans.append(record)


def _install_recording(recording: Recording) -> None:
    import semtrace
    import semtrace.export.setup

    real = semtrace.export.setup.configure
    added: list[object] = []  # the provider the recording was added to (once)

    def configure(**kwargs: Any) -> semtrace.Providers:
        providers = real(**kwargs)
        provider = providers.tracer_provider
        if not isinstance(provider, SdkTracerProvider):
            raise RuntimeError(f"configure() left a {type(provider).__name__}, not the SDK's")
        if not added:
            provider.add_span_processor(recording)
            added.append(provider)
        return providers

    semtrace.configure = configure
    semtrace.export.setup.configure = configure


def load_main(path: Path) -> Any:
    sys.path.insert(0, str(path.parent))  # the examples import their sibling helpers
    spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", type=Path)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--linger", type=float, default=0.0)
    args = parser.parse_args()

    recording = Recording()
    if args.dump:
        _install_recording(recording)
    example_main = load_main(args.example.resolve())
    example_main()
    if args.dump:
        from semtrace import _worker as worker

        worker.drain()  # spans whose end waited for the tokenizer end before the dump
        tmp = args.dump.with_name(args.dump.name + ".tmp")
        tmp.write_text(json.dumps(recording.spans, indent=1))
        os.replace(tmp, args.dump)
    if args.linger > 0:
        time.sleep(args.linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
