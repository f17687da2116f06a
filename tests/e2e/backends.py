"""Real observability backends for end-to-end tests, started (and always killed) by the tests.

* Arize Phoenix runs from its own venv (``.venvs/phoenix``, made by ``.ci/e2e-setup.sh`` from
  ``tests/e2e/requirements-phoenix.txt``) through ``phoenix_launcher.py``, which binds its OTLP
  gRPC collector to 127.0.0.1 (stock Phoenix always binds gRPC to ``[::]``).
* Prometheus is Debian's ``prometheus`` binary, run with a temp config and TSDB dir.

Everything listens on 127.0.0.1 only. Only the standard library is used here.

How Phoenix stores what it receives (arize-phoenix 20.x):

* Project: the resource attribute ``openinference.project.name``; ``service.name`` is ignored.
  Without that attribute spans go to the project ``"default"``. A project exists only once a
  span for it arrived (before that ``/v1/projects/{name}/spans`` is a 404: ``spans()`` -> []).
* ``GET /v1/projects/{project}/spans`` returns dicts like ``{"id", "name", "context":
  {"trace_id", "span_id"} (lowercase hex), "parent_id" (hex or None), "span_kind",
  "start_time", "end_time" (ISO 8601), "status_code" ("UNSET"/"OK"/"ERROR"), "status_message",
  "attributes", "events"}``.
* ``attributes`` is a FLAT dict keyed by the dotted OTel names (``"gen_ai.request.model"``);
  ints/floats/bools keep their type, array attributes come back as JSON lists, and JSON strings
  stay strings. Phoenix also ADDS OpenInference attributes it derives from ``gen_ai.*``
  (``llm.model_name``, ``llm.token_count.*``, ``llm.input_messages.N.message.*``, ...) and sets
  ``span_kind`` from them (``AGENT``/``LLM``/``TOOL``/...), so compare attributes as a subset.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
LOOPBACK = "127.0.0.1"

#: Override with SEMTRACE_PHOENIX_PYTHON / SEMTRACE_PROMETHEUS_BIN.
DEFAULT_PHOENIX_PYTHON = REPO_ROOT / ".venvs" / "phoenix" / "bin" / "python"
SETUP_HINT = "run `bash .ci/e2e-setup.sh` (installs Prometheus via apt and the Phoenix venv)"

PHOENIX_START_TIMEOUT = float(os.environ.get("SEMTRACE_PHOENIX_START_TIMEOUT", "240"))
PROMETHEUS_START_TIMEOUT = float(os.environ.get("SEMTRACE_PROMETHEUS_START_TIMEOUT", "60"))

T = TypeVar("T")


class BackendNotInstalled(RuntimeError):
    """The backend's program is missing; the message says how to install it."""


class BackendStartError(RuntimeError):
    """The backend did not come up; the message carries the tail of its log."""


# --------------------------------------------------------------------------- ports & processes


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def listening_addresses(port: int) -> list[str]:
    """Local addresses with a TCP socket in LISTEN state on ``port`` (from /proc/net/tcp{,6})."""
    found: list[str] = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state != "0A":  # TCP_LISTEN
                    continue
                addr_hex, port_hex = local.split(":")
                if int(port_hex, 16) != port:
                    continue
                raw = bytes.fromhex(addr_hex)
                # /proc prints each 32-bit word in host (little-endian) order.
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                family = socket.AF_INET6 if v6 else socket.AF_INET
                found.append(socket.inet_ntop(family, raw))
    return found


def is_loopback(address: str) -> bool:
    return address.startswith(("127.", "::ffff:127.")) or address == "::1"


def _set_parent_death_signal() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


_LIVE: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()


