"""Merit sandbox: a stateful, in-memory emulator of the Merit Aktiva API v1 parts uku uses.

Start one in-process (tests, demo)::

    server = start_sandbox(seed="demo")
    creds = server.store.demo_credentials("EE")  # {"api_id", "api_key", ...}
    ...  # sign with integrations.merit.signing, POST to server.urls["EE"] + "gettaxes"
    server.stop()

See README.md next to this file for the emulated endpoints, the ``/_sandbox``
control API and the choices made where Merit's behaviour is unconfirmed.
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
    countries: tuple[str, ...] = ("EE", "FI", "PL"),
    country: str = "EE",
    secret: str | None = None,
    today: date | None = None,
    customers: int | None = None,
) -> SandboxServer:
    """Seed a fresh store and serve it from a daemon thread (``port=0`` picks a free port).

    ``countries`` are the instances served; ``country`` is the one ``server.url`` points
    at; ``secret`` makes the demo credentials deterministic; ``today`` pins the date the
    seeded history ends on; ``customers`` overrides the number of generated customers
    in each firm company.
    """
    store = Store(seed, countries, secret=secret, today=today, customers=customers)
    return SandboxServer(store, host, port, country).start()
