"""The seeded data: valid, checksummed registry numbers per country, sensible volumes, determinism."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import requests
from stdnum.ee import kmkr, registrikood
from stdnum.fi import alv, ytunnus
from stdnum.pl import nip

from integrations.merit import signing
from integrations.merit.sandbox import SandboxServer, Store, start_sandbox
from integrations.merit.sandbox.seed import add_months

from .conftest import TODAY, demo_client

REGISTRY = {"EE": registrikood.is_valid, "FI": ytunnus.is_valid, "PL": nip.is_valid}
VAT = {
    "EE": kmkr.is_valid,
    "FI": alv.is_valid,
    "PL": lambda n: n.startswith("PL") and nip.is_valid(n[2:]),
}


@pytest.mark.parametrize("country", ["EE", "FI", "PL"])
def test_every_registry_and_vat_number_is_valid_for_its_country(
    shared: SandboxServer, country: str
) -> None:
    customers = demo_client(shared, country).json("getcustomers")

    companies = [c for c in customers if not c["NotTDCustomer"]]
    assert companies and all(REGISTRY[country](c["RegNo"]) for c in companies)
    vat_numbers = [c["VatRegNo"] for c in customers if c["VatRegNo"]]
    assert vat_numbers and all(VAT[country](v) for v in vat_numbers)
    assert all(v.startswith(country) for v in vat_numbers)
    for company in shared.store.instances[country].companies.values():
        assert REGISTRY[country](company.reg_no) and VAT[country](company.vat_reg_no)


def test_estonian_registry_codes_have_8_digits_and_finnish_ones_a_dash(
    shared: SandboxServer,
) -> None:
    ee = [c["RegNo"] for c in demo_client(shared, "EE").json("getcustomers") if c["RegNo"]]
    fi = [c["RegNo"] for c in demo_client(shared, "FI").json("getcustomers") if c["RegNo"]]
    pl = [c["RegNo"] for c in demo_client(shared, "PL").json("getcustomers") if c["RegNo"]]

    assert all(len(n) == 8 and n.isdigit() and n[0] in "18" for n in ee)
    assert all(len(n) == 9 and n[7] == "-" for n in fi)
    assert all(len(n) == 10 and n.isdigit() for n in pl)


def test_the_demo_firm_has_a_couple_of_hundred_customers_with_some_private_persons(
    shared: SandboxServer,
) -> None:
    customers = demo_client(shared).json("getcustomers")

    persons = [c for c in customers if c["NotTDCustomer"]]
    assert len(customers) == 200
    assert 10 < len(persons) < 40
    assert all(p["RegNo"] == "" and p["VatRegNo"] == "" for p in persons)
    assert len({c["CustomerId"] for c in customers}) == 200
    assert any(ch in "".join(c["Name"] for c in customers) for ch in "õäöü")
    assert {c["SalesInvLang"] for c in customers} == {"ET"}


def test_polish_customers_are_invoiced_in_zloty(shared: SandboxServer) -> None:
    customers = demo_client(shared, "PL").json("getcustomers")

    assert {c["CurrencyCode"] for c in customers} == {"PLN"}
    assert all(c["PostalCode"][2] == "-" for c in customers)


def test_estonian_invoices_use_the_vat_rate_in_force_on_their_date(shared: SandboxServer) -> None:
    store = shared.store
    rates = {
        inv["Lines"][0]["TaxPct"]
        for inv in store.firm("EE").invoices.values()
        if inv["_date"] >= date(2024, 1, 1)
    }
    older = {
        inv["Lines"][0]["TaxPct"]
        for inv in store.firm("EE").invoices.values()
        if inv["_date"] < date(2024, 1, 1)
    }

    assert rates == {Decimal(22)}  # TODAY is before the 24 % rate of July 2025
    assert older == {Decimal(20)}


def test_two_years_of_history_end_on_today(shared: SandboxServer) -> None:
    firm = shared.store.firm("EE")
    dates = [inv["_date"] for inv in firm.invoices.values()]

    assert max(dates) <= TODAY
    assert min(dates) >= add_months(date(TODAY.year, TODAY.month, 1), -23)
    assert len(firm.purchases) > 50 and len(firm.payments) > len(firm.invoices)


def test_the_seed_is_deterministic_and_independent_of_the_date() -> None:
    one, two = Store(today=TODAY), Store(today=date(2026, 1, 2))

    assert list(one.firm("EE").customers) == list(two.firm("EE").customers)
    assert [i["ItemId"] for i in one.firm("FI").items] == [
        i["ItemId"] for i in two.firm("FI").items
    ]
    assert [t["Id"] for t in one.firm("PL").taxes] == [t["Id"] for t in two.firm("PL").taxes]


def test_the_empty_seed_has_vat_codes_and_banks_but_no_registers(
    sandbox: SandboxServer, control
) -> None:
    assert control("POST", "/reset", {"seed": "empty"}).status_code == 200
    merit = demo_client(sandbox)

    assert merit.json("getcustomers") == []
    assert merit.json("getitems") == []
    assert merit.json("gettaxes")
    assert merit.json("getinvoices", {"PeriodStart": "20250401", "PeriodEnd": "20250616"}) == []


def test_a_reset_can_ask_for_more_customers(sandbox: SandboxServer, control) -> None:
    info = control("POST", "/reset", {"seed": "demo", "customers": 500}).json()

    assert info["instances"]["EE"]["companies"][0]["customers"] == 500
    assert len(demo_client(sandbox).json("getcustomers")) == 500


def test_the_control_api_describes_the_instances(sandbox: SandboxServer, control) -> None:
    info = control("GET", "/").json()

    assert set(info["instances"]) == {"EE", "FI", "PL"}
    assert info["urls"]["FI"] == sandbox.url_for("FI")
    assert info["instances"]["EE"]["real_base_url"] == "https://aktiva.merit.ee/api/v1/"
    assert info["instances"]["EE"]["demo_api_id"] == sandbox.store.demo_credentials("EE")["api_id"]
    assert "api_key" not in str(info)


def test_a_sandbox_can_serve_a_single_country() -> None:
    server = start_sandbox(countries=("FI",), country="FI", today=TODAY)
    try:
        assert server.url.endswith("/fi/api/v1/")
        assert demo_client(server, "FI").call("gettaxes").status_code == 200
        creds = server.store.demo_credentials("FI")
        url = signing.signed_url(
            server.url_for("EE"), "gettaxes", creds["api_id"], creds["api_key"], "{}"
        )
        assert requests.post(url, data="{}", timeout=10).status_code == 404
    finally:
        server.stop()


def test_the_history_is_the_same_however_late_it_is_generated() -> None:
    early, late = Store(today=TODAY), Store(today=TODAY)
    early_ids = list(early.firm("EE").invoices)

    late.create_customer("EE", Name="Enne ajalugu OÜ")  # uses the firm's own random stream first

    assert list(late.firm("EE").invoices) == early_ids
