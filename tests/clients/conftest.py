"""Firm A connected to a Tripletex sandbox: the demo company or an empty one."""

from __future__ import annotations

import pytest


@pytest.fixture
def connected(tx, saved_connection):
    """Firm A connected to the sandbox with a real token; returns the sandbox."""
    saved_connection(token=tx.store.create_employee_token()["token"])
    return tx


@pytest.fixture
def empty_tx(tx, saved_connection):
    """An empty Tripletex company that firm A is connected to."""
    tx.store.reset("empty")
    token = tx.store.create_employee_token()["token"]
    saved_connection(token=token)
    tx.token = token
    return tx
