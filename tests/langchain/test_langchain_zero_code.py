"""`opentelemetry-instrument python app.py` on a LangChain app that never mentions semtrace.

The project's environment has no OpenTelemetry distro but semtrace's: its distro and
configurator set up export, so the trace prints as a tree. The app sets
TIKTOKEN_CACHE_DIR itself, after the instrumentors started: tokens are still counted,
and no download is attempted or warned about. (tests/e2e/test_zero_code.py does the
same in a fresh virtual environment, with OTLP and beside opentelemetry-distro.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "data" / "zero_code_app.py"
BIN = Path(sys.executable).parent


def _cache_dir() -> str:
    return os.environ["TIKTOKEN_CACHE_DIR"]  # tests/conftest.py's copy of the BPE files


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_opentelemetry_instrument_prints_the_tree_with_token_counts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SEMTRACE_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        TIKTOKEN_CACHE_DIR=str(tmp_path),  # empty at start-up; the app sets the real one
        HTTPS_PROXY=f"http://127.0.0.1:{_closed_port()}",  # any download would fail loudly
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="llama_index",  # not used here; slow to import
    )
    done = subprocess.run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, str(APP), _cache_dir()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "answer: Paris is the capital of France." in done.stdout
    assert "invoke_workflow RunnableSequence" in done.stderr
    assert "chat " in done.stderr
    assert "tokens=14→7 (tiktoken)" in done.stderr
    assert "could not be loaded" not in done.stderr
