"""Every SEMTRACE_* variable is spelled and read in semtrace.config, and nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from semtrace import config
from semtrace.config import CaptureMode, Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p
    for base in (
        "packages/semtrace/src",
        "integrations/langchain/src",
        "integrations/llamaindex/src",
    )
    for p in (ROOT / base).rglob("*.py")
)
_SPELLED = re.compile(r"[\"']SEMTRACE_[A-Z_]+[\"']")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_but_config_spells_a_semtrace_variable(path: Path) -> None:
    if path == Path(config.__file__):
        return
    assert not _SPELLED.findall(path.read_text(encoding="utf-8"))


def test_prices_variables_are_read_by_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.SEMTRACE_PRICES, "  /tmp/prices.json ")
    monkeypatch.setenv(config.SEMTRACE_DEFAULT_PRICES, "false")
    assert config.env_prices_path() == "/tmp/prices.json"
    assert config.env_default_prices() is False


def test_settings_constructor_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    monkeypatch.setenv(config.SEMTRACE_QUALITY_SIGNALS, "false")
    assert Settings().capture is CaptureMode.NO_CONTENT
    assert Settings().quality_signals is True
    assert Settings.resolve().capture is CaptureMode.SPAN_ONLY
    assert Settings.resolve().quality_signals is False
