"""The client list, client details (Billing → Settings) and the clients API."""

from __future__ import annotations

from django_scopes import scopes_disabled

from clients.models import Client


def make(world, name: str, **fields) -> Client:
    with world.scope_a():
        client = Client(company=world.firm_a, name=name, **fields)
        client.save()
    return client


def test_the_list_searches_filters_and_sorts(world, as_user) -> None:
    make(world, "Åsen Regnskap AS", organisation_number="923609016")
    make(world, "Bøe Bakeri AS", email="post@boe.no")
    make(world, "Nedlagt AS", active=False)
    client = as_user(world.accountant)
    page = client.get("/clients/").content.decode()
    assert "Åsen Regnskap AS" in page and "Bøe Bakeri AS" in page and "Nedlagt AS" not in page
    assert "Nedlagt AS" in client.get("/clients/?active=false").content.decode()
    found = client.get("/clients/?q=923 609").content.decode()
    assert "Åsen Regnskap AS" in found and "Bøe Bakeri AS" not in found
    assert "Bøe Bakeri AS" in client.get("/clients/?q=boe.no").content.decode()
    ordered = client.get("/clients/?sort=-name").content.decode()
    assert ordered.index("Åsen Regnskap AS") < ordered.index("Bøe Bakeri AS")


def test_the_list_is_fast_at_scale_with_a_constant_number_of_queries(
    world, as_user, django_assert_max_num_queries
) -> None:
    with scopes_disabled():
        Client.objects.bulk_create(
            [Client(company=world.firm_a, name=f"Klient {n:05d} AS") for n in range(2000)]
        )
    client = as_user(world.owner)
    with django_assert_max_num_queries(15):
        response = client.get("/clients/?page=3")
    assert response.status_code == 200 and "Klient 00100 AS" in response.content.decode()


def test_billing_settings_edit_the_invoice_email(world, as_user) -> None:
    target = make(world, "Fjord Bakeri AS", invoice_email="gammel@fjord.no")
    client = as_user(world.billing)
    response = client.post(f"/clients/{target.public_id}/", {"invoice_email": "faktura@fjord.no"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.invoice_email == "faktura@fjord.no"
    bad = client.post(f"/clients/{target.public_id}/", {"invoice_email": "not-an-email"})
    assert bad.status_code == 200 and "valid email" in bad.content.decode()
    client.post(f"/clients/{target.public_id}/", {"invoice_email": ""})  # removing it is allowed
    target.refresh_from_db()
    assert target.invoice_email == ""


def test_the_api_lists_reads_and_patches_clients(world, api_as) -> None:
    target = make(world, "Fjord Bakeri AS")
    api = api_as(world.accountant)
    listing = api.get("/api/v1/clients/?q=fjord").json()
    assert [c["name"] for c in listing["results"]] == ["Fjord Bakeri AS"]
    response = api.patch(
        f"/api/v1/clients/{target.public_id}/",
        {"invoice_email": "f@fjord.no", "responsible_email": "member@fjord.no"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["responsible"] == "member@fjord.no"
    outsider = api.patch(
        f"/api/v1/clients/{target.public_id}/",
        {"responsible_email": "owner@bergen.no"},
        format="json",
    )
    assert outsider.status_code == 400 and "responsible" in str(outsider.json()["fields"])


def test_the_customer_import_api_runs_preview_and_confirm(world, api_as, connected) -> None:
    from django.test import TestCase

    api = api_as(world.owner)
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = api.post(
            "/api/v1/integrations/tripletex/customer-imports", {"full": True}, format="json"
        )
    assert started.status_code == 202
    detail = api.get(
        f"/api/v1/integrations/tripletex/customer-imports/{started.json()['id']}/?classification=new"
    ).json()
    assert detail["status"] == "succeeded" and detail["counts"]["new"] > 0
    picks = [row["tripletex_id"] for row in detail["rows"]["results"][:2]]
    with TestCase.captureOnCommitCallbacks(execute=True):
        confirmed = api.post(
            f"/api/v1/integrations/tripletex/customer-imports/{started.json()['id']}/confirm",
            {"tripletex_ids": picks},
            format="json",
        )
    assert confirmed.status_code == 202
    summary = api.get(
        f"/api/v1/integrations/tripletex/customer-imports/{started.json()['id']}/"
    ).json()
    assert summary["confirm"]["counts"]["created"] == 2
    listing = api.get(f"/api/v1/clients/?import={summary['confirm']['id']}&active=all").json()
    assert listing["count"] == 2
    by_import_id = api.get(f"/api/v1/clients/?import={started.json()['id']}&active=all").json()
    assert by_import_id["count"] == 2
    assert api.get("/api/v1/clients/?import=not-a-uuid").json()["count"] == 0
    bad = api.post(
        f"/api/v1/integrations/tripletex/customer-imports/{started.json()['id']}/confirm",
        {},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_members_and_billing_cannot_start_an_import(world, api_as, connected) -> None:
    for who in (world.accountant, world.billing):
        assert (
            api_as(who).post("/api/v1/integrations/tripletex/customer-imports").status_code == 403
        )


def test_a_client_whose_responsible_left_stays_editable(world, as_user) -> None:
    target = make(world, "Fjord AS", responsible=world.accountant)
    url = f"/members/{world.membership(world.accountant).public_id}/remove/"
    assert as_user(world.owner).post(url).status_code == 302
    target.refresh_from_db()
    assert target.responsible is None
    response = as_user(world.owner).post(
        f"/clients/{target.public_id}/", {"invoice_email": "f@f.no"}
    )
    assert response.status_code == 302


def test_the_responsible_lookup_does_not_reveal_other_firms_users(world, api_as) -> None:
    target = make(world, "Fjord AS")
    api = api_as(world.owner)
    url = f"/api/v1/clients/{target.public_id}/"
    elsewhere = api.patch(url, {"responsible_email": "owner@bergen.no"}, format="json").json()
    unknown = api.patch(url, {"responsible_email": "nobody@nowhere.no"}, format="json").json()
    assert elsewhere == unknown


def test_the_import_api_speaks_remote_ids_and_keeps_its_vendor(world, api_as, connected) -> None:
    from django.test import TestCase

    api = api_as(world.owner)
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = api.post(
            "/api/v1/integrations/tripletex/customer-imports", {"full": True}, format="json"
        ).json()
    url = f"/api/v1/integrations/tripletex/customer-imports/{started['id']}/"
    rows = api.get(f"{url}?classification=new").json()["rows"]["results"]
    assert all(row["remote_id"] == row["tripletex_id"] for row in rows)
    with TestCase.captureOnCommitCallbacks(execute=True):
        confirmed = api.post(f"{url}confirm", {"remote_ids": [rows[0]["remote_id"]]}, format="json")
    assert confirmed.status_code == 202
    assert api.get(url).json()["confirm"]["counts"]["created"] == 1
    # Another vendor's path does not reach this vendor's import.
    assert (
        api.get(f"/api/v1/integrations/fakebooks/customer-imports/{started['id']}/").status_code
        == 404
    )
