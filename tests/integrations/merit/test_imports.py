"""Tax rates, items and customers from Merit through uku's real jobs (billing's VAT type and
product imports, the customer import's preview and confirm), against the emulator over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import TestCase
from django_scopes import scopes_disabled

from billing import services as billing_services
from billing.models import BillingProduct, VatType
from clients import services as client_services
from clients.models import Client, CustomerImportRow, ExternalLink
from integrations.models import SyncJob, SyncJobCall


def run_jobs(start: Any) -> SyncJob:
    """Call `start()` (which requests a job) and run the tasks it queued on commit (eager)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = start()
    job.refresh_from_db()
    return job


def import_billing(world: Any, what: str) -> SyncJob:
    request = {
        "products": billing_services.request_product_import,
        "vat_types": billing_services.request_vat_type_import,
    }[what]

    def start() -> SyncJob:
        with world.scope_a():
            billing_services.activate_billing(
                company=world.firm_a, actor=world.owner, vendor="merit"
            )
            return request(company=world.firm_a, actor=world.admin, vendor="merit")[0]

    return run_jobs(start)


def preview(world: Any, full: bool = False) -> SyncJob:
    def start() -> SyncJob:
        with world.scope_a():
            return client_services.start_customer_import(
                company=world.firm_a, actor=world.admin, vendor="merit", full=full
            )[0]

    return run_jobs(start)


def confirm(world: Any, job: SyncJob, **selection: Any) -> SyncJob:
    def start() -> SyncJob:
        with world.scope_a():
            return client_services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=job, **selection
            )[0]

    return run_jobs(start)


def rows(job: SyncJob) -> dict[str, CustomerImportRow]:
    with scopes_disabled():
        return {r.remote_id: r for r in CustomerImportRow.objects.filter(job=job)}


def test_it_imports_tax_rates_as_vat_types(world, merit_connected) -> None:
    job = import_billing(world, "vat_types")
    assert job.status == "succeeded", job.error
    remote = merit_connected.store.firm("EE").taxes
    with scopes_disabled():
        here = {v.remote_id: v for v in VatType.objects.filter(company=world.firm_a)}
    assert len(here) == len(remote) == job.counts["vat_types"]["created"]
    for row in remote:
        vat = here[row["Id"]]
        assert (vat.number, vat.name, vat.vendor) == (row["Code"], row["Name"], "merit")
        assert vat.percentage == Decimal(str(row["TaxPct"])).quantize(Decimal("0.01"))


def test_it_imports_items_as_products_linked_to_their_tax_rate(world, merit_connected) -> None:
    job = import_billing(world, "products")
    assert job.status == "succeeded", job.error
    firm = merit_connected.store.firm("EE")
    tax_by_name = {t["Name"]: t["Id"] for t in firm.taxes if not t["NonActive"]}
    with scopes_disabled():
        here = {
            p.remote_id: p
            for p in BillingProduct.objects.filter(company=world.firm_a).select_related("vat_type")
        }
    assert len(here) == len(firm.items) == job.counts["products"]["created"] == 15
    for row in firm.items.values() if isinstance(firm.items, dict) else firm.items:
        product = here[row["ItemId"]]
        assert (product.name, product.number) == (row["Name"], row["Code"])
        assert product.unit_price == Decimal(str(row["SalesPrice"])).quantize(Decimal("0.01"))
        assert product.vat_type is not None
        assert product.vat_type.remote_id == tax_by_name[row["VatTaxName"]]
    with scopes_disabled():
        paths = set(SyncJobCall.objects.filter(job=job).values_list("path", flat=True))
    assert paths == {"/gettaxes", "/getitems"}


def test_it_previews_and_imports_every_customer_keeping_estonian_registry_codes(
    world, merit_connected
) -> None:
    firm = merit_connected.store.firm("EE")
    customers = list(firm.customers.values())
    job = preview(world)
    assert job.status == "succeeded", job.error
    assert job.counts["total"] == job.counts["new"] == len(customers) == 200
    found = rows(job)
    with_code = [c for c in customers if c["RegNo"]]
    assert with_code
    for customer in with_code:
        data = found[customer["CustomerId"]].data
        assert data["registry_country"] == "EE"
        assert data["organisation_number"] == customer["RegNo"]  # a valid registrikood
    done = confirm(world, job, select="all_new")
    assert done.status == "succeeded", done.error
    assert done.counts["created"] == len(customers)
    with scopes_disabled():
        sample = with_code[0]
        link = ExternalLink.objects.get(vendor="merit", remote_id=sample["CustomerId"])
        assert (link.client.registry_country, link.client.organisation_number) == (
            "EE",
            sample["RegNo"],
        )
        assert link.client.name == sample["Name"]
        assert Client.objects.filter(company=world.firm_a).count() == len(customers)
    again = preview(world, full=True)
    assert again.counts["linked"] == len(customers) and again.counts["new"] == 0


