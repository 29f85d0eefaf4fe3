"""`manage.py rotate_encryption_keys`: re-encrypt every stored secret under the newest key.

Rotation: 1) put a new key FIRST in UKU_ENCRYPTION_KEYS, keeping the old ones after it; 2) deploy;
3) run this command; 4) remove the old keys. Between 2 and 3 everything still decrypts. Safe to
run twice; rows are re-encrypted one by one, each in its own transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_scopes import scopes_disabled

from integrations import crypto
from integrations.models import IntegrationCredential


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the newest key in UKU_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = failed = 0
        with scopes_disabled():
            ids = list(IntegrationCredential.objects.values_list("pk", flat=True))
            for pk in ids:
                with transaction.atomic():
                    credential = IntegrationCredential.objects.select_for_update().get(pk=pk)
                    try:
                        credential.secret_encrypted = crypto.rotate(credential.secret_encrypted)
                    except crypto.DecryptionError:
                        failed += 1
                        self.stderr.write(
                            f"Credential {pk} (…{credential.last4}) opens with none of the keys."
                        )
                        continue
                    credential.save(update_fields=["secret_encrypted"])
                    rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} secret(s) under the newest key.")
        if failed:
            raise CommandError(f"{failed} secret(s) could not be decrypted; keep the old keys.")
