"""One constructor: the LangChain handler and both instrumentors take the same arguments.

They all build a :class:`semtrace._recording.options.Options`; these tests pin what that promises.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from semtrace import Recorder, Settings
from semtrace._recording.options import SETTINGS_ARGUMENTS, Options
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler, LangChainInstrumentor
from semtrace_llamaindex import LlamaIndexInstrumentor


def _langchain_handler(**kwargs: Any) -> Recorder:
    return CallbackHandler(**kwargs).recorder


def _recorder_of(instrumentor: Any, **kwargs: Any) -> Recorder:
    """Instrument, read the recorder that ``instrument()`` built, uninstrument."""
    instrumentor.instrument(**kwargs)
    try:
        if isinstance(instrumentor, LangChainInstrumentor):
            assert instrumentor._handler is not None
            return instrumentor._handler.recorder
        assert instrumentor.tracker is not None
        return instrumentor.tracker.recorder
    finally:
        instrumentor.uninstrument()


def _langchain_instrumentor(**kwargs: Any) -> Recorder:
    return _recorder_of(LangChainInstrumentor(), **kwargs)


def _llamaindex_instrumentor(**kwargs: Any) -> Recorder:
    return _recorder_of(LlamaIndexInstrumentor(), **kwargs)


BUILDERS = [
    pytest.param(_langchain_handler, id="CallbackHandler"),
    pytest.param(_langchain_instrumentor, id="LangChainInstrumentor"),
    pytest.param(_llamaindex_instrumentor, id="LlamaIndexInstrumentor"),
]
Builder = Callable[..., Recorder]


@pytest.fixture
def providers(telemetry: Telemetry) -> Iterator[dict[str, Any]]:
    yield {"tracer_provider": telemetry.tracer_provider, "meter_provider": telemetry.meter_provider}


@pytest.mark.parametrize("build", BUILDERS)
def test_an_unknown_keyword_raises_type_error(build: Builder) -> None:
    with pytest.raises(TypeError, match="capture_contents"):
        build(capture_contents=True)


@pytest.mark.parametrize("build", BUILDERS)
def test_settings_with_a_settings_argument_raises(build: Builder) -> None:
    with pytest.raises(TypeError, match="quality_signals"):
        build(settings=Settings(), quality_signals=False)


@pytest.mark.parametrize("build", BUILDERS)
def test_settings_alone_is_used_as_given(build: Builder, providers: dict[str, Any]) -> None:
    settings = Settings(quality_signals=False, max_open_runs=7)
    assert build(settings=settings, **providers).settings is settings


@pytest.mark.parametrize("build", BUILDERS)
def test_every_settings_argument_reaches_the_recorder(
    build: Builder, providers: dict[str, Any]
) -> None:
    recorder = build(
        **providers,
        capture_content="SPAN_AND_EVENT",
        count_tokens=False,
        redact=str.upper,
        trace_all_runs=True,
        quality_signals=False,
        all_evaluation_events=True,
        max_content_length=999,
        drop_operations="no_embeddings",
        default_encoding="cl100k_base",
        max_open_runs=12,
        run_timeout_s=34.0,
    )
    assert recorder.settings == Settings(
        capture=Settings.resolve(capture_content="SPAN_AND_EVENT").capture,
        count_tokens=False,
        redact=str.upper,
        trace_all_runs=True,
        quality_signals=False,
        all_evaluation_events=True,
        max_content_length=999,
        drop_operations=frozenset({"embeddings", "rerank"}),
        default_encoding="cl100k_base",
        max_open_runs=12,
        run_timeout_s=34.0,
    )


def test_options_cover_every_argument_of_settings_resolve() -> None:
    fields = {f.name for f in dataclasses.fields(Options)}
    assert set(SETTINGS_ARGUMENTS) <= fields
    assert set(SETTINGS_ARGUMENTS) == set(inspect.signature(Settings.resolve).parameters)


def test_settings_resolve_can_set_every_setting() -> None:
    settable = {f.name for f in dataclasses.fields(Settings)} - {"capture"}
    assert settable | {"capture_content"} == set(SETTINGS_ARGUMENTS)


def test_the_handler_takes_the_first_four_options_by_position(telemetry: Telemetry) -> None:
    handler = CallbackHandler(telemetry.tracer_provider, telemetry.meter_provider, True, False)
    assert handler.recorder.settings.capture.on_span
    assert handler.recorder.settings.count_tokens is False
    with pytest.raises(TypeError):
        CallbackHandler(None, None, None, None, None)
