"""Firm A and the Merit emulator (the `merit` fixture of tests/conftest.py): helpers to test and
save a connection through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from integrations import services
from integrations.models import IntegrationConnection


def merit_test(world: Any, environment: str = "ee", **credentials: str):
    """`services.test_connection` for firm A's admin with pasted `credentials`."""
    with world.scope_a():
        return services.test_connection(
            company=world.firm_a,
            actor=world.admin,
            vendor="merit",
            environment=environment,
            credentials=credentials or None,
        )


@pytest.fixture
def merit_connected(world, merit) -> Any:
    """Firm A with Merit enabled and connected to the emulator's Estonian demo firm through
    `save_connection` (one real test call); returns the emulator."""
    creds = merit.store.demo_credentials("EE")
    with world.scope_a():
        services.enable_integration(company=world.firm_a, actor=world.admin, vendor="merit")
        connection: IntegrationConnection = services.save_connection(
            company=world.firm_a,
            actor=world.admin,
            vendor="merit",
            environment="ee",
            credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
        )
    merit.connection = connection
    return merit
