"""The integration core without a vendor: access, enable/disable, secrets, jobs, notifications,
token-expiry warnings."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from integrations import crypto, services
from integrations.models import IntegrationCredential, Notification, SyncJob
from integrations.tasks import warn_expiring_tokens
from uku.models import Plan
from uku.tenancy import PlanRequired


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("accountant", 403), ("billing", 403)]
)
def test_only_owners_and_admins_open_settings_and_apps(world, as_user, who, status) -> None:
    assert as_user(getattr(world, who)).get(reverse("integrations")).status_code == status


def test_a_free_plan_sees_why_and_which_plan_it_needs(world, as_user) -> None:
    world.firm_a.plan = Plan.FREE
    world.firm_a.save()
    client = as_user(world.owner)
    page = client.get(reverse("integrations")).content.decode()
    assert "Needs the Team plan or higher (your firm is on Free)" in page
    response = client.post(reverse("integration_enable", args=["tripletex"]))
    assert response.status_code == 403
    assert "part of the Team plan" in response.content.decode()


def test_enabling_and_disabling_keeps_the_connection(world, as_user, saved_connection) -> None:
    saved_connection()
    client = as_user(world.admin)
    client.post(reverse("integration_disable", args=["tripletex"]))
    page = client.get(reverse("integrations")).content.decode()
    assert "Not enabled" in page
    client.post(reverse("integration_enable", args=["tripletex"]))
    page = client.get(reverse("integrations")).content.decode()
    assert "Connected to “Demo Regnskap AS” (Test)" in page


def test_an_unknown_vendor_is_404(world, as_user) -> None:
    assert as_user(world.owner).get("/settings/apps/nosuch/").status_code == 404


def test_services_refuse_members_and_lower_plans(world) -> None:
    with world.scope_a():
        with pytest.raises(PermissionDenied):
            services.enable_integration(
                company=world.firm_a, actor=world.billing, vendor="tripletex"
            )
        world.firm_a.plan = Plan.FREE
        with pytest.raises(PlanRequired):
            services.enable_integration(company=world.firm_a, actor=world.owner, vendor="tripletex")


def test_the_connect_tab_shows_only_the_last_four_characters(
    world, as_user, saved_connection
) -> None:
    token = "test-canary-secret-token-value-9z8y"
    saved_connection(token=token, expires_on=date(2027, 3, 1))
    page = as_user(world.owner).get(
        reverse("integration_detail", args=["tripletex"]) + "?tab=connect"
    )
    html = page.content.decode()
    assert "9z8y" in html and "expires 01/03/2027" in html
    assert token not in html and "canary" not in html
    with scopes_disabled():
        stored = IntegrationCredential.objects.get().secret_encrypted
    assert token not in stored and "canary" not in stored


def test_history_appears_only_when_there_is_history(world, as_user) -> None:
    client = as_user(world.owner)
    client.post(reverse("integration_enable", args=["tripletex"]))
    page = client.get(reverse("integration_detail", args=["tripletex"])).content.decode()
    assert "?tab=connect" in page and "?tab=history" not in page
    with world.scope_a():
        services.start_job(company=world.firm_a, actor=world.owner, vendor="tripletex", kind="x")
    page = client.get(reverse("integration_detail", args=["tripletex"])).content.decode()
    assert "?tab=history" in page


def test_disconnect_deletes_the_token_and_keeps_the_history(
    world, as_user, saved_connection
) -> None:
    saved_connection()
    with world.scope_a():
        services.start_job(company=world.firm_a, actor=world.owner, vendor="tripletex", kind="x")
    as_user(world.owner).post(reverse("integration_disconnect", args=["tripletex"]))
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()
        assert SyncJob.objects.count() == 1


def test_a_second_request_joins_the_running_job(world) -> None:
    with world.scope_a():
        first, created = services.start_job(
            company=world.firm_a, actor=world.owner, vendor="tripletex", kind="import", scope="all"
        )
        again, created_again = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="import", scope="all"
        )
        other, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="import", scope="one"
        )
        assert (created, created_again) == (True, False)
        assert again.pk == first.pk and other.pk != first.pk
        with services.running(first):
            pass
        fresh, created = services.start_job(
            company=world.firm_a, actor=world.owner, vendor="tripletex", kind="import", scope="all"
        )
    assert created and fresh.pk != first.pk


def test_key_rotation_reencrypts_and_old_ciphertexts_still_decrypt(settings, db) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.UKU_ENCRYPTION_KEYS = [old_key]
    ciphertext = crypto.encrypt("secret-value")
    settings.UKU_ENCRYPTION_KEYS = [new_key, old_key]  # step 1: the new key first
    assert crypto.decrypt(ciphertext) == "secret-value"  # old ciphertexts work during rotation
    rotated = crypto.rotate(ciphertext)
    settings.UKU_ENCRYPTION_KEYS = [new_key]  # step 4: the old key dropped
    assert crypto.decrypt(rotated) == "secret-value"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(ciphertext)


def test_the_rotation_command_reencrypts_every_credential(settings, saved_connection) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.UKU_ENCRYPTION_KEYS = [old_key]
    saved_connection(token="test-rotate-me-0000000000000000abcd")
    settings.UKU_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Re-encrypted 1 secret(s)" in out.getvalue()
    settings.UKU_ENCRYPTION_KEYS = [new_key]
    with scopes_disabled():
        stored = IntegrationCredential.objects.get().secret_encrypted
    assert json.loads(crypto.decrypt(stored)) == {
        "employee_token": "test-rotate-me-0000000000000000abcd"
    }


def _notifications(world):
    with scopes_disabled():
        return list(Notification.objects.filter(company=world.firm_a).order_by("created_at", "pk"))


@pytest.mark.parametrize("days_before", [14, 7, 3, 1, 0])
def test_expiry_warnings_fire_once_per_threshold(
    world, saved_connection, days_before, django_capture_on_commit_callbacks
) -> None:
    saved_connection(expires_on=date(2027, 3, 1))
    with (
        time_machine.travel(date(2027, 3, 1) - timedelta(days=days_before)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        warn_expiring_tokens.delay()
        warn_expiring_tokens.delay()  # a second run the same day adds nothing
    notes = _notifications(world)
    assert {n.recipient.email for n in notes} == {"owner@fjord.no", "admin@fjord.no"}
    assert len(notes) == 2
    assert "01/03/2027" in notes[0].text  # the date as the language writes it, not ISO
    with translation.override("nb"):
        assert "01.03.2027" in notes[0].text_shown and "Tokenet" in notes[0].text_shown
    assert len(mail.outbox) == 1 and set(mail.outbox[0].to) == {"owner@fjord.no", "admin@fjord.no"}


def test_expiry_warnings_walk_through_the_thresholds(world, saved_connection) -> None:
    saved_connection(expires_on=date(2027, 3, 1))
    texts = []
    for day in range(20, -3, -1):  # every day from 20 days before to 2 days after
        with time_machine.travel(date(2027, 3, 1) - timedelta(days=day)):
            warn_expiring_tokens.delay()
    with scopes_disabled():
        texts = list(
            Notification.objects.filter(recipient=world.owner)
            .order_by("pk")
            .values_list("text", flat=True)
        )
    assert len(texts) == 6  # 14, 7, 3, 1 days before, on the day, and once after
    assert "in 14 days" in texts[0] and "tomorrow" in texts[3]
    assert "expires today" in texts[4] and "expired on" in texts[5]


def test_a_token_saved_close_to_expiry_warns_once_for_where_it_is(world, saved_connection) -> None:
    saved_connection(expires_on=date(2027, 3, 1))
    with time_machine.travel(date(2027, 2, 24)):  # 5 days left: the 7-day warning, not 14 too
        warn_expiring_tokens.delay()
    with time_machine.travel(date(2027, 2, 25)):
        warn_expiring_tokens.delay()
    with scopes_disabled():
        texts = list(
            Notification.objects.filter(recipient=world.owner).values_list("text", flat=True)
        )
    assert texts == [
        "The Tripletex token expires in 5 days (01/03/2027). Replace it under Settings & Apps → Tripletex → Connect."
    ]


def test_the_card_warns_before_the_token_expires(world, as_user, saved_connection) -> None:
    saved_connection(expires_on=date(2027, 3, 1))
    with time_machine.travel(date(2027, 2, 22)):
        page = as_user(world.owner).get(reverse("integrations")).content.decode()
    assert "The token expires in 7 days." in page


def test_notifications_are_listed_marked_read_and_private(world, as_user, api_as) -> None:
    with world.scope_a():
        services.notify(
            company=world.firm_a, text="Import done", users=[world.accountant], link="/"
        )
        services.notify(company=world.firm_a, text="For admins", roles=["admin"])
    api = api_as(world.accountant)
    listing = api.get("/api/v1/notifications/").json()["results"]
    assert [n["text"] for n in listing] == ["Import done"]
    page = as_user(world.accountant).get(reverse("home")).content.decode()
    assert 'id="notification-bell"' in page and ">1<span" in page
    marked = api.post(f"/api/v1/notifications/{listing[0]['id']}/read/")
    assert marked.status_code == 200 and marked.json()["read_at"]
    assert api.get("/api/v1/notifications/?unread=1").json()["results"] == []
    # someone else's notification is 404
    with scopes_disabled():
        admin_note = Notification.objects.get(recipient=world.admin)
    assert api.post(f"/api/v1/notifications/{admin_note.public_id}/read/").status_code == 404


def test_the_api_lists_integrations_without_any_secret(world, api_as, saved_connection) -> None:
    token = "test-canary-api-token-value-000000zz"
    saved_connection(token=token, expires_on=date(2027, 3, 1))
    response = api_as(world.admin).get("/api/v1/integrations/")
    body = response.json()
    assert body[0]["key"] == "tripletex" and body[0]["state"] == "connected"
    assert body[0]["token"]["last4"] == "00zz" and body[0]["token"]["expires_on"] == "2027-03-01"
    assert "canary" not in response.content.decode()


@pytest.mark.parametrize("who", ["accountant", "billing"])
def test_the_integrations_api_refuses_members_and_billing(world, api_as, who) -> None:
    api = api_as(getattr(world, who))
    calls = [
        ("get", "/api/v1/integrations/"),
        ("post", "/api/v1/integrations/tripletex/enable"),
        ("post", "/api/v1/integrations/tripletex/disable"),
        ("put", "/api/v1/integrations/tripletex/connection"),
        ("delete", "/api/v1/integrations/tripletex/connection"),
        ("post", "/api/v1/integrations/tripletex/connection/test"),
        ("get", "/api/v1/sync-jobs/"),
    ]
    for method, path in calls:
        assert getattr(api, method)(path).status_code == 403, (method, path)


def test_another_firms_owner_only_ever_acts_on_their_own_firm(
    world, api_as, saved_connection
) -> None:
    saved_connection()
    api = api_as(world.outsider)
    assert api.delete("/api/v1/integrations/tripletex/connection").status_code == 204
    assert api.get("/api/v1/integrations/").json()[0]["state"] == "not_enabled"
    with scopes_disabled():
        assert IntegrationCredential.objects.filter(company=world.firm_a).count() == 1


def test_a_test_left_running_never_blocks_the_next_one(world, saved_connection) -> None:
    saved_connection()
    with scopes_disabled():
        SyncJob.objects.create(
            company=world.firm_a,
            vendor="tripletex",
            kind="connection_test",
            scope="",
            status="running",
        )
    with world.scope_a(), pytest.raises(Exception) as raised:  # the fake token: refused
        services.test_connection(
            company=world.firm_a, actor=world.admin, vendor="tripletex", environment="test"
        )
    assert "IntegrityError" not in type(raised.value).__name__


def test_a_job_without_calls_does_not_clear_a_connection_error(world, saved_connection) -> None:
    from integrations.models import IntegrationConnection

    connection = saved_connection()
    with world.scope_a():
        IntegrationConnection.objects.filter(pk=connection.pk).update(
            status="error", last_error="Token revoked"
        )
        job, _ = services.start_job(company=world.firm_a, actor=None, vendor="tripletex", kind="k")
        services.record_sync_success(connection, job)
        connection.refresh_from_db()
    assert (connection.status, connection.last_error) == ("error", "Token revoked")


def test_an_api_token_opens_no_page_and_no_admin(world, db) -> None:
    from django.test import Client as DjangoClient

    world.owner.is_staff = True
    world.owner.save()
    with world.scope_a():
        from uku import services as uku_services

        _token, raw = uku_services.create_api_token(
            company=world.firm_a, actor=world.owner, name="t"
        )
    browser = DjangoClient(HTTP_AUTHORIZATION=f"Token {raw}")
    assert browser.get("/admin/uku/company/").status_code == 302  # to the admin login
    assert browser.get("/members/").status_code == 302  # to the login page
    assert browser.get("/api/v1/me").status_code == 200


def test_an_unknown_vendor_in_import_urls_is_404(world, as_user) -> None:
    client = as_user(world.owner)
    assert client.get("/settings/apps/bogus/import/").status_code == 404
    assert client.post("/settings/apps/bogus/import/start/").status_code == 404


def test_a_second_delivery_of_a_running_job_does_not_run_it_again(world, saved_connection) -> None:
    from django.utils import timezone

    from integrations.jobs import run_sync_job

    saved_connection()
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind="customer_import_preview"
        )
        SyncJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    assert run_sync_job.apply(args=[job.pk]).get() == "skipped"
    job.refresh_from_db()
    assert job.status == "running"
