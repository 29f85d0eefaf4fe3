"""Tripletex sandbox: a stateful, in-memory emulator of the Tripletex API v2 parts uku uses.

Start one in-process (tests, demo)::

    server = start_sandbox(seed="demo")
    token = server.store.create_employee_token()["token"]
    ...  # talk to server.url ("http://127.0.0.1:<port>/v2") with requests
    server.stop()

See README.md next to this file for the emulated endpoints, the ``/_sandbox``
control API and the choices made where Tripletex's behaviour is unconfirmed.
"""

from __future__ import annotations

from datetime import date

from .app import SandboxServer
from .store import Store

__all__ = ["SandboxServer", "Store", "start_sandbox"]


def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: str = "demo",
    environment: str = "test",
    consumer_token: str | None = None,
    today: date | None = None,
    customers: int | None = None,
) -> SandboxServer:
    """Seed a fresh store and serve it from a daemon thread (``port=0`` picks a free port).

    ``environment`` is ``"test"`` (every issued token starts with ``test-``) or
    ``"production"``; ``today`` pins the sandbox clock; ``customers`` overrides
    the number of generated customers in the firm company.
    """
    store = Store(
        environment=environment,
        consumer_token=consumer_token,
        today=today,
        seed=seed,
        customers=customers,
    )
    return SandboxServer(store, host, port).start()
