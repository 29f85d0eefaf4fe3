"""A firm A connected to a fresh demo Tripletex sandbox."""

from __future__ import annotations

import pytest

from integrations.tripletex.client import clear_session_cache
from integrations.tripletex.sandbox import start_sandbox


@pytest.fixture
def tx(settings):  # type: ignore[no-untyped-def]
    server = start_sandbox(seed="demo", environment="test")
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
    settings.TRIPLETEX_MAX_ATTEMPTS = 3
    clear_session_cache()
    yield server
    server.stop()
    clear_session_cache()


@pytest.fixture
def connected(tx, saved_connection):  # type: ignore[no-untyped-def]
    """Firm A connected to the sandbox with a real token; returns the sandbox."""
    saved_connection(token=tx.store.create_employee_token()["token"])
    return tx
