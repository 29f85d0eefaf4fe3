"""Fixtures for talking to Tripletex over real HTTP: a fresh sandbox per test, and uku's settings
pointing the Test environment at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.tripletex.client import clear_session_cache
from integrations.tripletex.sandbox import SandboxServer, start_sandbox


@pytest.fixture
def tripletex_sandbox() -> Iterator[SandboxServer]:
    """A fresh demo sandbox (test environment) on a free port, stopped after the test."""
    server = start_sandbox(port=0, seed="demo", environment="test")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tripletex_settings(settings, tripletex_sandbox: SandboxServer):
    """uku's Test environment pointed at `tripletex_sandbox`, with the sandbox's consumer token,
    few attempts and short timeouts so failure tests stay fast. Returns pytest-django's
    `settings` for further overrides."""
    settings.TRIPLETEX_TEST_URL = tripletex_sandbox.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = tripletex_sandbox.store.consumer_token
    settings.TRIPLETEX_MAX_ATTEMPTS = 3
    settings.TRIPLETEX_CONNECT_TIMEOUT = 2.0
    settings.TRIPLETEX_READ_TIMEOUT = 5.0
    return settings


@pytest.fixture(autouse=True)
def _fresh_tripletex_sessions() -> Iterator[None]:
    """Each test starts without sessions cached by an earlier one."""
    clear_session_cache()
    yield
    clear_session_cache()
