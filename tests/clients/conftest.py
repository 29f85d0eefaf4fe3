"""A firm A connected to a fresh demo Tripletex sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture
def connected(tx, saved_connection):
    """Firm A connected to the sandbox with a real token; returns the sandbox."""
    saved_connection(token=tx.store.create_employee_token()["token"])
    return tx
