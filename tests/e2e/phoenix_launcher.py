"""Start ``phoenix serve`` with its OTLP gRPC server bound to loopback only.

Run with the Phoenix venv's interpreter (``.venvs/phoenix/bin/python``), NOT the project's.

Phoenix (checked up to arize-phoenix 20.x) honours ``PHOENIX_HOST`` for its HTTP server, but its
gRPC collector (``phoenix/server/grpc_server.py``) always calls
``server.add_insecure_port(f"[::]:{port}")``, i.e. all interfaces, and there is no setting to
change that. This launcher rewrites any wildcard bind address given to a ``grpc.aio`` server to
``PHOENIX_GRPC_HOST`` (default: ``PHOENIX_HOST``, else 127.0.0.1) before handing over to Phoenix's
own CLI entry point. Extra argv is passed to ``phoenix`` (default: ``serve``).
"""

from __future__ import annotations

import os
import sys

import grpc.aio
from grpc.aio import _server as _grpc_aio_server

_WILDCARDS = ("[::]", "0.0.0.0", "", "::")


def _loopback_host() -> str:
    host = os.environ.get("PHOENIX_GRPC_HOST") or os.environ.get("PHOENIX_HOST") or "127.0.0.1"
    if host in _WILDCARDS:
        host = "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _rewrite(address: str) -> str:
    host, sep, port = address.rpartition(":")
    if sep and host in _WILDCARDS:
        new = f"{_loopback_host()}:{port}"
        print(f"[phoenix_launcher] gRPC bind {address!r} -> {new!r}", file=sys.stderr, flush=True)
        return new
    return address


def _patch() -> None:
    server_cls = _grpc_aio_server.Server
    for meth in ("add_insecure_port", "add_secure_port"):
        original = getattr(server_cls, meth)

        def patched(self, address, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            return __original(self, _rewrite(address), *args, **kwargs)

        setattr(server_cls, meth, patched)
    assert grpc.aio.server  # the factory Phoenix calls returns _grpc_aio_server.Server


def main() -> int:
    _patch()
    from phoenix.server.main import main as phoenix_main

    sys.argv = ["phoenix", *(sys.argv[1:] or ["serve"])]
    result = phoenix_main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
