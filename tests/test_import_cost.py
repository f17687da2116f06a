"""Importing an integration imports nothing that only ``configure()`` needs.

An app that instruments, but exports through its own providers (or not at all), must not
pay for the SDK's exporters, the console tree, the backend views or the doctor at import.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

_CONFIGURE_ONLY = (
    "opentelemetry.sdk",
    "opentelemetry.exporter",
    "semtrace.export",  # the export layer: set-up, processors, sampler, views, console
    "semtrace.doctor",
    "tiktoken",
)

_PROBE = """
import sys
import {module}
{use}
print("\\n".join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))
"""


def _imported(module: str, use: str = "") -> list[str]:
    code = _PROBE.format(module=module, use=use, prefixes=_CONFIGURE_ONLY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("module", ["semtrace", "semtrace_langchain", "semtrace_llamaindex"])
def test_importing_does_not_import_what_only_configure_needs(module: str) -> None:
    assert _imported(module) == []


def test_configure_and_the_tail_sampler_still_import_on_first_use() -> None:
    imported = _imported("semtrace", "semtrace.configure, semtrace.TailSamplingProcessor")
    assert "semtrace.export.setup" in imported
    assert "semtrace.export.sampling" in imported


_LATE_LLM_APP = """
import sys
from opentelemetry import trace
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler

telemetry = Telemetry()
handler = CallbackHandler(
    tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
)
print("llms imported by the handler:", "langchain_core.language_models.llms" in sys.modules)
from langchain_core.language_models.fake import FakeListLLM

seen = []


class Probe(FakeListLLM):
    def _call(self, *args, **kwargs):
        seen.append(trace.get_current_span().get_span_context().span_id)
        return super()._call(*args, **kwargs)


Probe(responses=["ok"]).invoke("hi", config={"callbacks": [handler]})
(span,) = telemetry.spans()
print("I/O under the model span:", seen == [span.context.span_id])
"""


def test_a_completion_model_imported_after_the_handler_still_runs_under_its_span() -> None:
    """The handler does not import BaseLLM's module, yet wraps it at its first run."""
    done = subprocess.run(
        [sys.executable, "-c", _LATE_LLM_APP], capture_output=True, text=True, check=True
    )
    assert "llms imported by the handler: False" in done.stdout
    assert "I/O under the model span: True" in done.stdout
