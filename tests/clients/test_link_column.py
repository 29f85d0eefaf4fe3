"""The Integration column of the client list, its inline picker and Suggested links."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clients.models import BooksState, Client, ExternalLink
from tests.clients.linking_helpers import customer, grant_login_access, make_client

HTMX = {"HTTP_HX_REQUEST": "true"}


def _link_row(world, client: Client, remote_id: str, **fields) -> ExternalLink:
    with scopes_disabled():
        return ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor="tripletex", remote_id=remote_id, **fields
        )


def test_the_column_shows_the_customer_not_linked_and_warnings(
    world, as_user, saved_connection
) -> None:
    saved_connection()
    linked = make_client(world, "Fjellheim Bakeri")
    _link_row(
        world,
        linked,
        "11",
        remote_name="Fjellheim Bakeri AS",
        remote_number="10001",
        books_state=BooksState.LINKED,
        books_company_name="Fjellheim Bakeri AS",
    )
    lost = make_client(world, "Sjøbris")
    _link_row(world, lost, "12", remote_name="Sjøbris Kafé DA", books_state=BooksState.NO_ACCESS)
    make_client(world, "Ulinket AS")
    page = as_user(world.accountant).get("/clients/").content.decode()
    assert "Tripletex:</span> Fjellheim Bakeri AS (#10001)" in page
    assert "Books: Fjellheim Bakeri AS" in page
    assert "No accountant access" in page and "use a token of a user with accountant access" in page
    assert "Not linked" in page
    assert 'hx-get="/clients/' in page and "Suggested links: Tripletex" in page


def test_the_list_filters_linked_not_linked_and_needing_attention(
    world, as_user, saved_connection
) -> None:
    saved_connection()
    fine = make_client(world, "Fjellheim Bakeri")
    _link_row(world, fine, "11", books_state=BooksState.LINKED)
    odd = make_client(world, "Sjøbris")
    _link_row(world, odd, "12", books_state=BooksState.AMBIGUOUS)
    make_client(world, "Ulinket AS")
    client = as_user(world.accountant)

    def names(query: str) -> set[str]:
        page = client.get(f"/clients/?link={query}").content.decode()
        return {n for n in ("Fjellheim Bakeri", "Sjøbris", "Ulinket AS") if f">{n}</a>" in page}

    assert names("linked") == {"Fjellheim Bakeri", "Sjøbris"}
    assert names("unlinked") == {"Ulinket AS"}
    assert names("attention") == {"Sjøbris"}
    assert names("") == {"Fjellheim Bakeri", "Sjøbris", "Ulinket AS"}


def _list_queries(as_user, world) -> int:
    client = as_user(world.owner)
    client.get("/clients/")  # warm: session, language
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/clients/?page=2")
    assert response.status_code == 200
    return len(queries)


def _many(world, count: int) -> None:
    with scopes_disabled():
        Client.objects.filter(company=world.firm_a).delete()
        clients = Client.objects.bulk_create(
            [Client(company=world.firm_a, name=f"Klient {n:05d} AS") for n in range(count)]
        )
        ExternalLink.objects.bulk_create(
            [
                ExternalLink(
                    company=world.firm_a,
                    client=c,
                    vendor="tripletex",
                    remote_id=str(n),
                    remote_name=c.name,
                    books_state=BooksState.NOT_FOUND if n % 3 else BooksState.LINKED,
                )
                for n, c in enumerate(clients)
                if n % 2
            ]
        )


def test_the_list_runs_the_same_queries_for_50_and_2000_clients(
    world, as_user, saved_connection, django_assert_max_num_queries
) -> None:
    saved_connection()
    _many(world, 60)  # page 2 of 50 exists
    small = _list_queries(as_user, world)
    _many(world, 2000)
    large = _list_queries(as_user, world)
    assert small == large <= 14
    client = as_user(world.owner)
    client.get("/clients/")
    with django_assert_max_num_queries(small):
        client.get("/clients/?page=3&link=attention")


def test_an_accountant_links_through_the_picker(world, as_user, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    client = as_user(world.accountant)
    picker = client.get(f"/clients/{bakery.public_id}/integration/", **HTMX).content.decode()
    assert 'hx-trigger="keyup changed delay:300ms, search"' in picker
    assert "Books (the client" in picker and "Fjellheim Bakeri AS" in picker
    results = client.get(
        f"/clients/{bakery.public_id}/integration/search/?vendor=tripletex&q=fjellheim", **HTMX
    ).content.decode()
    assert f'value="{remote["id"]}"' in results and "Next" not in results
    paged = client.get(
        f"/clients/{bakery.public_id}/integration/search/?vendor=tripletex&page=2", **HTMX
    ).content.decode()
    assert "Page 2" in paged and "Previous" in paged and "Next" in paged
    cell = client.post(
        f"/clients/{bakery.public_id}/integration/",
        {"vendor": "tripletex", "remote_id": remote["id"]},
        **HTMX,
    ).content.decode()
    assert f'id="integration-{bakery.public_id}"' in cell
    assert "Fjellheim Bakeri AS (#" in cell and "Change link" in cell
    assert "<html" not in cell  # a fragment for the cell, not a page

    other = make_client(world, "Fjellheim Bakeri kopi")
    refused = client.post(
        f"/clients/{other.public_id}/integration/",
        {"vendor": "tripletex", "remote_id": remote["id"]},
        **HTMX,
    ).content.decode()
    assert "already linked to the client Fjellheim Bakeri." in refused
    empty = client.post(
        f"/clients/{other.public_id}/integration/", {"vendor": "tripletex"}, **HTMX
    ).content.decode()
    assert "Choose a customer first." in empty

    unlinked = client.post(
        f"/clients/{bakery.public_id}/integration/unlink/", {"vendor": "tripletex"}, **HTMX
    ).content.decode()
    assert "Not linked" in unlinked
    with scopes_disabled():
        assert not ExternalLink.objects.filter(client=bakery).exists()


def test_the_picker_works_without_javascript(world, as_user, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    client = as_user(world.accountant)
    page = client.get(f"/clients/{bakery.public_id}/integration/?q=fjellheim").content.decode()
    assert "<html" in page and f'value="{remote["id"]}"' in page
    saved = client.post(
        f"/clients/{bakery.public_id}/integration/",
        {"vendor": "tripletex", "remote_id": remote["id"]},
    )
    assert saved.status_code == 302 and saved["Location"] == "/clients/"


def test_the_picker_lets_the_accountant_pick_ambiguous_books(world, as_user, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    remote = customer(connected, "Fjellheim Bakeri AS")
    twin = grant_login_access(connected, "Fjellheim Gamle AS", remote["organizationNumber"])
    client = as_user(world.accountant)
    url = f"/clients/{bakery.public_id}/integration/"
    cell = client.post(url, {"vendor": "tripletex", "remote_id": remote["id"]}, **HTMX)
    assert "Several companies match" in cell.content.decode()
    assert "Pick the right company" in cell.content.decode()
    picked = client.post(
        url, {"vendor": "tripletex", "remote_id": remote["id"], "books_company_id": twin}, **HTMX
    ).content.decode()
    assert "Books: Fjellheim Gamle AS" in picked


def test_billing_staff_see_the_column_read_only(world, as_user, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    client = as_user(world.billing)
    page = client.get("/clients/").content.decode()
    assert "Not linked" in page and "integration-edit" not in page
    assert "Suggested links" not in page
    assert client.get(f"/clients/{bakery.public_id}/integration/", **HTMX).status_code == 403
    posted = client.post(
        f"/clients/{bakery.public_id}/integration/",
        {"vendor": "tripletex", "remote_id": customer(connected, "Fjellheim Bakeri AS")["id"]},
    )
    assert posted.status_code == 403
    assert client.get("/clients/suggested-links/tripletex/").status_code == 403
    assert client.get(f"/clients/{bakery.public_id}/integration/cell/").status_code == 200


def test_suggested_links_are_accepted_selected_or_all(world, as_user, connected) -> None:
    bakery = make_client(
        world,
        "Fjellheim Bakeri",
        organisation_number=customer(connected, "Fjellheim Bakeri AS")["organizationNumber"],
    )
    cafe = make_client(world, "Sjøbris", email="post@sjobris.no")
    client = as_user(world.accountant)
    page = client.get("/clients/suggested-links/tripletex/").content.decode()
    assert "Fjellheim Bakeri AS" in page and "Sjøbris Kafé DA" in page
    assert "Same organisation number" in page and "Same e-mail post@sjobris.no" in page
    none = client.post("/clients/suggested-links/tripletex/", {"accept": "selected"}, follow=True)
    assert "Select at least one suggestion" in none.content.decode()
    some = client.post(
        "/clients/suggested-links/tripletex/",
        {"accept": "selected", "client": [str(bakery.public_id)]},
        follow=True,
    ).content.decode()
    assert "1 client linked." in some and "Sjøbris Kafé DA" in some
    rest = client.post(
        "/clients/suggested-links/tripletex/", {"accept": "all"}, follow=True
    ).content.decode()
    assert "1 client linked." in rest and "No suggestions" in rest
    with scopes_disabled():
        assert ExternalLink.objects.filter(client__in=[bakery, cafe]).count() == 2
