"""A vendor sandbox served from a process of its own, for the benchmarks.

In the measured process, the sandbox's own work (building and serialising each page of customers)
would run beside uku's under the same interpreter lock and count in uku's time and memory
(`tracemalloc` sees every thread). In a child process it costs uku nothing it would not cost
against the real accounting system. `store` forwards attribute reads and method calls to the
child's `Store` over a pipe, so the benchmark reads the request log as before.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import Any

_CALLABLE = "<callable>"


def _serve(vendor: str, customers: int | None, pipe: Connection) -> None:
    """Child process: start the sandbox and answer the parent's requests until "stop"."""
    server: Any
    if vendor == "tripletex":
        from integrations.tripletex import sandbox as tripletex

        server = tripletex.start_sandbox(seed="demo", customers=customers)
    else:
        from integrations.merit import sandbox as merit

        server = merit.start_sandbox(seed="demo", customers=customers)
    pipe.send({"url": server.url, "urls": getattr(server, "urls", None)})
    lock = threading.Lock()
    while True:
        message = pipe.recv()
        if message[0] == "stop":
            break
        try:
            with lock:
                value = getattr(server.store, message[1])
                if message[0] == "call":
                    value = value(*message[2], **message[3])
                elif callable(value):
                    value = _CALLABLE
            pipe.send(("ok", value))
        except Exception as error:  # the parent raises it
            pipe.send(("error", repr(error)))
    server.stop()
    pipe.send(("ok", None))


class _StoreProxy:
    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe

    def _ask(self, *message: Any) -> Any:
        self._pipe.send(message)
        status, value = self._pipe.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox store: {value}")
        return value

    def __getattr__(self, name: str) -> Any:
        value = self._ask("get", name)
        if value != _CALLABLE:
            return value
        return lambda *args, **kwargs: self._ask("call", name, args, kwargs)


class SandboxProcess:
    """`start_sandbox(seed="demo", customers=...)` of `vendor`, in a child process: `url`
    (Tripletex), `urls` (Merit), `store` (a proxy) and `stop()`, like the in-process server."""

    def __init__(self, vendor: str, customers: int | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(vendor, customers, child), daemon=True)
        self._process.start()
        info = self._pipe.recv()
        self.url: str = info["url"]
        self.urls: dict[str, str] = info["urls"] or {}
        self.store: Any = _StoreProxy(self._pipe)

    def stop(self) -> None:
        if self._process.is_alive():
            self._pipe.send(("stop",))
            self._pipe.recv()
            self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
