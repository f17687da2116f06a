"""With no tokenizer files and no network, calls are never delayed: counts are omitted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.network import silent_port

SCRIPT = r"""
import json
from semtrace.testing import Telemetry
from semtrace_langchain import CallbackHandler
from tests.langchain.pipelines import fake_chat

telemetry = Telemetry()
handler = CallbackHandler(tracer_provider=telemetry.tracer_provider)
for _ in range(3):
    fake_chat("ok").invoke("hello", config={"callbacks": [handler]})
import time; time.sleep(0.5)  # let a failing download finish, to see its warning
print(json.dumps([dict(s.attributes) for s in telemetry.spans()]))
"""


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A local port that accepts connections and never answers."""
    with silent_port() as port:
        yield port


def run_offline(tmp_path: Path, proxy: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        TIKTOKEN_CACHE_DIR=str(tmp_path / "empty-cache"),
        HTTPS_PROXY=proxy,
        HTTP_PROXY=proxy,
        PYTHONPATH=str(Path(__file__).parents[2]),
    )
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )


def test_blackholed_download_omits_counts_without_blocking_calls(
    tmp_path: Path, blackhole: int
) -> None:
    import json

    done = run_offline(tmp_path, f"http://127.0.0.1:{blackhole}")
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(spans) == 3
    assert all("gen_ai.usage.input_tokens" not in s for s in spans)


def test_failed_download_omits_counts_and_warns_once(tmp_path: Path) -> None:
    import json

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: connections are refused at once
    done = run_offline(tmp_path, f"http://127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    assert all("gen_ai.usage.input_tokens" not in s for s in spans)
    assert done.stderr.count("could not be loaded") == 1
