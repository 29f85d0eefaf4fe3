"""Linking clients to Tripletex customers and their books, over the API, against the sandbox."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from clients import linking
from clients.models import ExternalLink
from integrations.base import AuthError, RemoteBooksCompany, RemoteCustomer, get_vendor
from tests.clients.linking_helpers import (
    books_company,
    customer,
    grant_login_access,
    make_client,
    revoke_all_login_access,
)


def _link(api, client, remote_id, **extra):
    return api.put(
        f"/api/v1/clients/{client.public_id}/integration-link",
        {"vendor": "tripletex", "remote_id": str(remote_id), **extra},
        format="json",
    )


def _links(client):
    with scopes_disabled():
        return list(ExternalLink.objects.filter(client=client).values_list("vendor", "remote_id"))


def test_it_links_a_client_and_finds_its_books_by_organisation_number(
    world, api_as, connected
) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    response = _link(api_as(world.accountant), bakery, remote["id"])
    assert response.status_code == 200, response.json()
    books = books_company(connected, "Fjellheim Bakeri AS")
    assert response.json() == {
        "vendor": "tripletex",
        "remote_id": str(remote["id"]),
        "remote_name": "Fjellheim Bakeri AS",
        "remote_number": str(remote["customerNumber"]),
        "books": {
            "state": "linked",
            "company_id": str(books["id"]),
            "name": books["name"],
            "error": "",
            "since": None,
        },
        "stale": None,
        "linked_at": response.json()["linked_at"],
    }
    shown = api_as(world.billing).get(f"/api/v1/clients/{bakery.public_id}/").json()
    assert shown["links"][0]["books"]["state"] == "linked"
    # The same link again is one link, not an error.
    assert _link(api_as(world.accountant), bakery, remote["id"]).status_code == 200
    assert _links(bakery) == [("tripletex", str(remote["id"]))]


def test_it_relinks_and_unlinks(world, api_as, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    api = api_as(world.accountant)
    first, second = (
        customer(connected, "Fjellheim Bakeri AS"),
        customer(connected, "Sjøbris Kafé DA"),
    )
    assert _link(api, bakery, first["id"]).status_code == 200
    relinked = _link(api, bakery, second["id"])
    assert relinked.status_code == 200 and relinked.json()["remote_name"] == "Sjøbris Kafé DA"
    assert _links(bakery) == [("tripletex", str(second["id"]))]
    gone = api.delete(f"/api/v1/clients/{bakery.public_id}/integration-link?vendor=tripletex")
    assert gone.status_code == 204 and _links(bakery) == []
    again = api.delete(f"/api/v1/clients/{bakery.public_id}/integration-link?vendor=tripletex")
    assert again.status_code == 204
    unknown = api.delete(f"/api/v1/clients/{bakery.public_id}/integration-link?vendor=nope")
    assert unknown.status_code == 400


def test_a_customer_another_client_holds_is_refused_naming_that_client(
    world, api_as, connected
) -> None:
    holder = make_client(world, "Fjellheim Bakeri (gammel)")
    newcomer = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    api = api_as(world.accountant)
    assert _link(api, holder, remote["id"]).status_code == 200
    refused = _link(api, newcomer, remote["id"])
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "link_taken" and "Fjellheim Bakeri (gammel)" in body["detail"]
    assert body["fields"]["client"] == [str(holder.public_id)]
    assert _links(newcomer) == [] and _links(holder) == [("tripletex", str(remote["id"]))]


def test_an_unknown_customer_is_a_field_error(world, api_as, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    response = _link(api_as(world.accountant), bakery, "999999999")
    assert response.status_code == 400 and "remote_id" in response.json()["fields"]
    assert _link(api_as(world.accountant), bakery, "abc").status_code == 400
    assert _links(bakery) == []


def test_books_are_not_found_when_no_company_has_the_number(world, api_as, connected) -> None:
    shop = make_client(world, "Ny Butikk AS")
    remote = connected.store.create_customer(name="Ny Butikk AS", organizationNumber="986105174")
    body = _link(api_as(world.accountant), shop, remote["id"]).json()
    assert body["books"] == {
        "state": "not_found",
        "company_id": None,
        "name": "",
        "error": "",
        "since": None,
    }


def test_books_are_ambiguous_when_several_companies_match_and_one_can_be_picked(
    world, api_as, connected
) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    twin = grant_login_access(connected, "Fjellheim Bakeri Gamle AS", remote["organizationNumber"])
    api = api_as(world.accountant)
    assert _link(api, bakery, remote["id"]).json()["books"]["state"] == "ambiguous"
    picked = _link(api, bakery, remote["id"], books_company_id=str(twin)).json()
    assert picked["books"] == {
        "state": "linked",
        "company_id": str(twin),
        "name": "Fjellheim Bakeri Gamle AS",
        "error": "",
        "since": None,
    }
    outside = _link(api, bakery, remote["id"], books_company_id="424242")
    assert outside.status_code == 400 and "books_company_id" in outside.json()["fields"]
    with scopes_disabled():  # the refused pick left the link as it was
        assert ExternalLink.objects.get(client=bakery).books_company_id == str(twin)


def test_books_say_no_access_when_the_login_opens_no_client_company(
    world, api_as, connected
) -> None:
    revoke_all_login_access(connected)
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    body = _link(api_as(world.accountant), bakery, remote["id"]).json()
    assert body["books"]["state"] == "no_access"
    listed = api_as(world.accountant).get("/api/v1/clients/?link=attention").json()
    assert [c["name"] for c in listed["results"]] == ["Fjellheim Bakeri"]


def test_the_customer_search_is_server_side_and_paged(world, api_as, connected) -> None:
    api = api_as(world.accountant)
    first = api.get("/api/v1/integrations/tripletex/customers/").json()
    assert len(first["results"]) == 20 and first["previous"] is None and first["count"] > 150
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 20 and second["previous"]
    assert not {r["remote_id"] for r in first["results"]} & {
        r["remote_id"] for r in second["results"]
    }
    log = connected.store.request_log()["requests"]
    customer_calls = [r for r in log if r["path_template"] == "/customer"]
    assert customer_calls[-1]["query"]["from"] == "20"  # the page, not the whole list
    assert customer_calls[-1]["query"]["count"] == "21"

    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    _link(api, bakery, remote["id"])
    by_name = api.get("/api/v1/integrations/tripletex/customers/?search=fjellheim").json()
    assert [r["name"] for r in by_name["results"]] == ["Fjellheim Bakeri AS"]
    assert by_name["results"][0]["linked_client"] == str(bakery.public_id)
    assert by_name["next"] is None
    number = remote["customerNumber"]
    by_number = api.get(f"/api/v1/integrations/tripletex/customers/?search={number}").json()
    assert [r["remote_id"] for r in by_number["results"]] == [str(remote["id"])]
    org = remote["organizationNumber"]
    spaced = f"{org[:3]} {org[3:6]} {org[6:]}"
    by_org = api.get("/api/v1/integrations/tripletex/customers/", {"search": spaced}).json()
    assert [r["name"] for r in by_org["results"]] == ["Fjellheim Bakeri AS"]
    assert by_org["results"][0]["organisation_number"] == org


def test_books_companies_list_what_the_login_opens(world, api_as, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    api = api_as(world.accountant)
    _link(api, bakery, customer(connected, "Fjellheim Bakeri AS")["id"])
    listed = api.get("/api/v1/integrations/tripletex/books-companies/").json()
    assert len(listed) == 6
    held = {row["name"]: row["linked_client"] for row in listed}
    assert held["Fjellheim Bakeri AS"] == str(bakery.public_id)
    assert held["Sjøbris Kafé DA"] is None


def test_billing_staff_see_links_but_cannot_change_them(world, api_as, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    billing = api_as(world.billing)
    assert _link(billing, bakery, remote["id"]).status_code == 403
    assert _link(api_as(world.admin), bakery, remote["id"]).status_code == 200
    assert (
        billing.delete(
            f"/api/v1/clients/{bakery.public_id}/integration-link?vendor=tripletex"
        ).status_code
        == 403
    )
    for path in ("customers/", "books-companies/", "link-suggestions/"):
        assert billing.get(f"/api/v1/integrations/tripletex/{path}").status_code == 403
    accept = billing.post(
        "/api/v1/integrations/tripletex/link-suggestions/accept", {"all": True}, format="json"
    )
    assert accept.status_code == 403
    assert _links(bakery) == [("tripletex", str(remote["id"]))]
    assert billing.get(f"/api/v1/clients/{bakery.public_id}/").json()["links"]


def test_another_firms_client_is_404(world, api_as, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    outsider = api_as(world.outsider)
    assert _link(outsider, bakery, remote["id"]).status_code == 404
    assert (
        outsider.delete(
            f"/api/v1/clients/{bakery.public_id}/integration-link?vendor=tripletex"
        ).status_code
        == 404
    )
    assert _links(bakery) == []


def test_linking_without_a_connection_says_to_connect(world, api_as) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    response = _link(api_as(world.accountant), bakery, "1")
    assert response.status_code == 400 and "Connect Tripletex first" in response.json()["detail"]


def test_suggestions_propose_unique_matches_only(world, api_as, connected) -> None:
    store = connected.store
    by_number = make_client(
        world,
        "Fjellheim Bakeri",
        organisation_number=customer(connected, "Fjellheim Bakeri AS")["organizationNumber"],
    )
    by_email = make_client(world, "Sjøbris", email="post@sjobris.no")
    assert customer(connected, "Sjøbris Kafé DA")["email"] == "post@sjobris.no"
    store.create_customer(name="Tvilling A AS", email="felles@tvilling.no")
    store.create_customer(name="Tvilling B AS", email="felles@tvilling.no")
    ambiguous = make_client(world, "Tvilling", email="felles@tvilling.no")
    twin_org = "986105174"
    store.create_customer(name="Dobbel 1 AS", organizationNumber=twin_org)
    store.create_customer(name="Dobbel 2 AS", organizationNumber=twin_org)
    doubled = make_client(world, "Dobbel", organisation_number=twin_org)
    already = make_client(world, "Nordlys", email="post@nordlysror.no")
    nordlys = customer(connected, "Nordlys Rørleggerservice AS")
    api = api_as(world.accountant)
    _link(api, already, nordlys["id"])

    found = api.get("/api/v1/integrations/tripletex/link-suggestions/").json()["results"]
    assert {(s["client"], s["remote_name"], s["rule"]) for s in found} == {
        (str(by_number.public_id), "Fjellheim Bakeri AS", "orgnr"),
        (str(by_email.public_id), "Sjøbris Kafé DA", "email"),
    }
    proposed = {s["client"] for s in found}
    assert str(ambiguous.public_id) not in proposed and str(doubled.public_id) not in proposed
    assert str(already.public_id) not in proposed


def test_accepting_some_then_all_suggestions(world, api_as, connected) -> None:
    bakery = make_client(
        world,
        "Fjellheim Bakeri",
        organisation_number=customer(connected, "Fjellheim Bakeri AS")["organizationNumber"],
    )
    cafe = make_client(world, "Sjøbris", email="post@sjobris.no")
    nobody = make_client(world, "Ingen Treff AS")
    api = api_as(world.accountant)
    url = "/api/v1/integrations/tripletex/link-suggestions/accept"
    some = api.post(
        url, {"clients": [str(bakery.public_id), str(nobody.public_id)]}, format="json"
    ).json()
    assert some == {
        "linked": 1,
        "skipped": [{"client": str(nobody.public_id), "reason": "no_suggestion"}],
    }
    assert _links(bakery) and not _links(cafe)
    with scopes_disabled():
        assert ExternalLink.objects.get(client=bakery).books_state == "linked"
    everything = api.post(url, {"all": True}, format="json").json()
    assert everything == {"linked": 1, "skipped": []}
    assert _links(cafe)
    assert api.post(url, {"all": True}, format="json").json() == {"linked": 0, "skipped": []}
    assert api.post(url, {}, format="json").status_code == 400


def test_a_refused_company_list_reads_as_no_access_and_other_refusals_raise(world) -> None:
    """A 403 on the books listing means the login has no accountant access (the link records
    it); any other refusal (a revoked token) is not hidden behind a books state."""

    class Refusing:
        def __init__(self, status: int) -> None:
            self.status = status

        def list_books_companies(self):
            raise AuthError("refused", details={"status": self.status})

    assert linking._list_books(Refusing(403)) is None  # type: ignore[arg-type]
    with pytest.raises(AuthError):
        linking._list_books(Refusing(401))  # type: ignore[arg-type]
    info = get_vendor("tripletex")
    bakery = make_client(world, "Fjellheim Bakeri", organisation_number="891012004")
    resolved = linking.resolve_books(info, RemoteCustomer(id="1", name="x"), bakery, None)
    assert resolved.state == "no_access"
    by_client_number = linking.resolve_books(
        info,
        RemoteCustomer(id="1", name="x"),
        bakery,
        [RemoteBooksCompany("7", "Fjellheim Bakeri AS", "891 012 004")],
    )
    assert (by_client_number.state, by_client_number.company_id) == ("linked", "7")
