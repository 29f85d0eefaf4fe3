"""Importing VAT types and products from Tripletex, against the sandbox over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from billing import services
from billing.models import BillingProduct
from integrations import services as integration_services
from integrations.models import ConnectionStatus, IntegrationConnection, SyncJob, SyncJobCall
from integrations.tripletex import adapter as tripletex_adapter
from integrations.tripletex.client import TripletexClient
from integrations.tripletex.sandbox.store import Fault
from tests.billing.conftest import (
    import_products,
    import_vat_types,
    products_of,
    vat_types_of,
)
from uku.celery import app as celery_app


def _remote_products(store) -> list[dict]:
    return store.company_rows("product", store.firm_company_id)


def _remote_vat_types(store) -> list[dict]:
    return store.company_rows("vatType", store.firm_company_id)


def test_it_imports_vat_types_with_their_codes_and_percentages(world, billing_on) -> None:
    job = import_vat_types(world)
    assert job.status == "succeeded", job.error
    remote = _remote_vat_types(billing_on.store)
    here = vat_types_of(world.firm_a)
    assert len(here) == len(remote) == job.counts["vat_types"]["created"]
    for row in remote:
        vat = here[str(row["id"])]
        assert vat.number == row["number"] and vat.name == row["name"]
        assert vat.percentage == Decimal(str(row["percentage"])).quantize(Decimal("0.01"))
        assert vat.vendor == "tripletex" and vat.active
    # The sandbox gives ids that are never the code: the link must be by id, not by code.
    by_code = {v.number: v for v in here.values()}
    assert by_code["3"].percentage == 25 and by_code["31"].percentage == 15
    assert by_code["33"].percentage == 12 and by_code["3"].remote_id != "3"
    assert "products" not in job.counts


def test_it_imports_products_linked_to_their_vat_types_with_prices(world, billing_on) -> None:
    job = import_products(world)
    assert job.status == "succeeded", job.error
    remote = _remote_products(billing_on.store)
    here = products_of(world.firm_a)
    assert len(remote) == 30 and len(here) == 30
    assert job.counts["products"]["created"] == 30
    assert job.counts["vat_types"]["created"] == len(_remote_vat_types(billing_on.store))
    for row in remote:
        product = here[str(row["id"])]
        assert product.name == row["name"] and product.number == row["number"]
        assert product.unit_price == Decimal(str(row["priceExcludingVatCurrency"])).quantize(
            Decimal("0.01")
        )
        assert product.vat_type is not None
        assert product.vat_type.remote_id == str(row["vatType"])
        assert product.active is not row["isInactive"]
    assert sum(not p.active for p in here.values()) == 2
    assert job.progress_done == 30 + len(_remote_vat_types(billing_on.store))


def test_it_changes_nothing_when_run_twice(world, billing_on) -> None:
    first = import_products(world)
    before = {p.remote_id: (p.pk, p.updated_at) for p in products_of(world.firm_a).values()}
    vat_before = {v.remote_id: (v.pk, v.updated_at) for v in vat_types_of(world.firm_a).values()}

    second = import_products(world)

    assert second.pk != first.pk and second.status == "succeeded", second.error
    for key, total in (("products", 30), ("vat_types", len(vat_before))):
        counts = second.counts[key]
        assert counts["unchanged"] == total, counts
        assert counts["created"] == counts["updated"] == counts["deactivated"] == 0, counts
    after = {p.remote_id: (p.pk, p.updated_at) for p in products_of(world.firm_a).values()}
    vat_after = {v.remote_id: (v.pk, v.updated_at) for v in vat_types_of(world.firm_a).values()}
    assert after == before and vat_after == vat_before


def test_it_deactivates_a_product_deactivated_in_tripletex_and_reactivates_it(
    world, billing_on
) -> None:
    import_products(world)
    row = next(r for r in _remote_products(billing_on.store) if not r["isInactive"])
    row["isInactive"] = True

    job = import_products(world)

    assert job.counts["products"]["deactivated"] == 1
    assert job.counts["products"]["unchanged"] == 29
    assert products_of(world.firm_a)[str(row["id"])].active is False

    row["isInactive"] = False
    again = import_products(world)
    assert again.counts["products"]["updated"] == 1
    assert products_of(world.firm_a)[str(row["id"])].active is True


def test_it_updates_a_changed_price_name_and_vat_type(world, billing_on) -> None:
    import_products(world)
    store = billing_on.store
    row = next(r for r in _remote_products(store) if not r["isInactive"])
    low = store.lookup("vatType", store.firm_company_id, "33")
    row.update(name="Lønnskjøring per ansatt", priceExcludingVatCurrency=149.5, vatType=low)

    job = import_products(world)

    assert job.counts["products"]["updated"] == 1
    product = products_of(world.firm_a)[str(row["id"])]
    assert product.name == "Lønnskjøring per ansatt"
    assert product.unit_price == Decimal("149.50")
    assert product.vat_type is not None and product.vat_type.number == "33"


def test_it_deactivates_a_product_that_vanished_from_tripletex_and_keeps_it(
    world, billing_on
) -> None:
    import_products(world)
    store = billing_on.store
    row = next(r for r in _remote_products(store) if not r["isInactive"])
    del store.rows["product"][row["id"]]

    job = import_products(world)

    assert job.status == "succeeded", job.error
    assert job.counts["products"]["deactivated"] == 1
    here = products_of(world.firm_a)
    assert len(here) == 30  # never deleted
    assert here[str(row["id"])].active is False


def test_it_deactivates_a_vat_type_that_vanished_from_tripletex(world, billing_on) -> None:
    import_vat_types(world)
    store = billing_on.store
    row = next(r for r in _remote_vat_types(store) if r["number"] == "52")
    del store.rows["vatType"][row["id"]]

    job = import_vat_types(world)

    assert job.counts["vat_types"]["deactivated"] == 1
    assert vat_types_of(world.firm_a)[str(row["id"])].active is False


def test_it_joins_the_running_import_instead_of_starting_a_second(
    world, billing_on, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as queued, world.scope_a():
        first, created = services.request_product_import(
            company=world.firm_a, actor=world.admin, vendor="tripletex"
        )
        second, created_again = services.request_product_import(
            company=world.firm_a, actor=world.owner, vendor="tripletex"
        )
        vat, vat_created = services.request_vat_type_import(
            company=world.firm_a, actor=world.owner, vendor="tripletex"
        )
    assert created and not created_again and not vat_created
    assert first.pk == second.pk == vat.pk
    assert len(queued) == 1
    with scopes_disabled():
        assert SyncJob.objects.filter(company=world.firm_a, kind="product_import").count() == 1
        assert not SyncJob.objects.filter(kind="vat_type_import").exists()
        first.refresh_from_db()
    assert first.status == "succeeded" and first.counts["products"]["created"] == 30


def test_it_retries_a_server_error_and_a_429_while_paging(world, billing_on, monkeypatch) -> None:
    monkeypatch.setattr(TripletexClient, "_backoff", lambda self, attempt: None)  # no sleeping
    store = billing_on.store
    store.inject_fault("server_error", "/product", method="GET", times=1)
    store.inject_fault("rate_limit", "/ledger/vatType", method="GET", times=1, retry_after=1)

    job = import_products(world)

    assert job.status == "succeeded", job.error
    assert job.counts["products"]["created"] == 30
    with scopes_disabled():
        statuses = list(SyncJobCall.objects.filter(job=job).values_list("status", flat=True))
    assert 500 in statuses and 429 in statuses


def test_it_retries_the_job_when_tripletex_keeps_failing_and_counts_each_row_once(
    world, billing_on, monkeypatch
) -> None:
    """More 5xx in a row than the client's own attempts: the job itself is retried (Celery, eager
    here) and resumes, so the rows applied before the failure are not counted twice."""
    monkeypatch.setattr(TripletexClient, "_backoff", lambda self, attempt: None)
    monkeypatch.setattr(tripletex_adapter, "PAGE_SIZE", 10)
    store = billing_on.store
    # Page 1 (active products 1-10) goes through; page 2 fails 3 times (all the client's
    # attempts), then the retried job reads pages 1 and 2 again.
    calls = {"n": 0}
    original = store.take_fault

    def fail_second_page(method: str, path: str):
        if path == "/product":
            calls["n"] += 1
            if calls["n"] in (2, 3, 4):
                return Fault(0, "server_error", path, "GET", 1, "exact", 1, 0.0)
        return original(method, path)

    monkeypatch.setattr(store, "take_fault", fail_second_page)
    # Eager tasks re-raise Celery's Retry when errors propagate; a worker would run the task
    # again, which eager mode does itself when errors are not propagated.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)

    job = import_products(world)

    assert job.status == "succeeded", job.error
    counts = job.counts["products"]
    assert counts["created"] == 30 and counts["unchanged"] == 0, counts
    assert len(products_of(world.firm_a)) == 30


def test_it_fails_the_job_with_the_reason_when_the_token_is_refused(world, billing_on) -> None:
    with world.scope_a():
        connection_row = IntegrationConnection.objects.get(company=world.firm_a)
        credentials = integration_services.adapter_for(connection_row).credentials
    billing_on.store.revoke_employee_token(credentials["employee_token"])

    job = import_products(world)

    assert job.status == "failed"
    assert "token" in job.error.lower()
    assert not products_of(world.firm_a)
    with scopes_disabled():
        connection_row.refresh_from_db()
        assert connection_row.status == ConnectionStatus.ERROR
        assert connection_row.last_error == job.error


def _runner_queries(world, runner) -> tuple[CaptureQueriesContext, SyncJob]:
    with world.scope_a():
        job, _created = integration_services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
        job = SyncJob.objects.select_related("company").get(pk=job.pk)
        adapter = integration_services.adapter_for(
            IntegrationConnection.objects.get(company=world.firm_a)
        )
        adapter.test_connection()  # the session is made outside the measured block
        with CaptureQueriesContext(connection) as queries:
            runner(job=job, adapter=adapter)
        adapter.close()
        integration_services.finish_job(job)
    return queries, job


def _add_products(store, count: int) -> None:
    vat = store.lookup("vatType", store.firm_company_id, "3")
    for i in range(count):
        store.insert(
            "product",
            store.firm_company_id,
            {
                "name": f"Rådgivning {i}",
                "number": str(5000 + i),
                "priceExcludingVatCurrency": 1000.0 + i,
                "vatType": vat,
                "isInactive": False,
            },
        )


def test_it_uses_the_same_sql_statements_per_page_whatever_the_page_holds(
    world, billing_on
) -> None:
    import_vat_types(world)
    thirty, _job = _runner_queries(world, services.run_product_import)
    with scopes_disabled():
        BillingProduct.objects.filter(company=world.firm_a).delete()
    _add_products(billing_on.store, 60)

    ninety, job = _runner_queries(world, services.run_product_import)

    assert job.counts["products"]["created"] == 90
    assert len(ninety.captured_queries) == len(thirty.captured_queries)


def test_it_runs_a_constant_number_of_statements_for_each_page(
    world, billing_on, monkeypatch
) -> None:
    _add_products(billing_on.store, 60)
    monkeypatch.setattr(tripletex_adapter, "PAGE_SIZE", 10)

    queries, job = _runner_queries(world, services.run_product_import)

    pages = job.counts["products"]["pages"]
    assert pages == 10  # 88 active in 9 pages, 2 inactive in 1
    on_products = [q for q in queries.captured_queries if "billing_billingproduct" in q["sql"]]
    # SELECT + INSERT per page (all new here; an UPDATE only when something changed), and one
    # UPDATE at the end for what vanished.
    assert len(on_products) <= 3 * pages + 1
    # Per page: SELECT, INSERT (or UPDATE), and the job's counts; per part (VAT types,
    # products): deactivating what vanished, its counts and a savepoint; one VAT type lookup.
    all_pages = pages + job.counts["vat_types"]["pages"]
    assert len(queries.captured_queries) <= 3 * all_pages + 2 * 4 + 1


@pytest.mark.parametrize("field", ["name", "price"])
def test_it_reports_a_row_it_cannot_import_and_imports_the_rest(world, billing_on, field) -> None:
    store = billing_on.store
    row = next(r for r in _remote_products(store) if not r["isInactive"])
    if field == "name":
        row["name"] = "   "
    else:
        row["priceExcludingVatCurrency"] = 1e15

    job = import_products(world)

    assert job.status == "succeeded", job.error
    counts = job.counts["products"]
    assert counts["failed"] == 1 and counts["created"] == 29
    (failure,) = counts["failures"]
    assert failure["id"] == str(row["id"]) and failure["reason"]
