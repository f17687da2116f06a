"""A network that hangs, for tests and benchmarks (not shipped with semtrace).

Example:
    >>> from tests.network import silent_port
    >>> with silent_port() as port:
    ...     url = f"http://127.0.0.1:{port}"
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_port() -> Iterator[int]:
    """A local TCP port that accepts connections and never answers: a network that hangs.

    Point a download or an exporter at ``http://127.0.0.1:<port>`` to see what waits on it.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    server.settimeout(0.2)  # so the accepting thread notices the stop
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
