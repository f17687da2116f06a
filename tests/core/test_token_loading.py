"""Loading tiktoken encodings: failures are reported once per process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken
from semtrace._telemetry import tokens


def test_encodings_that_fail_to_load_log_one_warning_in_all(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def offline(name: str) -> None:
        raise ConnectionError(f"no network for {name}")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    monkeypatch.setattr(tokens, "_failed_once", False)
    with caplog.at_level(logging.DEBUG, logger="semtrace._telemetry.tokens"):
        loads = [tokens._EncodingLoad(name) for name in ("o200k_base", "cl100k_base")]
        for load in loads:
            assert load.done.wait(5)
    assert all(load.failed for load in loads)
    failures = [r for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert [r.levelno for r in failures].count(logging.WARNING) == 1
    assert len(failures) == 2  # the second is still there, at DEBUG


_LATE_CACHE_APP = """
import logging, os, sys
import semtrace
from semtrace._telemetry import tokens
from semtrace._telemetry.tokens import TokenCounter

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
semtrace.configure(console=False)  # start-up: warms the default encoding up
counter = TokenCounter()
counter.warm_up("gpt-4o")
print("warm-up loads:", len(tokens._loads), flush=True)
os.environ["TIKTOKEN_CACHE_DIR"] = sys.argv[1]  # the application provides its files now
count = counter.count_text("gpt-4o", "hello world")
print("count:", None if count is None else count.tokens, flush=True)
"""


def test_a_cache_dir_set_after_start_up_is_used_and_nothing_was_downloaded(
    tmp_path: Path, closed_port: int
) -> None:
    """An instrumentor started before TIKTOKEN_CACHE_DIR was set counts once it is set.

    A fresh interpreter, so that no encoding is loaded yet. The start-up cache folder is
    empty and every download goes to a closed proxy port: a warm-up that tried the network
    would log "could not be loaded", and its failed load would be reused for the count.
    """
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(empty),
        "HTTPS_PROXY": f"http://127.0.0.1:{closed_port}",
        "HTTP_PROXY": f"http://127.0.0.1:{closed_port}",
    }
    for var in [v for v in env if v.startswith("OTEL_")]:
        del env[var]
    done = subprocess.run(
        [sys.executable, "-c", _LATE_CACHE_APP, os.environ["TIKTOKEN_CACHE_DIR"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "warm-up loads: 0" in done.stdout
    assert "count: 2" in done.stdout
    assert "could not be loaded" not in done.stderr
    assert "Starting new HTTPS connection" not in done.stderr  # urllib3: no download tried
