"""`manage.py tripletex_sandbox`: run the in-memory Tripletex API emulator in the foreground.

Prints the API base URL, the consumer token and a ready-made employee token for the
accounting firm's admin employee (valid one year), then serves until Ctrl-C. All logic
lives in `integrations.tripletex.sandbox`; see its README.md for the control API.

The employee token survives a restart: the seeds are deterministic (same rows, same ids), and
the token's random part is a secret created once under the var dir, so the connection the demo
firm saved keeps working after the next `make run`. A fresh clone creates its own secret.
Rows written through the API (exported invoices, ...) live in memory and are gone.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.tripletex.sandbox import SandboxServer, Store
from integrations.tripletex.sandbox.store import ControlError


class Command(BaseCommand):
    help = "Run the Tripletex sandbox (an in-memory emulator of the Tripletex API v2)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--seed", choices=("demo", "empty"), default="demo")
        parser.add_argument(
            "--customers",
            type=int,
            default=None,
            help="number of generated customers in the firm company",
        )
        parser.add_argument("--environment", choices=("test", "production"), default="test")
        parser.add_argument("--consumer-token", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            store = Store(
                environment=options["environment"],
                consumer_token=options["consumer_token"],
                seed=options["seed"],
                customers=options["customers"],
            )
            server = SandboxServer(store, options["host"], options["port"])
        except (ControlError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        token = store.create_employee_token(
            expires_on=store.today() + timedelta(days=365), secret=token_secret()
        )
        info = store.info()
        self.stdout.write(
            f"Tripletex sandbox ({info['environment']}, seed {info['seed']}) at {server.url}"
        )
        self.stdout.write(f"  control API:     {server.base_url}/_sandbox")
        self.stdout.write(f"  consumer token:  {store.consumer_token}")
        self.stdout.write(
            f"  employee token:  {token['token']}  (employee {token['employee_id']}, "
            f"company {token['company_id']}, expires {token['expires_on']})"
        )
        self.stdout.write(f"  client companies with login access: {info['client_company_ids']}")
        self.stdout.write("Serving until Ctrl-C.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.stop()


def token_secret() -> str:
    """The sandbox's token secret from the var dir, created (readable by its owner only) once."""
    path = Path(settings.VAR_DIR) / "tripletex-sandbox" / "token-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