def test_a_full_preview_whose_answer_is_cut_half_way_loses_no_customer(
    world, merit_connected, monkeypatch
) -> None:
    """Merit answers every customer at once, and uku reads that answer streamed, page by page.
    An answer cut in the middle (its JSON stops half-way) must not pass for a shorter list:
    read again once, every customer is previewed; cut on every attempt, the preview fails
    before any page, with the malformed-answer error, and marks no linked customer as gone."""
    from integrations import http

    store = merit_connected.store
    store.reset("demo", customers=700)  # two pages of 500
    monkeypatch.setattr(http, "STREAM_SPOOL_BYTES", 16 * 1024)  # read back from disk
    customers = set(store.firm("EE").customers)
    first = preview(world, full=True)
    assert first.status == "succeeded", first.error
    assert confirm(world, first, select="all").status == "succeeded"

    store.inject_fault("cut_json", "getcustomers", times=1)
    again = preview(world, full=True)
    assert again.status == "succeeded", again.error
    assert set(rows(again)) == customers and again.counts["linked"] == len(customers)
    assert again.counts["stale_links"] == 0

    store.inject_fault("cut_json", "getcustomers", times=100)  # every attempt, retries too
    cut = preview(world, full=True)
    assert cut.status == "failed"
    assert "could not read" in cut.error
    assert rows(cut) == {}
    with scopes_disabled():
        links = ExternalLink.objects.filter(company=world.firm_a, vendor="merit")
        assert links.count() == len(customers)
        assert not links.filter(stale_at__isnull=False).exists()


def test_an_existing_client_is_matched_by_its_estonian_registry_code(
    world, merit_connected
) -> None:
    store = merit_connected.store
    store.reset("empty")
    store.create_customer("EE", Name="Kase Ehitus OÜ", RegNo="10137319", Email="info@kase.ee")
    store.create_customer("EE", Name="Uus Klient OÜ", RegNo="", Email="uus@klient.ee")
    with world.scope_a():
        existing = Client(
            company=world.firm_a,
            name="Kase Ehitus",
            registry_country="EE",
            organisation_number="10137319",
        )
        existing.save()
    found = {r.name: r for r in rows(preview(world)).values()}
    kase = found["Kase Ehitus OÜ"]
    assert (kase.client, kase.match_rule) == (existing, "orgnr")
    assert kase.changes["name"] == ["Kase Ehitus", "Kase Ehitus OÜ"]
    assert found["Uus Klient OÜ"].classification == "new"


def test_a_later_import_asks_only_for_customers_changed_since(world, merit_connected) -> None:
    job = preview(world)
    confirm(world, job, select="all_new")
    merit_connected.store.create_customer("EE", Name="Hiljem Lisatud OÜ")
    later = preview(world)
    assert later.status == "succeeded", later.error
    names = {r.name for r in rows(later).values()}
    assert "Hiljem Lisatud OÜ" in names
    assert len(names) < 200  # Merit's ChangedDate filter, not the whole list


def test_the_api_runs_merits_imports_on_generated_routes(world, api_as, merit_connected) -> None:
    api = api_as(world.admin)
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = api.post("/api/v1/integrations/merit/customer-imports", {}, format="json")
    assert started.status_code == 202, started.json()
    url = f"/api/v1/integrations/merit/customer-imports/{started.json()['id']}/"
    detail = api.get(f"{url}?classification=new").json()
    assert detail["status"] == "succeeded" and detail["counts"]["new"] == 200
    picks = [row["remote_id"] for row in detail["rows"]["results"][:2]]
    with TestCase.captureOnCommitCallbacks(execute=True):
        confirmed = api.post(f"{url}confirm", {"remote_ids": picks}, format="json")
    assert confirmed.status_code == 202
    assert api.get(url).json()["confirm"]["counts"]["created"] == 2
    with world.scope_a():
        billing_services.activate_billing(company=world.firm_a, actor=world.owner, vendor="merit")
    with TestCase.captureOnCommitCallbacks(execute=True):
        products = api.post("/api/v1/integrations/merit/product-imports", {}, format="json")
        vat = api.post("/api/v1/integrations/merit/vat-type-imports", {}, format="json")
    assert products.status_code in (200, 202) and vat.status_code in (200, 202)
    assert api.get("/api/v1/billing/products/").json()["count"] == 15
    # Merit cannot read work statistics: no such route exists for it.
    assert api.post("/api/v1/integrations/merit/statistics", {}, format="json").status_code in (
        400,
        404,
    )


def test_the_integration_column_searches_and_reads_merit_customers(world, merit_connected) -> None:
    from integrations import services as integration_services

    firm = merit_connected.store.firm("EE")
    sample = next(c for c in firm.customers.values() if c["RegNo"])
    with world.scope_a():
        adapter = integration_services.adapter_for(merit_connected.connection)
    try:
        by_name = adapter.search_customers(query=sample["Name"][:6], page=1, page_size=5)
        assert by_name.customers and all(
            sample["Name"][:6].lower() in c.name.lower() for c in by_name.customers
        )
        by_code = adapter.search_customers(query=sample["RegNo"], page=1, page_size=5)
        assert [c.id for c in by_code.customers] == [sample["CustomerId"]]
        everyone = adapter.search_customers(query="", page=2, page_size=100)
        assert len(everyone.customers) == 100 and not everyone.has_next and everyone.total == 200
        found = adapter.get_customer(sample["CustomerId"])
        assert found is not None and found.organisation_number == sample["RegNo"]
        assert adapter.get_customer("0b6c8a3e-1d2f-4e5a-9b7c-6d5e4f3a2b1c") is None
        assert adapter.get_customer("not-an-id") is None
    finally:
        adapter.close()
