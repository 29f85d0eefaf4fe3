"""Norwegian sorting (Æ, Ø, Å after Z) and case-insensitive search of Æ/Ø/Å, on PostgreSQL (the
suite's database) and on SQLite (the default of `make run`)."""

from __future__ import annotations

import pytest
from django.db import connections
from django.urls import reverse
from django_scopes import scopes_disabled

from billing.models import BillingProduct
from clients.models import Client
from uku.models import Company
from uku.nordic import nordic, sort_key

NAMES = ["Åsen AS", "Zeta AS", "ørsta AS", "Ærlig AS", "alfa AS", "Østby AS", "Berg AS"]
NORWEGIAN_ORDER = ["alfa AS", "Berg AS", "Zeta AS", "Ærlig AS", "ørsta AS", "Østby AS", "Åsen AS"]


def test_the_sort_key_puts_the_norwegian_letters_after_z_in_order() -> None:
    assert sorted(NAMES, key=sort_key) == NORWEGIAN_ORDER
    assert sorted(["éclair", "Eple", "dal"], key=sort_key) == ["dal", "éclair", "Eple"]


def _shown_order(html: str, names: list[str]) -> list[str]:
    found = [(html.index(n), n) for n in names if n in html]
    return [n for _, n in sorted(found)]


def test_the_client_list_sorts_and_searches_the_norwegian_way(world, as_user) -> None:
    with scopes_disabled():
        for name in NAMES:
            Client.objects.create(company=world.firm_a, name=name)
    client = as_user(world.owner)
    html = client.get(reverse("client_list"), {"sort": "name"}).content.decode()
    assert _shown_order(html, NAMES) == NORWEGIAN_ORDER
    html = client.get(reverse("client_list"), {"sort": "-name"}).content.decode()
    assert _shown_order(html, NAMES) == NORWEGIAN_ORDER[::-1]
    found = client.get(reverse("client_list"), {"q": "ØRSTA"}).content.decode()
    assert "ørsta AS" in found and "Østby AS" not in found
    found = client.get(reverse("client_list"), {"q": "åsen"}).content.decode()
    assert "Åsen AS" in found


def test_the_products_sort_and_search_the_norwegian_way(world, as_user) -> None:
    with scopes_disabled():
        for i, name in enumerate(NAMES):
            BillingProduct.objects.create(company=world.firm_a, name=name, number=str(i))
        ordered = BillingProduct.objects.filter(company=world.firm_a).order_by(nordic("name"))
        assert [p.name for p in ordered] == NORWEGIAN_ORDER
        found = BillingProduct.objects.filter(company=world.firm_a, name__icontains="ÆRLIG")
        assert [p.name for p in found] == ["Ærlig AS"]


@pytest.fixture
def sqlite(django_db_blocker):
    """An in-memory SQLite database beside the suite's PostgreSQL one, with the firm and client
    tables, as `make run` has them."""
    alias = "nordic_sqlite"
    connections.settings[alias] = connections.configure_settings(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},
            alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        }
    )[alias]
    with django_db_blocker.unblock():
        conn = connections[alias]
        with conn.schema_editor() as editor:
            editor.create_model(Company)
            editor.create_model(Client)
            editor.create_model(BillingProduct)
        conn.cursor().execute("PRAGMA foreign_keys = OFF")  # no user/VAT tables here
        yield alias
        conn.close()
    del connections[alias]
    del connections.settings[alias]


def test_on_sqlite_clients_and_products_sort_and_search_the_norwegian_way(sqlite) -> None:
    with scopes_disabled():
        firm = Company.objects.using(sqlite).create(name="Fjord")
        for i, name in enumerate(NAMES):
            Client.objects.using(sqlite).create(company=firm, name=name)
            BillingProduct.objects.using(sqlite).create(company=firm, name=name, number=str(i))
        clients = Client.objects.using(sqlite).filter(company=firm)
        assert [c.name for c in clients.order_by(nordic("name"))] == NORWEGIAN_ORDER
        assert [c.name for c in clients.order_by(nordic("name").desc())] == NORWEGIAN_ORDER[::-1]
        # SQLite's own LIKE folds only A-Z: upper-case Ø found nothing before.
        assert [c.name for c in clients.search("ØRSTA")] == ["ørsta AS"]
        assert [c.name for c in clients.filter(name__icontains="østby")] == ["Østby AS"]
        assert [c.name for c in clients.filter(name__icontains="a_s")] == []  # _ is one char
        assert clients.filter(name__icontains="100%").count() == 0  # % escaped, not a wildcard
        products = BillingProduct.objects.using(sqlite).filter(company=firm)
        assert [p.name for p in products.order_by(nordic("name"))] == NORWEGIAN_ORDER
        assert [p.name for p in products.filter(name__icontains="ÅSEN")] == ["Åsen AS"]


def test_the_sqlite_like_is_a_full_match_with_wildcards() -> None:
    from uku.nordic import _like

    assert _like("%øst%", "ØSTBY") and not _like("øst", "Østby")
    assert _like("a_c", "ABC") and not _like("a_c", "abbc")
    assert _like("100\\%", "100%", "\\") and not _like("100\\%", "1000", "\\")
    assert _like(None, "x") is None
    assert not _like("a.c", "abc")
