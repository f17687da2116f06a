"""Loading tiktoken encodings: failures are reported once per process."""

from __future__ import annotations

import logging

import pytest
import tiktoken
from semtrace import tokens


def test_encodings_that_fail_to_load_log_one_warning_in_all(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def offline(name: str) -> None:
        raise ConnectionError(f"no network for {name}")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    monkeypatch.setattr(tokens, "_failed_once", False)
    with caplog.at_level(logging.DEBUG, logger="semtrace.tokens"):
        loads = [tokens._EncodingLoad(name) for name in ("o200k_base", "cl100k_base")]
        for load in loads:
            assert load.done.wait(5)
    assert all(load.failed for load in loads)
    failures = [r for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert [r.levelno for r in failures].count(logging.WARNING) == 1
    assert len(failures) == 2  # the second is still there, at DEBUG
