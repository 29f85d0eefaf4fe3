"""A canary credential per vendor through its whole life (issue 14, section 3): set, used (a
connection test and a customer import, which runs as a Celery task), rotated (replaced by a
second canary, which is used too), and removed. Then the logs (web and task code, through uku's
handler and as raw records), the HTML, the API answers, the exception texts, the Celery
messages and the database outside the encrypted column are searched for both: zero hits.

The connect tests (`tests/integrations/*/test_connect.py::test_a_canary_*`) cover the faults
while a credential is tested; this covers what happens to a credential afterwards.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from integrations import services
from integrations.base import IntegrationError
from integrations.models import IntegrationCredential, SyncJob
from tests.reliability.report import count
from tests.reliability.secrets import LeakWatch

IN_SIX_MONTHS = (timezone.localdate() + timedelta(days=180)).isoformat()


def _tripletex_canaries(request: pytest.FixtureRequest) -> tuple[Any, list[dict[str, str]]]:
    sandbox = request.getfixturevalue("tx")
    expires = sandbox.store.today() + timedelta(days=200)
    canaries = [
        {
            "employee_token": sandbox.store.create_employee_token(expires_on=expires)["token"],
            "environment": "test",
            "token_expires_on": IN_SIX_MONTHS,
        }
        for _ in range(2)
    ]
    return sandbox, canaries


def _merit_canaries(request: pytest.FixtureRequest) -> tuple[Any, list[dict[str, str]]]:
    sandbox = request.getfixturevalue("merit")
    canaries = []
    for _ in range(2):
        issued = sandbox.store.create_credentials("EE")
        canaries.append(
            {"api_id": issued["api_id"], "api_key": issued["api_key"], "environment": "ee"}
        )
    return sandbox, canaries


VENDORS = {
    "tripletex": (_tripletex_canaries, "employee_token"),
    "merit": (_merit_canaries, "api_key"),
}


def _revoke(vendor: str, sandbox: Any, canary: dict[str, str]) -> None:
    if vendor == "tripletex":
        sandbox.store.revoke_employee_token(canary["employee_token"])
    else:
        sandbox.store.revoke_credentials(canary["api_id"])


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_a_canary_set_used_rotated_and_removed_leaks_nowhere(
    request, world, as_user, api_as, django_capture_on_commit_callbacks, vendor: str
) -> None:
    make, secret_field = VENDORS[vendor]
    sandbox, (first, second) = make(request)
    secrets = [first[secret_field], second[secret_field]]
    web = as_user(world.admin)
    api = api_as(world.admin)
    detail = f"/settings/apps/{vendor}/"
    connect = reverse("integration_connect", args=[vendor])

    def credentials() -> list[IntegrationCredential]:
        with scopes_disabled():
            return list(
                IntegrationCredential.objects.filter(
                    company=world.firm_a, connection__vendor=vendor
                )
            )

    def look_around(watch: LeakWatch) -> None:
        for url in ("/settings/apps/", f"{detail}?tab=connect", f"{detail}?tab=history"):
            watch.see(web.get(url))
        watch.see(api.get("/api/v1/integrations/"), api.get("/api/v1/sync-jobs/"))
        with scopes_disabled():
            jobs = list(SyncJob.objects.filter(company=world.firm_a, vendor=vendor))
        for job in jobs:
            watch.see(web.get(f"{detail}history/{job.public_id}/"))
            watch.see(api.get(f"/api/v1/sync-jobs/{job.public_id}/"))
            watch.see(job.error, job.error_details)

    with LeakWatch() as watch:
        web.post(reverse("integration_enable", args=[vendor]))
        # Set.
        watch.see(web.post(connect, first))
        assert [c.last4 for c in credentials()] == [first[secret_field][-4:]]
        # Used: the saved credential tested through the API, and a customer import (a task).
        test_url = f"/api/v1/integrations/{vendor}/connection/test"
        watch.see(api.post(test_url, {}, format="json"))
        with django_capture_on_commit_callbacks(execute=True):
            watch.see(web.post(reverse("import_start", args=[vendor])))
        with scopes_disabled():
            job = SyncJob.objects.filter(company=world.firm_a, vendor=vendor).latest("created_at")
        assert job.status not in ("queued", "running"), job.status  # the task ran
        look_around(watch)
        # Rotated: the second canary replaces the first (one credential, the new one).
        watch.see(web.post(connect, second))
        assert [c.last4 for c in credentials()] == [second[secret_field][-4:]]
        watch.see(api.post(test_url, {}, format="json"))
        with django_capture_on_commit_callbacks(execute=True):
            watch.see(web.post(reverse("import_start", args=[vendor])))
        # The replaced one, revoked at the vendor, tested again by hand: an error, its text seen.
        _revoke(vendor, sandbox, first)
        with world.scope_a(), pytest.raises(IntegrationError) as refused:
            services.test_connection(
                company=world.firm_a,
                actor=world.admin,
                vendor=vendor,
                environment=first["environment"],
                credentials={k: v for k, v in first.items() if k not in ("environment",
                             "token_expires_on")},
            )  # fmt: skip
        watch.see_exception(refused.value)
        look_around(watch)
        # Removed: disconnect deletes the credential; a test of "the saved one" then fails.
        watch.see(web.post(reverse("integration_disconnect", args=[vendor])))
        assert credentials() == []
        with world.scope_a(), pytest.raises(IntegrationError) as missing:
            services.test_connection(
                company=world.firm_a,
                actor=world.admin,
                vendor=vendor,
                environment=first["environment"],
            )
        watch.see_exception(missing.value)
        look_around(watch)
    assert watch.messages, "the import task ran and its message was seen"
    assert watch.stream.getvalue(), "logging did happen"
    leaks = [hit for secret in secrets for hit in watch.leaks(secret)]
    count("secret_leaks", len(leaks))
    assert not leaks
