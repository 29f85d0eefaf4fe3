"""Bad input in every form (issue 14, section 4): registry numbers, dates, amounts, credentials
with whitespace, control characters or NUL, oversized text. Each case gives a clear error on its
own field; through the pages and the API it answers no 500 and saves nothing.

Two tables: `FORM_CASES` (every form class of the product, from one valid post mutated one field
at a time) and `PAGE_CASES` (the writing pages and API calls behind them, asserting the stored
row did not change). Counted as `fuzz_cases` / `fuzz_server_errors` in the reliability report.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django import forms
from django.urls import reverse

from billing.forms import ActivateBillingForm, ProductSearchForm
from billing.invoice_forms import (
    BillingInvoiceSettingsForm,
    BulkDraftForm,
    InvoiceFilterForm,
    InvoiceHeaderForm,
    LineForm,
    NewInvoiceForm,
)
from billing.invoices import InvoiceError, update_invoice_settings
from billing.models import BillingSettings, Invoice
from clients.forms import BillingSettingsForm, ClientForm, RegistryNumberForm
from clients.models import Client
from integrations.base import ConfigError, get_vendor
from integrations.forms import ConnectForm, HistoryFilterForm
from integrations.models import IntegrationCredential
from integrations.services import clean_credentials
from tests.billing.invoicing import setup_books
from tests.reliability.report import count
from uku.forms import (
    ApiTokenForm,
    AuditFilterForm,
    CompanyForm,
    InviteForm,
    MembershipForm,
    SignupForm,
)
from uku.models import Company

HUGE = "x" * 100_000
NUL = "Fjord\x00AS"
BAD_DATES = ["2026-02-30", "31.12.2026x", "0000-01-01", "9" * 40, "\x00", HUGE]
BAD_AMOUNTS = ["1e999999", "NaN", "-Infinity", "12,34,56", "1" * 40, "\x00", "½"]


@dataclass
class FormCase:
    """One form: how to build it for firm A, a post it accepts, and the bad values per field."""

    name: str
    make: Callable[[Any, dict[str, Any]], forms.BaseForm]
    valid: Callable[[Any], dict[str, Any]]
    bad: dict[str, list[Any]] = field(default_factory=dict)


def _valid_client(books: Any) -> dict[str, Any]:
    return {"name": "Havbris AS", "registry_country": "NO", "organisation_number": "923609016"}


def _line(books: Any) -> dict[str, Any]:
    return {"description": "Rådgivning", "quantity": "1", "unit_price": "100.00"}


def _settings(books: Any) -> dict[str, Any]:
    return {
        "default_due_days": "14",
        "number_prefix": "F-",
        "next_number": "10",
        "status_check_hour": "6",
        "time_zone": "Europe/Oslo",
    }


def _firm(books: Any) -> Company:
    return books.world.firm_a


def _connect_valid(vendor: str) -> dict[str, Any]:
    if vendor == "tripletex":
        return {
            "employee_token": "eyJ0b2tlbiI6InRlc3QifQ==",
            "environment": "test",
            "token_expires_on": (date.today() + timedelta(days=180)).isoformat(),
        }
    return {
        "api_id": "6c2f7b2a-1f3e-4c5d-9a8b-0123456789ab",
        "api_key": "c2VjcmV0LWtleQ==",
        "environment": "ee",
    }


CONNECT_BAD: dict[str, dict[str, list[Any]]] = {
    "tripletex": {
        "employee_token": ["", "abc\x00def"],
        "environment": ["staging", ""],
        "token_expires_on": ["", "2000-01-01", "2099-01-01", *BAD_DATES],
    },
    "merit": {
        "api_id": ["", "6c2f7b2a\x00"],
        "api_key": ["", "key\x00"],
        "environment": ["se", ""],
    },
}


def _connect_case(vendor: str) -> FormCase:
    def make(books: Any, data: dict[str, Any]) -> forms.BaseForm:
        return ConnectForm(data, vendor=get_vendor(vendor))

    return FormCase(
        f"{vendor} connect", make, lambda books: _connect_valid(vendor), CONNECT_BAD[vendor]
    )


REGISTRY_BAD = ["92360901", "923609017", "NO 923 609 016 MVA" + "9" * 60, NUL, "\u202e923609016"]
TEXT_BAD = [HUGE, NUL]

FORM_CASES: list[FormCase] = [
    FormCase(
        "client (new / edit)",
        lambda b, d: ClientForm(d, company=_firm(b), instance=Client(company=_firm(b))),
        _valid_client,
        {
            "organisation_number": REGISTRY_BAD,
            "registry_country": ["SE", "", "\x00"],
            "name": ["", HUGE, NUL],
            "email": ["not an e-mail", "a@b\x00.no", HUGE],
            "invoice_email": ["faktura@", HUGE],
            "phone": [HUGE, NUL],
            "postal_code": [HUGE],
            "customer_number": [HUGE],
            "responsible": ["999999", "not-a-pk"],
        },
    ),
    FormCase(
        "client registry number",
        lambda b, d: RegistryNumberForm(d, instance=b.client),
        lambda b: {"registry_country": "NO", "organisation_number": "923609016"},
        {"organisation_number": REGISTRY_BAD, "registry_country": ["XX", ""]},
    ),
    FormCase(
        "client billing settings",
        lambda b, d: BillingSettingsForm(d, instance=b.client),
        lambda b: {"invoice_email": "faktura@havbris.no"},
        {"invoice_email": ["faktura", "a b@c.no", HUGE, "post@havbris.no\x00"]},
    ),
    FormCase(
        "firm settings",
        lambda b, d: CompanyForm(d, instance=_firm(b)),
        lambda b: {
            "name": "Fjord Regnskap AS",
            "country": "NO",
            "organisation_number": "923609016",
        },
        {"organisation_number": REGISTRY_BAD, "name": ["", "   ", HUGE, NUL]},
    ),
    FormCase(
        "invite",
        lambda b, d: InviteForm(d),
        lambda b: {"email": "ny@fjord.no", "role": "member"},
        {"email": ["ny", " ", "ny@fjord.no\x00", "x" * 300 + "@fjord.no"], "role": ["god", ""]},
    ),
    FormCase(
        "membership",
        lambda b, d: MembershipForm(d, instance=b.world.membership(b.world.accountant)),
        lambda b: {"role": "member", "external_id": "A-1"},
        {"role": ["root", ""], "external_id": [HUGE, NUL]},
    ),
    FormCase(
        "API token",
        lambda b, d: ApiTokenForm(d),
        lambda b: {"name": "Regnskapsrobot", "expires_in_days": "90"},
        {"name": ["", HUGE, NUL], "expires_in_days": ["7", "-1", "forever", "1" * 40]},
    ),
    FormCase(
        "sign-up",
        lambda b, d: SignupForm(d, email="ny@fjord.no"),
        lambda b: {"name": "Kari Nordmann", "password": "langt-og-trygt-passord-42"},
        {"name": ["", HUGE, NUL], "password": ["", "123", "ny@fjord.no", "pass\x00word-long-42"]},
    ),
    FormCase(
        "audit filter",
        lambda b, d: AuditFilterForm(d),
        lambda b: {"actor": "owner", "date_from": "2026-01-01", "date_to": "2026-12-31"},
        {
            "actor": [HUGE, NUL],
            "object": [HUGE, NUL],
            "action": ["drop table"],
            "date_from": BAD_DATES,
            "date_to": [*BAD_DATES, "2025-12-31"],
        },
    ),
    FormCase(
        "integration history filter",
        lambda b, d: HistoryFilterForm(d, kinds=[("customer_import", "Customer import")]),
        lambda b: {"kind": "customer_import", "date_from": "2026-01-01"},
        {"kind": ["other"], "status": ["nope"], "date_from": BAD_DATES, "date_to": BAD_DATES},
    ),
    FormCase(
        "activate billing",
        lambda b, d: ActivateBillingForm(d),
        lambda b: {"accounting_vendor": ""},
        {"accounting_vendor": ["sap", "\x00", HUGE]},
    ),
    FormCase(
        "product search",
        lambda b, d: ProductSearchForm(d),
        lambda b: {"q": "regnskap", "show": "all", "sort": "-price"},
        {"q": [HUGE, NUL], "show": ["deleted"], "sort": ["password"]},
    ),
    FormCase(
        "invoice filter",
        lambda b, d: InvoiceFilterForm(d, company=_firm(b)),
        lambda b: {"status": "", "client": str(b.client.public_id), "date_from": "2026-01-01"},
        {
            "client": ["00000000-0000-0000-0000-000000000000", "not-a-uuid", NUL],
            "status": ["paid-twice"],
            "export": ["lost"],
            "date_from": BAD_DATES,
            "date_to": BAD_DATES,
        },
    ),
    FormCase(
        "new invoice",
        lambda b, d: NewInvoiceForm(d, company=_firm(b)),
        lambda b: {"client": str(b.client.public_id)},
        {"client": ["", "00000000-0000-0000-0000-000000000000", "1 OR 1=1", NUL]},
    ),
    FormCase(
        "invoice header",
        lambda b, d: InvoiceHeaderForm(d, company=_firm(b)),
        lambda b: {"issue_date": "2026-12-01", "due_date": "2026-12-15", "comment": "Takk!"},
        {
            "issue_date": ["", *BAD_DATES],
            "due_date": ["", *BAD_DATES],
            "comment": ["x" * 1001, HUGE, NUL],
            "responsible": ["999999"],
        },
    ),
    FormCase(
        "invoice line",
        lambda b, d: LineForm(d, company=_firm(b)),
        _line,
        {
            "quantity": ["", *BAD_AMOUNTS, "1" * 11 + ".12345"],
            "unit_price": [*BAD_AMOUNTS, "1.123456"],
            "discount_percent": ["-1", "100.01", "1e3", *BAD_AMOUNTS],
            "description": ["x" * 501, NUL],
            "product": ["00000000-0000-0000-0000-000000000000", "x"],
            "vat_type": ["00000000-0000-0000-0000-000000000000", "x"],
        },
    ),
    FormCase(
        "bulk drafts",
        lambda b, d: BulkDraftForm(d, company=_firm(b)),
        lambda b: {"clients": [str(b.client.public_id)], "issue_date": "2026-12-01"},
        {
            "clients": [[], ["00000000-0000-0000-0000-000000000000"], ["x\x00"]],
            "issue_date": BAD_DATES,
            "comment": ["x" * 1001, NUL],
        },
    ),
    FormCase(
        "invoice settings",
        lambda b, d: BillingInvoiceSettingsForm(d, company=_firm(b)),
        _settings,
        {
            "number_prefix": ["x" * 17, NUL],
            "next_number": ["0", "-5", "1000000000", "9" * 40, "1e3", "", "\x00"],
            "default_due_days": ["-1", "366", "x", ""],
            "status_check_hour": ["24", "-1", ""],
            "time_zone": ["Mars/Base", ""],
            "default_vat_type": ["00000000-0000-0000-0000-000000000000"],
        },
    ),
    *(_connect_case(vendor) for vendor in ("tripletex", "merit")),
]

# What the form lets through and the service refuses, on its field (uku strips and checks
# credentials in one place, so the UI and the API agree): spaces, line breaks, control and
# invisible characters, NUL, oversized.
CREDENTIAL_CASES: dict[str, dict[str, list[str]]] = {
    "tripletex": {
        "employee_token": [
            "   ",
            "eyJ0b2tl iI6InRlc3QifQ==",
            "eyJ0b2tl\niI6InRlc3QifQ==",
            "eyJ0b2tl\tiI6InRlc3QifQ==",
            "eyJ0b2tl\x07iI6InRlc3QifQ==",
            "eyJ0b2tl\u200biI6InRlc3QifQ==",
            "eyJ0b2tl\x00iI6InRlc3QifQ==",
            "eyJ0b2tlbiI6InRlc3QifQ==\u202e",
            "x" * 10_000,
            "a1b2",
        ]
    },
    "merit": {
        "api_id": ["", "not-a-guid", "6c2f7b2a-1f3e-4c5d-9a8b-0123456789ab\x00", HUGE],
        "api_key": [
            " ",
            "c2Vj cmV0",
            "c2Vj\ncmV0",
            "c2Vj\x1bcmV0",
            "c2Vj\u00a0cmV0",
            "c2Vj\x00cmV0",
            "sécret",
            "k" * 10_000,
        ],
    },
}
GOOD_CREDENTIALS = {
    "tripletex": {"employee_token": "eyJ0b2tlbiI6InRlc3QifQ=="},
    "merit": {"api_id": "6c2f7b2a-1f3e-4c5d-9a8b-0123456789ab", "api_key": "c2VjcmV0LWtleQ=="},
}


@pytest.fixture
def books(world, tmp_path):
    return setup_books(world, tmp_path)


@pytest.mark.parametrize("form_name", [case.name for case in FORM_CASES])
def test_every_form_refuses_bad_input_on_its_field(books, form_name: str) -> None:
    case = next(c for c in FORM_CASES if c.name == form_name)
    with books.world.scope_a():
        valid = case.valid(books)
        form = case.make(books, dict(valid))
        assert form.is_valid(), f"{form_name}: the valid post is refused: {form.errors}"
        checked = 0
        for name, values in case.bad.items():
            assert name in form.fields, f"{form_name}: no field {name!r}"
            for value in values:
                bad = case.make(books, {**valid, name: value})
                assert not bad.is_valid(), f"{form_name}: {name}={value!r:.60} accepted"
                assert name in bad.errors, f"{form_name}: {name}={value!r:.60}: {bad.errors}"
                assert all(str(e).strip() for e in bad.errors[name]), "an empty message"
                checked += 1
    count("fuzz_cases", checked)
    count("fuzz_server_errors", 0)


def test_the_tables_cover_every_form_of_the_product() -> None:
    """A new form class joins `FORM_CASES` (or this fails)."""
    import importlib

    modules = [
        "clients.forms",
        "billing.forms",
        "billing.invoice_forms",
        "uku.forms",
        "integrations.forms",
    ]
    classes = {
        obj
        for module in modules
        for obj in vars(importlib.import_module(module)).values()
        if isinstance(obj, type) and issubclass(obj, forms.BaseForm) and obj.__module__ == module
    }
    tested = {
        ClientForm, RegistryNumberForm, BillingSettingsForm, CompanyForm, InviteForm,
        MembershipForm, ApiTokenForm, SignupForm, AuditFilterForm, HistoryFilterForm,
        ActivateBillingForm, ProductSearchForm, InvoiceFilterForm, NewInvoiceForm,
        InvoiceHeaderForm, LineForm, BulkDraftForm, BillingInvoiceSettingsForm, ConnectForm,
    }  # fmt: skip
    # Subclasses with the fields of a tested form less some (the client page's Edit form) and
    # Django's own auth forms (password reset / login, tested in tests/uku) are not repeated.
    from clients.forms import ClientDetailsForm

    exempt = {ClientDetailsForm}
    missing = {c.__qualname__ for c in classes - tested - exempt if "Password" not in c.__name__}
    missing -= {c.__qualname__ for c in classes if c.__name__.endswith("AuthenticationForm")}
    assert not missing, f"forms without bad-input cases: {sorted(missing)}"


@pytest.mark.parametrize("vendor", sorted(CREDENTIAL_CASES))
def test_credentials_with_whitespace_control_characters_or_nul_get_a_field_error(
    vendor: str,
) -> None:
    assert clean_credentials(vendor, dict(GOOD_CREDENTIALS[vendor]))
    checked = 0
    for name, values in CREDENTIAL_CASES[vendor].items():
        for value in values:
            with pytest.raises(ConfigError) as refused:
                clean_credentials(vendor, {**GOOD_CREDENTIALS[vendor], name: value})
            assert refused.value.details.get("field") == name, (name, value[:40])
            assert value.strip() not in str(refused.value) or not value.strip()
            checked += 1
    count("fuzz_cases", checked)
    count("fuzz_server_errors", 0)


# --- Through the pages and the API: no 500, nothing saved -------------------------------------


def _settings_row(books: Any) -> tuple[Any, ...]:
    with books.world.scope_a():
        s = BillingSettings.objects.get(company=books.world.firm_a)
        return (s.number_prefix, s.next_number, s.default_due_days, s.status_check_hour)


def _client_row(books: Any) -> tuple[Any, ...]:
    with books.world.scope_a():
        c = Client.objects.get(pk=books.client.pk)
        count_ = Client.objects.filter(company=books.world.firm_a).count()
        return (c.name, c.organisation_number, c.invoice_email, count_)


def _invoice_row(books: Any, invoice: Invoice) -> tuple[Any, ...]:
    with books.world.scope_a():
        i = Invoice.objects.get(pk=invoice.pk)
        return (i.comment, i.issue_date, i.due_date, i.lines.count())


def test_pages_and_api_refuse_bad_input_without_a_500_and_save_nothing(
    books, world, as_user, api_as
) -> None:
    web = as_user(world.admin)
    api = api_as(world.admin)
    invoice = books.draft(_line_input())
    sent = errors = 0

    def check(response: Any, before: tuple[Any, ...], after: Callable[[], tuple[Any, ...]]) -> None:
        nonlocal sent, errors
        sent += 1
        if response.status_code >= 500:
            errors += 1
        assert response.status_code < 500, response.content[:300]
        assert after() == before, "bad input changed what is stored"

    try:
        settings_url = reverse("billing_invoice_settings")
        for name, value in [
            ("number_prefix", "P" * 17),
            ("next_number", "2147483648"),
            ("next_number", "9" * 40),
            ("next_number", "0"),
            ("default_due_days", "-1"),
            ("number_prefix", "F\x00"),
        ]:
            before = _settings_row(books)
            check(web.post(settings_url, {**_settings(books), name: value}), before,
                  lambda: _settings_row(books))  # fmt: skip
            body = {name: int(value) if value.isdigit() else value}
            refused = api.patch("/api/v1/billing/invoice-settings", body, format="json")
            check(refused, before, lambda: _settings_row(books))
            assert refused.status_code == 400 and name in refused.json()["fields"], refused.json()

        client_url = reverse("client_detail", args=[books.client.public_id])
        for name, value in [
            ("organisation_number", "923609017"),
            ("organisation_number", "9" * 100),
            ("name", "x" * 300),
            ("name", NUL),
            ("invoice_email", "faktura@"),
        ]:
            before = _client_row(books)
            data = {**_valid_client(books), name: value}
            check(web.post(reverse("client_create"), data), before, lambda: _client_row(books))
            check(web.post(client_url, data), before, lambda: _client_row(books))
            api_body = {"name": "Ny AS", "organisation_number": "923609016", name: value}
            check(api.post("/api/v1/clients/", api_body, format="json"), before,
                  lambda: _client_row(books))  # fmt: skip

        edit_url = reverse("invoice_edit", args=[invoice.public_id])
        for name, value in [
            ("comment", "x" * 1001),
            ("issue_date", "2026-02-30"),
            ("due_date", "9" * 40),
            ("comment", NUL),
        ]:
            before = _invoice_row(books, invoice)
            data = {"issue_date": "2026-12-01", "due_date": "2026-12-15", name: value}
            check(web.post(edit_url, data), before, lambda: _invoice_row(books, invoice))
            check(
                api.patch(
                    f"/api/v1/billing/invoices/{invoice.public_id}",
                    json.dumps({name: value}),
                    content_type="application/json",
                ),
                before,
                lambda: _invoice_row(books, invoice),
            )

        for vendor, cases in CREDENTIAL_CASES.items():
            url = reverse("integration_connect", args=[vendor])
            valid = _connect_valid(vendor)
            for name, values in cases.items():
                for value in values[:4]:
                    with world.scope_a():
                        before = (IntegrationCredential.objects.filter(
                            company=world.firm_a, connection__vendor=vendor).count(),)  # fmt: skip
                    after = functools.partial(_credential_count, world, vendor)
                    check(web.post(url, {**valid, name: value}), before, after)
    finally:
        count("fuzz_cases", sent)
        count("fuzz_server_errors", errors)


def _credential_count(world: Any, vendor: str) -> tuple[int]:
    with world.scope_a():
        return (
            IntegrationCredential.objects.filter(
                company=world.firm_a, connection__vendor=vendor
            ).count(),
        )


def _line_input() -> Any:
    from decimal import Decimal

    from billing.invoices import LineInput

    return LineInput(description="Rådgivning", unit_price=Decimal("100"))


def test_the_services_refuse_rather_than_cut(books, world) -> None:
    """The API and any other caller get the same limits as the forms: a too-long prefix is
    refused, not truncated; the next number is capped; a comment is at most 1,000 characters."""
    with world.scope_a():
        cases: list[tuple[dict[str, Any], str]] = [
            ({"number_prefix": "P" * 17}, "number_prefix"),
            ({"next_number": 1_000_000_000}, "next_number"),
            ({"next_number": 0}, "next_number"),
        ]
        for kwargs, name in cases:
            with pytest.raises(InvoiceError) as refused:
                update_invoice_settings(company=world.firm_a, actor=world.admin, **kwargs)
            assert refused.value.details["field"] == name
        saved = update_invoice_settings(
            company=world.firm_a, actor=world.admin, number_prefix="P" * 16, next_number=999_999_999
        )
        assert (saved.number_prefix, saved.next_number) == ("P" * 16, 999_999_999)
    with pytest.raises(InvoiceError) as refused:
        books.draft(_line_input(), comment="x" * 1001)
    assert refused.value.details["field"] == "comment"
    assert books.draft(_line_input(), comment="x" * 1000).comment == "x" * 1000
