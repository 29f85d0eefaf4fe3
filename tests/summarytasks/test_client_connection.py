"""A client's own credentials, for a vendor without accountant access (Merit Aktiva): saved by
its accountant over the API against the emulator, never shown again, refused when malformed,
another firm's client a 404, and used for that client's statistics."""

from __future__ import annotations

import json

from django_scopes import scopes_disabled

from clients.models import Client, ExternalLink
from integrations.models import ConnectionStatus, IntegrationConnection
from summarytasks import services
from summarytasks.models import SummaryTaskValue
from tests.summarytasks.conftest import run_jobs
from tests.summarytasks.test_merit import connect

VENDOR = "merit"


def _client(world, name="Tallinna Pagar OÜ"):
    with world.scope_a():
        return Client.objects.create(company=world.firm_a, name=name)


def _url(client, test=False):
    return f"/api/v1/clients/{client.public_id}/integration-connection" + ("/test" if test else "")


def test_an_accountant_saves_a_clients_own_credentials_which_are_never_shown(world, merit, api_as):
    creds = merit.store.demo_credentials("EE")
    client = _client(world)
    api = api_as(world.accountant)
    body = {
        "vendor": VENDOR,
        "environment": "ee",
        # Pasted with surrounding whitespace and a line break: stripped.
        "credentials": {"api_id": f"  {creds['api_id']}\n", "api_key": f"\t{creds['api_key']} "},
    }
    tested = api.post(_url(client, test=True), body, format="json")
    assert tested.status_code == 200, tested.content
    saved = api.put(_url(client), body, format="json")
    assert saved.status_code == 200, saved.content
    data = saved.json()
    assert data["status"] == ConnectionStatus.CONNECTED
    assert data["last4"] == creds["api_key"][-4:]
    assert (
        creds["api_key"] not in json.dumps(data) and creds["api_key"] not in tested.content.decode()
    )
    with world.scope_a():
        own = IntegrationConnection.objects.get(company=world.firm_a, vendor=VENDOR, client=client)
        assert own.enabled
        # The firm's own connection is untouched (none was made).
        assert not IntegrationConnection.objects.filter(
            company=world.firm_a, vendor=VENDOR, client__isnull=True, status="connected"
        ).exists()
    assert api.delete(_url(client) + f"?vendor={VENDOR}").status_code == 204
    with world.scope_a():
        own.refresh_from_db()
        assert own.status == ConnectionStatus.NOT_CONNECTED
        assert not own.credentials.exists()


