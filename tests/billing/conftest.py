"""Firm A with billing active and Tripletex connected to a fresh demo sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import TestCase
from django_scopes import scopes_disabled

from billing import services
from billing.models import BillingProduct, VatType
from integrations.models import SyncJob
from integrations.tripletex.client import clear_session_cache
from integrations.tripletex.sandbox import SandboxServer, start_sandbox


@pytest.fixture
def tx(settings) -> Iterator[SandboxServer]:
    """A fresh demo sandbox that uku's Test environment points at (few attempts, short waits)."""
    server = start_sandbox(seed="demo", environment="test")
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
    settings.TRIPLETEX_MAX_ATTEMPTS = 3
    settings.TRIPLETEX_READ_TIMEOUT = 5.0
    clear_session_cache()
    yield server
    server.stop()
    clear_session_cache()


@pytest.fixture
def connected(tx, saved_connection) -> SandboxServer:
    """Firm A connected to the sandbox with a real employee token; returns the sandbox."""
    saved_connection(token=tx.store.create_employee_token()["token"])
    return tx


@pytest.fixture
def billing_on(world, connected) -> SandboxServer:
    """`connected`, and billing active for firm A with Tripletex as its accounting system."""
    with world.scope_a():
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor="tripletex")
    return connected


def run_jobs(start: Any) -> SyncJob:
    """Call `start()` (which requests a job) and run the tasks it queued on commit (eager)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = start()
    job.refresh_from_db()
    return job


def import_products(world: Any, actor: Any = None) -> SyncJob:
    def start() -> SyncJob:
        with world.scope_a():
            return services.request_product_import(
                company=world.firm_a, actor=actor or world.admin, vendor="tripletex"
            )[0]

    return run_jobs(start)


def import_vat_types(world: Any, actor: Any = None) -> SyncJob:
    def start() -> SyncJob:
        with world.scope_a():
            return services.request_vat_type_import(
                company=world.firm_a, actor=actor or world.admin, vendor="tripletex"
            )[0]

    return run_jobs(start)


def products_of(company: Any) -> dict[str, BillingProduct]:
    with scopes_disabled():
        return {
            p.remote_id: p
            for p in BillingProduct.objects.filter(company=company).select_related("vat_type")
        }


def vat_types_of(company: Any) -> dict[str, VatType]:
    with scopes_disabled():
        return {v.remote_id: v for v in VatType.objects.filter(company=company)}
