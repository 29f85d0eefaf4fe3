"""Firm A connected to Statbooks (tests/statbooks, a made-up vendor with work statistics), with
helpers to link clients, map statistics to fields and run the jobs a call queued."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from clients.models import Client, ExternalLink
from integrations import crypto
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    SyncJob,
)
from summarytasks import services
from summarytasks.models import CustomTaskField, FieldType
from tests.statbooks import adapter as statbooks

VENDOR = "statbooks"


@pytest.fixture(autouse=True)
def _fresh_books(settings) -> Iterator[None]:
    statbooks.reset()
    settings.UKU_STATISTICS_RETRY_SECONDS = 0
    settings.UKU_STATISTICS_POLL_SECONDS = 0.01
    yield
    statbooks.reset()


@pytest.fixture
def stat_connection(world) -> IntegrationConnection:
    """Firm A's connected Statbooks connection with a good key."""
    with world.scope_a():
        connection = IntegrationConnection.objects.create(
            company=world.firm_a,
            vendor=VENDOR,
            enabled=True,
            environment="live",
            status=ConnectionStatus.CONNECTED,
            remote_company_name="Stat AS",
        )
        IntegrationCredential.objects.create(
            company=world.firm_a,
            connection=connection,
            environment="live",
            secret_encrypted=crypto.encrypt(json.dumps({"api_key": statbooks.GOOD_KEY})),
            last4=statbooks.GOOD_KEY[-4:],
            set_by=world.admin,
            set_at=timezone.now(),
        )
    return connection


@pytest.fixture
def linked(world, stat_connection) -> Callable[..., Client]:
    """`linked(name, remote_id)` -> an active client of firm A linked to Statbooks."""

    def make(name: str, remote_id: str, **fields: Any) -> Client:
        with world.scope_a():
            client = Client.objects.create(company=world.firm_a, name=name, **fields)
            ExternalLink.objects.create(
                company=world.firm_a,
                client=client,
                vendor=VENDOR,
                remote_id=remote_id,
                remote_name=name,
            )
        return client

    return make


@pytest.fixture
def mapped(world, stat_connection) -> Callable[..., dict[str, CustomTaskField]]:
    """`mapped(sale_entries="Sales", ...)` -> fields created and mapped (whole numbers)."""

    def make(**names: str) -> dict[str, CustomTaskField]:
        with world.scope_a():
            fields = {}
            for key, name in names.items():
                fields[key] = CustomTaskField.objects.filter(
                    company=world.firm_a, name=name
                ).first() or services.create_task_field(
                    company=world.firm_a, actor=world.admin, name=name, type=FieldType.WHOLE_NUMBER
                )
            services.save_field_mapping(
                company=world.firm_a, actor=world.admin, vendor=VENDOR, mapping=fields
            )
        return fields

    return make


@pytest.fixture
def sandbox(settings) -> Iterator[Any]:
    """The demo Tripletex sandbox over real HTTP, with uku's Test environment pointed at it."""
    from integrations.tripletex.client import clear_session_cache
    from integrations.tripletex.sandbox import start_sandbox

    server = start_sandbox(seed="demo", environment="test")
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
    settings.TRIPLETEX_MAX_ATTEMPTS = 3
    settings.TRIPLETEX_READ_TIMEOUT = 10.0
    settings.UKU_STATISTICS_POLL_SECONDS = 0.01
    clear_session_cache()
    yield server
    server.stop()
    clear_session_cache()


def books(customer: str, period: date, **counts: int) -> None:
    """Put counts into Statbooks' books for one customer and month."""
    for key, value in counts.items():
        statbooks.BOOKS[(customer, period, key)] = Decimal(value)


def run_jobs(start: Callable[[], Any]) -> Any:
    """Call `start()` and run the tasks it queued on commit (eagerly)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = start()
    if isinstance(result, tuple) and isinstance(result[0], SyncJob):
        result[0].refresh_from_db()
    return result
