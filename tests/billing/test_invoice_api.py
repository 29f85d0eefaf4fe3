"""`/api/v1/billing/invoices/`: drafts, issue with Idempotency-Key, export retry, roles."""

from __future__ import annotations

import pytest
from django.test import TestCase

from billing.models import Invoice
from tests.billing.invoicing import setup_books


@pytest.fixture
def books(world, tmp_path):
    return setup_books(world, tmp_path)


def _create(api, books, **extra):
    body = {
        "client": str(books.client.public_id),
        "lines": [
            {"product": str(books.fee.public_id)},
            {
                "description": "Ekstra bilag",
                "quantity": "3",
                "unit_price": "0.335",
                "vat_type": str(books.vat15.public_id),
                "discount_percent": "0",
            },
        ],
        **extra,
    }
    return api.post("/api/v1/billing/invoices/", body, format="json")


def test_it_creates_a_draft_with_lines_filled_from_the_product(books, world, api_as) -> None:
    response = _create(api_as(world.billing), books)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft" and data["number"] == ""
    first, second = data["lines"]
    assert (first["description"], first["unit_price"], first["net_amount"]) == (
        "Månedlig regnskapsføring", "4500.0000", "4500.00",
    )  # fmt: skip
    assert second["net_amount"] == "1.01"
    assert data["totals"]["net"] == "4501.01"
    assert data["totals"]["vat"] == "1125.15"  # 25 % of 4500 + 15 % of 1.01 (0.1515 -> 0.15)
    assert data["exports"] == []


def test_it_issues_once_and_replays_the_first_answer_for_the_same_key(books, world, api_as) -> None:
    api = api_as(world.billing)
    invoice_id = _create(api, books).json()["id"]
    url = f"/api/v1/billing/invoices/{invoice_id}/issue"
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = api.post(url, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "issued" and first.json()["number"] == "1"
    assert (
        first.json()["exports"][0]["state"] == "pending"
    )  # the answer was made before the export ran
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = api.post(url, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    with TestCase.captureOnCommitCallbacks(execute=True):
        other_key = api.post(url, HTTP_IDEMPOTENCY_KEY="k-2")
    assert other_key.json()["number"] == "1"  # issuing an issued invoice changes nothing
    assert other_key.json()["exports"][0]["state"] == "done"
    assert len(books.store.objects) == 1
    detail = api.get(f"/api/v1/billing/invoices/{invoice_id}/").json()
    [export] = detail["exports"]
    assert (
        export["vendor"] == "fakeinvoices" and export["remote_id"] == books.store.objects[0]["id"]
    )
    assert export["attempts"] == 1 and export["error"] == ""


def test_a_key_used_for_another_invoice_is_refused(books, world, api_as) -> None:
    api = api_as(world.billing)
    one, two = _create(api, books).json()["id"], _create(api, books).json()["id"]
    api.post(f"/api/v1/billing/invoices/{one}/issue", HTTP_IDEMPOTENCY_KEY="same")
    response = api.post(f"/api/v1/billing/invoices/{two}/issue", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


def test_only_drafts_change(books, world, api_as) -> None:
    api = api_as(world.billing)
    invoice_id = _create(api, books).json()["id"]
    url = f"/api/v1/billing/invoices/{invoice_id}/"
    patched = api.patch(
        url, {"comment": "Takk", "lines": [{"product": str(books.hours.public_id)}]}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["comment"] == "Takk" and len(patched.json()["lines"]) == 1
    api.post(f"/api/v1/billing/invoices/{invoice_id}/issue")
    refused = api.patch(url, {"comment": "Endret"}, format="json")
    assert refused.status_code == 400 and "can no longer be changed" in refused.json()["detail"]
    assert api.delete(url).status_code == 400
    with world.scope_a():
        assert Invoice.objects.get(public_id=invoice_id).comment == "Takk"


def test_a_draft_without_lines_cannot_be_issued(books, world, api_as) -> None:
    api = api_as(world.billing)
    invoice_id = api.post(
        "/api/v1/billing/invoices/", {"client": str(books.client.public_id)}, format="json"
    ).json()["id"]
    response = api.post(f"/api/v1/billing/invoices/{invoice_id}/issue")
    assert response.status_code == 400 and "Add at least one line" in response.json()["detail"]


def test_members_read_and_cannot_write(books, world, api_as) -> None:
    api = api_as(world.accountant)
    assert api.get("/api/v1/billing/invoices/").status_code == 200
    assert _create(api, books).status_code == 403


def test_the_export_retry_requeues_a_failed_export(books, world, api_as) -> None:
    books.store.add_faults("export", "vat_type")
    api = api_as(world.billing)
    invoice_id = _create(api, books).json()["id"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        api.post(f"/api/v1/billing/invoices/{invoice_id}/issue")
    [export] = api.get(f"/api/v1/billing/invoices/{invoice_id}/").json()["exports"]
    assert export["state"] == "failed" and export["error_fix"] == "vat_type"
    assert "does not know VAT code" in export["error"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        retried = api.post(f"/api/v1/billing/invoices/{invoice_id}/export")
    assert retried.status_code == 202
    [export] = api.get(f"/api/v1/billing/invoices/{invoice_id}/").json()["exports"]
    assert export["state"] == "done" and export["text"].startswith("Exported as bill #")


def test_the_list_filters_and_pages(books, world, api_as) -> None:
    api = api_as(world.billing)
    for _n in range(3):
        _create(api, books)
    issued = _create(api, books).json()["id"]
    api.post(f"/api/v1/billing/invoices/{issued}/issue")
    assert api.get("/api/v1/billing/invoices/?status=draft").json()["count"] == 3
    assert api.get("/api/v1/billing/invoices/?status=issued").json()["count"] == 1
    assert api.get("/api/v1/billing/invoices/?export_state=none").json()["count"] == 3
    bad = api.get("/api/v1/billing/invoices/?issued_from=yesterday")
    assert bad.status_code == 400 and "issued_from" in bad.json()["fields"]


def test_a_line_without_product_and_an_invoice_without_responsible_say_null(
    books, world, api_as
) -> None:
    body = {
        "client": str(books.client.public_id),
        "lines": [{"description": "Fritt", "unit_price": "10"}],
    }
    data = api_as(world.billing).post("/api/v1/billing/invoices/", body, format="json").json()
    assert data["responsible"] is None
    assert data["lines"][0]["product"] is None and data["lines"][0]["vat_type"] is None
