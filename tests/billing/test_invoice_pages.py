"""The invoice pages: list, new draft, the htmx line editor, issue, export state, print, PDF,
drafts for many clients."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse

from billing.models import Invoice, InvoiceExport
from tests.billing.invoicing import setup_books

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def books(world, tmp_path):
    return setup_books(world, tmp_path)


def test_a_draft_starts_from_the_client_page(books, world, as_user) -> None:
    client = as_user(world.billing)
    page = client.get(reverse("client_detail", args=[books.client.public_id]))
    assert f"/invoices/new/?client={books.client.public_id}" in page.content.decode()
    form = client.get(reverse("invoice_new") + f"?client={books.client.public_id}")
    assert f'value="{books.client.public_id}" selected' in form.content.decode()
    response = client.post(reverse("invoice_new"), {"client": books.client.public_id})
    with world.scope_a():
        invoice = Invoice.objects.get(client=books.client)
    assert response.status_code == 302 and response.url == reverse(
        "invoice_detail", args=[invoice.public_id]
    )
    assert invoice.status == "draft" and invoice.created_by == world.billing


def test_the_editor_adds_edits_moves_and_removes_lines_with_htmx(books, world, as_user) -> None:
    client = as_user(world.billing)
    invoice = books.draft()
    base = f"/invoices/{invoice.public_id}/lines/"
    added = client.post(base, {"new-description": "Purring", "new-quantity": "1", "new-unit_price": "0.005",
                               "new-vat_type": books.vat12.public_id, "new-discount_percent": "0"}, **HTMX)  # fmt: skip
    assert added.status_code == 200
    assert 'id="invoice-lines"' in added.content.decode() and "Purring" in added.content.decode()
    with world.scope_a():
        lines = list(invoice.lines.all())
    assert [line.description for line in lines][-1] == "Purring"
    assert lines[-1].net_amount == Decimal("0.01")
    last = lines[-1]
    moved = client.post(f"{base}{last.public_id}/move/", {"direction": "up"}, **HTMX)
    assert moved.status_code == 200
    with world.scope_a():
        assert [line.description for line in invoice.lines.all()][1] == "Purring"
    prefix = "l" + last.public_id.hex[:8]
    edited = client.post(f"{base}{last.public_id}/", {f"{prefix}-description": "Purregebyr",
                         f"{prefix}-quantity": "2", f"{prefix}-unit_price": "35",
                         f"{prefix}-vat_type": books.vat12.public_id, f"{prefix}-discount_percent": "10"}, **HTMX)  # fmt: skip
    assert edited.status_code == 200
    last.refresh_from_db()
    assert (last.description, last.net_amount, last.vat_amount) == (
        "Purregebyr",
        Decimal("63.00"),
        Decimal("7.56"),
    )
    removed = client.post(f"{base}{last.public_id}/remove/", **HTMX)
    assert removed.status_code == 200 and "Purregebyr" not in removed.content.decode()
    invoice.refresh_from_db()
    assert invoice.net_total == Decimal("7626.25")


def test_a_bad_line_is_answered_422_and_changes_nothing(books, world, as_user) -> None:
    invoice = books.draft()
    response = as_user(world.billing).post(
        f"/invoices/{invoice.public_id}/lines/", {"new-quantity": "abc"}, **HTMX
    )
    assert response.status_code == 422
    with world.scope_a():
        assert invoice.lines.count() == 2


def test_picking_a_product_fills_description_price_and_vat_type(books, world, as_user) -> None:
    response = as_user(world.billing).get(
        reverse("invoice_product_defaults"),
        {"prefix": "new", "new-product": books.hours.public_id},
        **HTMX,
    )
    html = response.content.decode()
    assert 'value="Rådgivning per time"' in html
    assert 'value="1250.50"' in html
    assert f'value="{books.vat25.public_id}" selected' in html


def test_issue_from_the_page_shows_the_export_in_the_vendors_words(books, world, as_user) -> None:
    client = as_user(world.billing)
    invoice = books.draft()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("invoice_issue", args=[invoice.public_id]))
        client.post(reverse("invoice_issue", args=[invoice.public_id]))  # a double click
    page = client.get(reverse("invoice_detail", args=[invoice.public_id])).content.decode()
    number = books.store.objects[0]["number"]
    assert f"Exported as bill #{number}" in page
    assert len(books.store.objects) == 1
    with world.scope_a():
        assert InvoiceExport.objects.filter(invoice=invoice).count() == 1


def test_a_failed_export_says_why_links_to_the_fix_and_offers_retry(books, world, as_user) -> None:
    books.store.add_faults("export", "vat_type")
    client = as_user(world.billing)
    invoice = books.issue(books.draft())
    page = client.get(reverse("invoice_detail", args=[invoice.public_id])).content.decode()
    assert "Failed: The accounting system does not know VAT code 99." in page
    assert "?tab=products" in page and ">Retry<" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("invoice_retry", args=[invoice.public_id]))
    page = client.get(reverse("invoice_detail", args=[invoice.public_id])).content.decode()
    assert "Exported as bill #" in page


def test_an_unlinked_client_shows_waiting_with_link_now(books, world, as_user) -> None:
    from clients.models import Client

    with world.scope_a():
        other = Client.objects.create(company=world.firm_a, name="Ulenket AS")
    invoice = books.issue(books.draft(client=other))
    page = (
        as_user(world.billing)
        .get(reverse("invoice_detail", args=[invoice.public_id]))
        .content.decode()
    )
    assert "Waiting: client not linked" in page
    assert f'href="{reverse("client_detail", args=[other.public_id])}">Link now' in page


def test_members_cannot_issue(books, world, as_user) -> None:
    invoice = books.draft()
    response = as_user(world.accountant).post(reverse("invoice_issue", args=[invoice.public_id]))
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "draft"


def test_the_list_filters_and_totals(books, world, as_user) -> None:
    books.issue(books.draft())
    books.draft()
    client = as_user(world.billing)
    page = client.get(reverse("invoice_list"), {"status": "issued"}).content.decode()
    assert "1 invoice" in page
    assert 'id="total-net">NOK\xa07,626.25<' in page
    assert "Exported as bill #" in page
    drafts = client.get(reverse("invoice_list"), {"export": "none"}).content.decode()
    assert "1 invoice" in drafts and ">Draft<" in drafts


def test_print_view_and_pdf(books, world, as_user) -> None:
    invoice = books.issue(books.draft())
    client = as_user(world.billing)
    printed = client.get(reverse("invoice_print", args=[invoice.public_id])).content.decode()
    assert f"Invoice {invoice.number}" in printed and "Rådgivning per time" in printed
    pdf = client.get(reverse("invoice_pdf", args=[invoice.public_id]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
    assert f'filename="invoice-{invoice.number}.pdf"' in pdf["Content-Disposition"]


def test_drafts_for_many_clients_share_the_lines(books, world, as_user) -> None:
    from clients.models import Client

    with world.scope_a():
        second = Client.objects.create(company=world.firm_a, name="Fjellvind AS")
    response = as_user(world.billing).post(
        reverse("invoice_bulk"),
        {"clients": [books.client.public_id, second.public_id], "line0-product": books.fee.public_id,
         "line0-quantity": "1", "line0-discount_percent": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    with world.scope_a():
        drafts = list(Invoice.objects.filter(company=world.firm_a).order_by("client__name"))
        assert [d.client.name for d in drafts] == ["Fjellvind AS", "Havbris AS"]
        assert all(d.status == "draft" and d.net_total == Decimal("4500.00") for d in drafts)


def test_the_invoice_pages_speak_norwegian(books, world, as_user) -> None:
    client = as_user(world.billing)
    client.post(reverse("set_language"), {"language": "nb", "next": "/"})
    invoice = books.issue(books.draft(client=_unlinked(world)))
    page = client.get(reverse("invoice_detail", args=[invoice.public_id])).content.decode()
    assert "Venter: kunden er ikke koblet" in page and "Koble nå" in page
    assert "Sum inkl. mva" in page
    listing = client.get(reverse("invoice_list")).content.decode()
    assert ">Fakturaer<" in listing and "Ny faktura" in listing


def _unlinked(world):
    from clients.models import Client

    with world.scope_a():
        return Client.objects.create(company=world.firm_a, name="Norsk Uten Lenke AS")


def test_the_print_view_pdf_and_admin_show_organisation_numbers_grouped(
    books, world, as_user, monkeypatch
) -> None:
    from fpdf import FPDF

    from billing import pdf as invoice_pdf

    with world.scope_a():
        world.firm_a.country = "NO"
        world.firm_a.organisation_number = "923609016"
        world.firm_a.save()
        books.client.registry_country = "NO"
        books.client.organisation_number = "974760673"
        books.client.save()
    invoice = books.issue(books.draft())
    client = as_user(world.billing)
    printed = client.get(reverse("invoice_print", args=[invoice.public_id])).content.decode()
    assert "923\xa0609\xa0016" in printed and "974\xa0760\xa0673" in printed
    assert invoice.issue_date.strftime("%d/%m/%Y") in printed  # day first, not "Dec. 3, 2026"
    written: list[str] = []
    original = FPDF.cell

    def cell(self, w=None, h=None, text="", *args, **kwargs):
        written.append(str(text))
        return original(self, w, h, text, *args, **kwargs)

    monkeypatch.setattr(invoice_pdf.FPDF, "cell", cell)
    assert client.get(reverse("invoice_pdf", args=[invoice.public_id])).status_code == 200
    assert "Organisation number 923\xa0609\xa0016" in written
    assert "Organisation number 974\xa0760\xa0673" in written


def test_the_admin_groups_organisation_numbers_and_prices_say_their_currency(db) -> None:
    from billing.admin import BillingProductAdmin
    from billing.models import BillingProduct
    from uku.admin import CompanyAdmin
    from uku.models import Company

    firm = Company(name="Fjord", country="NO", organisation_number="923609016")
    from django.contrib.admin.sites import site

    company_admin = site._registry[Company]
    product_admin = site._registry[BillingProduct]
    assert isinstance(company_admin, CompanyAdmin)
    assert isinstance(product_admin, BillingProductAdmin)
    assert company_admin.registry_number(firm) == "923\xa0609\xa0016"
    product = BillingProduct(name="Time", unit_price=Decimal("1200"))
    assert product_admin.price(product) == "NOK\xa01,200.00"
    assert "price" in product_admin.list_display
    assert "registry_number" in company_admin.list_display
