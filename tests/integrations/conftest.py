"""Fixtures for the integration core: a saved Tripletex connection without touching Tripletex."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.utils import timezone

from integrations import crypto
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
)


@pytest.fixture
def saved_connection(world):  # type: ignore[no-untyped-def]
    """`saved_connection(token=..., expires_on=..., environment=...)` stores a connected
    Tripletex connection for firm A directly (as `save_connection` would after a good test)."""

    def make(
        token: str = "test-0123456789abcdefghijklmnop1a2b",
        expires_on: date | None = None,
        environment: str = "test",
    ) -> IntegrationConnection:
        with world.scope_a():
            connection, _ = IntegrationConnection.objects.update_or_create(
                company=world.firm_a,
                vendor="tripletex",
                defaults={
                    "enabled": True,
                    "environment": environment,
                    "status": ConnectionStatus.CONNECTED,
                    "remote_company_name": "Demo Regnskap AS",
                    "remote_company_id": "1",
                },
            )
            IntegrationCredential.objects.update_or_create(
                connection=connection,
                environment=environment,
                defaults={
                    "company": world.firm_a,
                    "secret_encrypted": crypto.encrypt(json.dumps({"employee_token": token})),
                    "last4": token[-4:],
                    "expires_on": expires_on,
                    "set_by": world.admin,
                    "set_at": timezone.now(),
                },
            )
        return connection

    return make
