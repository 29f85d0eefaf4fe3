"""`manage.py merit_sandbox`: run the in-memory Merit Aktiva API v1 emulator in the foreground.

Serves the Estonian, Finnish and Polish instances (or those chosen with ``--country``)
under one port, prints each instance's API base URL and the demo firm's API ID and
API key, then serves until Ctrl-C. All logic lives in `integrations.merit.sandbox`;
see its README.md for the endpoints and the control API.

The demo credentials survive a restart: they are derived from a secret created once
under the var dir (``<VAR_DIR>/merit-sandbox/token-secret``, mode 0600), and the seeds
are deterministic, so the connection the demo firm saved (and the customers it linked)
keep working after the next `make run`. A fresh clone creates its own secret. Rows
written through the API (sent invoices, ...) live in memory and are gone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.merit.sandbox import SandboxServer, Store
from integrations.merit.sandbox.seed import COUNTRIES
from integrations.merit.sandbox.store import ControlError

DEFAULT_PORT = 8766


class Command(BaseCommand):
    help = "Run the Merit sandbox (an in-memory emulator of the Merit Aktiva API v1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)
        parser.add_argument("--seed", choices=("demo", "empty"), default="demo")
        parser.add_argument(
            "--country",
            action="append",
            choices=sorted(COUNTRIES),
            help="instance to serve (repeatable; default: EE, FI and PL)",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=None,
            help="number of generated customers in each demo firm",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        countries = tuple(dict.fromkeys(options["country"] or ("EE", "FI", "PL")))
        try:
            store = Store(
                options["seed"],
                countries,
                secret=token_secret(),
                customers=options["customers"],
            )
            server = SandboxServer(store, options["host"], options["port"], countries[0])
        except (ControlError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Merit sandbox (seed {store.seed_name}) at {server.base_url}")
        self.stdout.write(f"  control API: {server.base_url}/_sandbox")
        for code in countries:
            credentials = store.demo_credentials(code)
            firm = store.firm(code)
            self.stdout.write(f"  {code} {COUNTRIES[code].product} ({firm.name}, {firm.reg_no})")
            self.stdout.write(f"    base URL: {server.url_for(code)}")
            self.stdout.write(f"    API ID:   {credentials['api_id']}")
            self.stdout.write(f"    API key:  {credentials['api_key']}")
        self.stdout.write("Serving until Ctrl-C.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.stop()


def token_secret() -> str:
    """The sandbox's credential secret from the var dir, created (readable by its owner only) once."""
    path = Path(settings.VAR_DIR) / "merit-sandbox" / "token-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