def test_control_characters_in_the_key_are_refused_with_the_field(world, merit, api_as):
    creds = merit.store.demo_credentials("EE")
    client = _client(world)
    merit.store.clear_requests()
    response = api_as(world.accountant).put(
        _url(client),
        {
            "vendor": VENDOR,
            "environment": "ee",
            "credentials": {"api_id": creds["api_id"], "api_key": creds["api_key"][:5] + "\x07x"},
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "api_key" in response.json()["fields"]
    assert merit.store.request_counts() == {}  # refused before any call


def test_billing_staff_cannot_and_a_vendor_with_accountant_access_is_refused(world, api_as):
    client = _client(world)
    body = {"vendor": VENDOR, "environment": "ee", "credentials": {"api_id": "x", "api_key": "y"}}
    assert api_as(world.billing).put(_url(client), body, format="json").status_code == 403
    tx = {"vendor": "tripletex", "credentials": {"employee_token": "x"}}
    response = api_as(world.accountant).put(_url(client), tx, format="json")
    assert response.status_code == 400 and "vendor" in response.json()["fields"]


def test_another_firms_client_is_a_404(world, api_as):
    with scopes_disabled():
        other = Client.objects.create(company=world.firm_b, name="Bergen Kunde AS")
    body = {"vendor": VENDOR, "environment": "ee", "credentials": {"api_id": "x", "api_key": "y"}}
    api = api_as(world.accountant)
    assert api.put(_url(other), body, format="json").status_code == 404
    assert api.post(_url(other, test=True), body, format="json").status_code == 404


def test_a_reload_reads_the_client_with_the_credentials_saved_over_the_api(world, merit, api_as):
    creds = merit.store.demo_credentials("EE")
    with world.scope_a():
        connect(world, creds)  # the firm's own connection
    client = _client(world)
    with world.scope_a():
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor=VENDOR, remote_id="c-1"
        )
        field = services.create_task_field(company=world.firm_a, actor=world.admin, name="GL")
        key = "gl_batches"
        services.save_field_mapping(
            company=world.firm_a, actor=world.admin, vendor=VENDOR, mapping={key: field}
        )
    body = {"vendor": VENDOR, "environment": "ee", "credentials": creds}
    body["credentials"] = {"api_id": creds["api_id"], "api_key": creds["api_key"]}
    assert api_as(world.accountant).put(_url(client), body, format="json").status_code == 200

    def start():
        with world.scope_a():
            return services.reload_work_statistics(
                company=world.firm_a, actor=world.admin, vendor=VENDOR, client=client
            )

    job, _created = run_jobs(start)
    assert job.status == "succeeded", job.error
    with scopes_disabled():
        values = list(SummaryTaskValue.objects.filter(task__client=client))
    assert len(values) == 12
    assert all(v.missing_reason == "" and v.number is not None for v in values), values[:2]


def test_the_client_page_tests_saves_and_removes_the_clients_own_credentials(world, merit, as_user):
    creds = merit.store.demo_credentials("EE")
    with world.scope_a():
        connect(world, creds)  # the firm has enabled Merit
    client = _client(world)
    browser = as_user(world.accountant)
    page = f"/clients/{client.public_id}/"
    action = f"/clients/{client.public_id}/connection/{VENDOR}/"
    shown = browser.get(page).content.decode()
    assert "The client's own Merit Aktiva company" in shown and 'name="api_key"' in shown
    form = {"api_id": f" {creds['api_id']} ", "api_key": f"{creds['api_key']}\n"}
    tested = browser.post(action, {**form, "environment": "ee", "action": "test"}, follow=True)
    assert "Connection works" in tested.content.decode()
    with world.scope_a():
        assert not IntegrationConnection.objects.filter(client=client, status="connected").exists()
    saved = browser.post(action, {**form, "environment": "ee", "action": "save"}, follow=True)
    html = saved.content.decode()
    assert "Saved. Connected to" in html
    assert creds["api_key"] not in html and f"key ending in {creds['api_key'][-4:]}" in html
    with world.scope_a():
        assert IntegrationConnection.objects.get(client=client).status == "connected"
    bad = browser.post(
        action,
        {"api_id": "not-a-guid", "api_key": "k", "environment": "ee", "action": "save"},
        follow=True,
    )
    assert "This is not a Merit API ID" in bad.content.decode()
    removed = browser.post(action, {"action": "remove"}, follow=True)
    assert "The client&#x27;s own connection was removed." in removed.content.decode() or (
        "The client's own connection was removed." in removed.content.decode()
    )
    with world.scope_a():
        assert IntegrationConnection.objects.get(client=client).status == "not_connected"
    # Billing staff may not.
    assert as_user(world.billing).post(action, {"action": "remove"}).status_code == 403


def test_a_clients_refused_own_credentials_skip_that_client_only(world, merit):
    """The client's own key refused: that client is skipped with the reason, the reload goes on
    with the other client, and the firm's connection is not flagged."""
    creds = merit.store.demo_credentials("EE")
    bad = {"api_id": creds["api_id"], "api_key": creds["api_key"][:-4] + "AAAA"}
    with world.scope_a():
        firm = connect(world, creds)
        good_client = _client(world, "Hea OÜ")
        bad_client = _client(world, "Halb OÜ")
        connect(world, creds, client=good_client)
        connect(world, bad, client=bad_client)
        for n, c in enumerate((good_client, bad_client)):
            ExternalLink.objects.create(
                company=world.firm_a, client=c, vendor=VENDOR, remote_id=f"c-{n}"
            )
        field = services.create_task_field(company=world.firm_a, actor=world.admin, name="GL")
        services.save_field_mapping(
            company=world.firm_a, actor=world.admin, vendor=VENDOR, mapping={"gl_batches": field}
        )

    def start():
        with world.scope_a():
            return services.reload_work_statistics(
                company=world.firm_a, actor=world.admin, vendor=VENDOR
            )

    job, _created = run_jobs(start)
    assert job.status == "succeeded", job.error
    assert job.counts["done"] == 12 and job.counts["skipped"] == 12, job.counts
    assert "own Merit Aktiva credentials were refused" in job.counts["skips"][0]["error"]
    with world.scope_a():
        firm.refresh_from_db()
        assert firm.status == ConnectionStatus.CONNECTED
        assert SummaryTaskValue.objects.filter(task__client=good_client).count() == 12
