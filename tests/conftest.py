"""The two-firm world every test can use, and shared fixtures.

Firm A ("Fjord Regnskap AS", Team plan): owner, admin, accountant (Member role), billing.
Firm B ("Bergen Byrå AS", Team plan): its owner, the outsider in isolation tests.
`nobody`: a user in no firm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled
from rest_framework.test import APIClient

from tests.factories import PASSWORD, CompanyFactory, MembershipFactory, UserFactory
from uku import services
from uku.models import Company, Membership, Role, User

pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English: a request that switched language leaves it active in the
    thread (Django activates per request and never resets), which would leak into the next test."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_vendor_lookups():
    """Vendor lookups (VAT codes, items) are cached per process and credential: each test
    starts without them, so one test's sandbox never answers for the next."""
    from integrations.base import clear_process_caches

    clear_process_caches()
    yield
    clear_process_caches()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttling and password-reset counters live in the (per-process) cache: start each test
    with none, so one test's requests never count against the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    firm_a: Company
    firm_b: Company
    owner: User
    admin: User
    accountant: User
    billing: User
    outsider: User
    nobody: User

    def membership(self, user: User, company: Company | None = None) -> Membership:
        with scopes_disabled():
            return Membership.objects.get(user=user, company=company or self.firm_a)

    def scope_a(self):
        return scope(company=self.firm_a)


@pytest.fixture
def world(db: None) -> World:
    firm_a = CompanyFactory.create(name="Fjord Regnskap AS", organisation_number="923609016")
    firm_b = CompanyFactory.create(name="Bergen Byrå AS")
    people = {
        role: MembershipFactory.create(
            company=firm_a, user=UserFactory.create(email=f"{role}@fjord.no"), role=role
        ).user
        for role in (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.BILLING)
    }
    outsider = MembershipFactory.create(
        company=firm_b, user=UserFactory.create(email="owner@bergen.no"), role=Role.OWNER
    ).user
    return World(
        firm_a=firm_a,
        firm_b=firm_b,
        owner=people[Role.OWNER],
        admin=people[Role.ADMIN],
        accountant=people[Role.MEMBER],
        billing=people[Role.BILLING],
        outsider=outsider,
        nobody=UserFactory.create(email="nobody@example.no"),
    )


def login(client: Client, user: User) -> Client:
    client.force_login(user, backend="uku.auth.EmailBackend")
    return client


@pytest.fixture
def as_user(client: Client):
    """`as_user(user)` -> a Django test client logged in as `user`."""
    return lambda user: login(client, user)


@pytest.fixture
def api_as():
    """`api_as(user, company=None)` -> an APIClient authenticated with a fresh personal API token."""

    def make(user: User, company: Company | None = None) -> APIClient:
        if company is None:
            with scopes_disabled():
                membership = Membership.objects.filter(user=user).first()
            assert membership is not None, f"{user} belongs to no firm: pass company="
            company = membership.company
        with scope(company=company):
            _token, raw = services.create_api_token(company=company, actor=user, name="test")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return api

    return make


@pytest.fixture
def saved_connection(world):
    """`saved_connection(token=..., expires_on=..., environment=...)` stores a connected
    Tripletex connection for firm A directly (as `save_connection` would after a good test)."""
    from integrations import crypto
    from integrations.models import ConnectionStatus, IntegrationConnection, IntegrationCredential

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


@pytest.fixture
def tx(settings):
    """A fresh demo Tripletex sandbox over real HTTP, with uku's Test environment pointed at it."""
    from integrations.tripletex.client import clear_session_cache
    from integrations.tripletex.sandbox import start_sandbox

    server = start_sandbox(seed="demo", environment="test")
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
    settings.TRIPLETEX_MAX_ATTEMPTS = 3
    clear_session_cache()
    yield server
    server.stop()
    clear_session_cache()


@pytest.fixture
def merit(settings):
    """A fresh demo Merit emulator over real HTTP (Estonia, Finland and Poland on one port), with
    uku's three Merit countries pointed at it (few attempts, short timeouts)."""
    from integrations.merit.sandbox import start_sandbox

    server = start_sandbox(seed="demo")
    for country, url in server.urls.items():
        setattr(settings, f"MERIT_{country}_URL", url)
    settings.MERIT_MAX_ATTEMPTS = 3
    settings.MERIT_CONNECT_TIMEOUT = 2.0
    settings.MERIT_READ_TIMEOUT = 5.0
    yield server
    server.stop()


__all__ = ["PASSWORD", "World"]