class ManagedProcess:
    """A child process in its own process group, logging to a file, that is always killed.

    Killed by ``stop()`` (SIGTERM to the whole group, then SIGKILL), at interpreter exit
    (atexit), and by the kernel if the test process dies (PR_SET_PDEATHSIG).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_set_parent_death_signal if sys.platform == "linux" else None,
        )
        self.pid = self.popen.pid
        _LIVE.add(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        try:
            if self.popen.poll() is None:
                self._signal_group(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(grace)
            # Whatever the leader did, make sure nothing of the group survives.
            self._signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(5)
        finally:
            _LIVE.discard(self)
            with contextlib.suppress(Exception):
                self._log.close()

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)  # start_new_session: pgid == pid


def _kill_all_live() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            proc.stop(grace=3)


atexit.register(_kill_all_live)


def wait_until(
    probe: Callable[[], T | None],
    timeout: float,
    interval: float = 0.25,
    what: str = "condition",
    proc: ManagedProcess | None = None,
) -> T:
    """Call ``probe`` until it returns something truthy; raise TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            result = probe()
            if result:
                return result
        except Exception as exc:  # probe errors are retried; the last one is reported
            last_exc = exc
        if proc is not None and not proc.alive():
            raise BackendStartError(
                f"{proc.name} exited with code {proc.popen.returncode} while waiting for {what}."
                f"\n--- {proc.log_path} (tail) ---\n{proc.log_tail()}"
            )
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def http_get_json(url: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def http_status(url: str, method: str = "GET", timeout: float = 5.0) -> int:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _clean_env(drop_prefixes: Iterable[str]) -> dict[str, str]:
    prefixes = tuple(drop_prefixes)
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


# --------------------------------------------------------------------------------- Phoenix


def phoenix_python() -> Path:
    """The Phoenix venv's interpreter; raises BackendNotInstalled if it is missing."""
    path = Path(os.environ.get("SEMTRACE_PHOENIX_PYTHON") or DEFAULT_PHOENIX_PYTHON)
    if not path.exists():
        raise BackendNotInstalled(f"Phoenix venv not found: {path} does not exist; {SETUP_HINT}")
    probe = subprocess.run(
        [str(path), "-c", "import importlib.metadata as m; print(m.version('arize-phoenix'))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        raise BackendNotInstalled(
            f"arize-phoenix not importable with {path}: {probe.stderr.strip()[-500:]}; {SETUP_HINT}"
        )
    return path


class Phoenix:
    """A running Phoenix server. Endpoints are plain http:// URLs on 127.0.0.1."""

    def __init__(self, process: ManagedProcess, http_port: int, grpc_port: int, workdir: Path):
        self.process = process
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.workdir = workdir
        self.http_endpoint = f"http://{LOOPBACK}:{http_port}"
        #: OTLP/gRPC endpoint (for OTLPSpanExporter(endpoint=..., insecure=True)).
        self.grpc_endpoint = f"http://{LOOPBACK}:{grpc_port}"
        #: OTLP/HTTP traces endpoint (for the HTTP OTLPSpanExporter(endpoint=...)).
        self.otlp_http_traces_endpoint = f"{self.http_endpoint}/v1/traces"
        self.startup_seconds: float | None = None
        self.version: str | None = None

    def __repr__(self) -> str:
        return f"Phoenix({self.http_endpoint}, grpc={self.grpc_endpoint}, pid={self.process.pid})"

    def healthy(self) -> bool:
        return http_status(f"{self.http_endpoint}/healthz") == 200

    def projects(self) -> list[str]:
        body = http_get_json(f"{self.http_endpoint}/v1/projects?limit=1000")
        return [p["name"] for p in body.get("data", [])]

    def spans(self, project: str = "default", trace_id: str | None = None) -> list[dict[str, Any]]:
        """All spans of ``project`` (optionally of one trace), oldest start_time first.

        [] while the project does not exist yet (Phoenix creates it on the first span).
        """
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        quoted = urllib.parse.quote(project, safe="")
        while True:
            params: list[tuple[str, str]] = [
                ("limit", "1000"),
                ("sort", "start_time"),
                ("order", "asc"),
            ]
            if trace_id:
                params.append(("trace_id", trace_id))
            if cursor:
                params.append(("cursor", cursor))
            query = urllib.parse.urlencode(params)
            try:
                body = http_get_json(f"{self.http_endpoint}/v1/projects/{quoted}/spans?{query}")
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return []
                raise
            out.extend(body.get("data", []))
            cursor = body.get("next_cursor")
            if not cursor:
                return out

    def wait_for_spans(
        self,
        project: str = "default",
        count: int = 1,
        timeout: float = 30.0,
        trace_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Poll until ``project`` (or one trace in it) has at least ``count`` spans; return them."""
        seen: list[dict[str, Any]] = []

        def probe() -> list[dict[str, Any]] | None:
            nonlocal seen
            seen = self.spans(project, trace_id=trace_id)
            return seen if len(seen) >= count else None

        try:
            return wait_until(
                probe, timeout, interval=0.3, what=f"{count} span(s) in Phoenix project {project!r}"
            )
        except TimeoutError as exc:
            names = [s.get("name") for s in seen]
            raise TimeoutError(
                f"{exc}; got {len(seen)}: {names}; projects: {self.projects()}"
                f"\n--- phoenix log (tail) ---\n{self.process.log_tail(30)}"
            ) from None

    def stop(self) -> None:
        self.process.stop()


def start_phoenix(
    tmp_path: Path, timeout: float = PHOENIX_START_TIMEOUT, attempts: int = 3
) -> Phoenix:
    """Start Phoenix on free loopback ports with a fresh SQLite DB under ``tmp_path``.

    Raises BackendNotInstalled if the venv is missing, BackendStartError if it doesn't come up.
    """
    python = phoenix_python()
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        workdir = Path(tmp_path) / f"phoenix-{attempt}"
        workdir.mkdir(parents=True, exist_ok=True)
        http_port, grpc_port = free_port(), free_port()
        while grpc_port == http_port:
            grpc_port = free_port()
        env = _clean_env(("PHOENIX_", "OTEL_"))
        env.update(
            PHOENIX_HOST=LOOPBACK,
            PHOENIX_GRPC_HOST=LOOPBACK,  # read by phoenix_launcher.py, not by Phoenix
            PHOENIX_PORT=str(http_port),
            PHOENIX_GRPC_PORT=str(grpc_port),
            PHOENIX_WORKING_DIR=str(workdir),
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
            PHOENIX_LOG_MIGRATIONS="false",
            PHOENIX_AGENTS_DISABLE_BASH="true",
            PHOENIX_ENABLE_PROMETHEUS="false",
            PYTHONUNBUFFERED="1",
        )
        t0 = time.monotonic()
        proc = ManagedProcess(
            "phoenix",
            [str(python), str(E2E_DIR / "phoenix_launcher.py"), "serve"],
            workdir / "phoenix.log",
            env=env,
            cwd=workdir,
        )
        phoenix = Phoenix(proc, http_port, grpc_port, workdir)
        try:
            wait_until(phoenix.healthy, timeout, what="Phoenix /healthz", proc=proc)
            grpc_up = functools.partial(port_open, grpc_port)
            wait_until(grpc_up, 30, what="Phoenix gRPC port", proc=proc)
        except (BackendStartError, TimeoutError) as exc:
            proc.stop()
            last = (
                exc
                if isinstance(exc, BackendStartError)
                else TimeoutError(f"{exc}\n--- {proc.log_path} (tail) ---\n{proc.log_tail()}")
            )
            # Retry only if it died early (likely a port race); a timeout won't get better.
            if isinstance(exc, TimeoutError):
                break
            continue
        phoenix.startup_seconds = time.monotonic() - t0
        version_url = f"{phoenix.http_endpoint}/arize_phoenix_version"
        with contextlib.suppress(Exception), urllib.request.urlopen(version_url, timeout=5) as r:
            phoenix.version = r.read().decode().strip()
        return phoenix
    raise BackendStartError(f"Phoenix did not start: {last}")


# ------------------------------------------------------------------------------ Prometheus


def prometheus_binary() -> Path:
    found = os.environ.get("SEMTRACE_PROMETHEUS_BIN") or shutil.which("prometheus")
    if not found or not Path(found).exists():
        where = found or "`prometheus` on PATH"
        raise BackendNotInstalled(f"Prometheus binary not found ({where}); {SETUP_HINT}")
    return Path(found)


class Prometheus:
    """A running Prometheus with a 1 s scrape interval; targets can be changed while it runs."""

    def __init__(
        self,
        process: ManagedProcess,
        port: int,
        config_path: Path,
        scrape_interval: str,
    ) -> None:
        self.process = process
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}"
        self.config_path = config_path
        self.scrape_interval = scrape_interval
        self.scrape_targets: list[str] = []
        self.startup_seconds: float | None = None

    def __repr__(self) -> str:
        return f"Prometheus({self.url}, targets={self.scrape_targets}, pid={self.process.pid})"

    def ready(self) -> bool:
        return http_status(f"{self.url}/-/ready") == 200

    def set_scrape_targets(self, targets: Sequence[str]) -> None:
        """Replace the scrape targets ("127.0.0.1:PORT") and hot-reload the config."""
        self.scrape_targets = list(targets)
        write_prometheus_config(self.config_path, self.scrape_targets, self.scrape_interval)
        status = http_status(f"{self.url}/-/reload", method="POST", timeout=30)
        if status != 200:
            raise BackendStartError(f"Prometheus config reload failed: HTTP {status}")

    def add_scrape_target(self, target: str) -> None:
        if target not in self.scrape_targets:
            self.set_scrape_targets([*self.scrape_targets, target])

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query; returns ``data.result`` (``[{"metric": {...}, "value": [ts, "v"]}]``)."""
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        body = http_get_json(url)
        if body.get("status") != "success":
            raise RuntimeError(f"PromQL {promql!r} failed: {body}")
        result = body["data"]["result"]
        return list(result) if isinstance(result, list) else [result]

    def targets(self) -> list[dict[str, Any]]:
        return list(http_get_json(f"{self.url}/api/v1/targets")["data"]["activeTargets"])

    def wait_for(self, promql: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll ``promql`` until it returns a non-empty result; return it."""
        try:
            return wait_until(lambda: self.query(promql), timeout, interval=0.5, what=repr(promql))
        except TimeoutError as exc:
            health = [
                (t.get("scrapeUrl"), t.get("health"), t.get("lastError")) for t in self.targets()
            ]
            raise TimeoutError(f"{exc}; targets: {health}") from None

    def stop(self) -> None:
        self.process.stop()


def write_prometheus_config(path: Path, targets: Sequence[str], scrape_interval: str) -> None:
    # JSON is valid YAML, so no YAML library is needed.
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": [
            {
                "job_name": "e2e",
                "scrape_interval": scrape_interval,
                "scrape_timeout": scrape_interval,
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    tmp.replace(path)


def start_prometheus(
    tmp_path: Path,
    scrape_targets: Sequence[str] = (),
    scrape_interval: str = "1s",
    timeout: float = PROMETHEUS_START_TIMEOUT,
    attempts: int = 3,
) -> Prometheus:
    """Start Prometheus on a free loopback port, TSDB under ``tmp_path``, scraping the targets."""
    binary = prometheus_binary()
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        workdir = Path(tmp_path) / f"prometheus-{attempt}"
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        write_prometheus_config(config, scrape_targets, scrape_interval)
        port = free_port()
        t0 = time.monotonic()
        proc = ManagedProcess(
            "prometheus",
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={LOOPBACK}:{port}",
                "--web.enable-lifecycle",  # POST /-/reload for set_scrape_targets()
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            workdir / "prometheus.log",
            env=_clean_env(()),
            cwd=workdir,
        )
        prom = Prometheus(proc, port, config, scrape_interval)
        prom.scrape_targets = list(scrape_targets)
        try:
            wait_until(prom.ready, timeout, what="Prometheus /-/ready", proc=proc)
        except (BackendStartError, TimeoutError) as exc:
            proc.stop()
            last = (
                exc
                if isinstance(exc, BackendStartError)
                else TimeoutError(f"{exc}\n--- {proc.log_path} (tail) ---\n{proc.log_tail()}")
            )
            if isinstance(exc, TimeoutError):
                break
            continue
        prom.startup_seconds = time.monotonic() - t0
        return prom
    raise BackendStartError(f"Prometheus did not start: {last}")


def prometheus_version() -> str:
    out = subprocess.run(
        [str(prometheus_binary()), "--version"], capture_output=True, text=True, timeout=30
    )
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"
