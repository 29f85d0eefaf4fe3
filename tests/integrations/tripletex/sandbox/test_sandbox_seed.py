"""Seed data: demo contents, determinism, the `empty` seed and the large-volume generator."""

from __future__ import annotations

from integrations.tripletex.sandbox import SandboxServer
from integrations.tripletex.sandbox.seed import mod11_check
from integrations.tripletex.sandbox.store import Store

from .conftest import TODAY, Api


def _valid_org(number: str) -> bool:
    digits = [int(c) for c in number.replace(" ", "")]
    return len(digits) == 9 and mod11_check(digits[:8]) == digits[8]


def test_it_computes_the_mod11_check_digit() -> None:
    assert _valid_org("923456783")
    assert not _valid_org("923456784")
    assert mod11_check([0, 0, 0, 0, 0, 0, 0, 6]) is None  # remainder 1 -> check 10 -> invalid
    assert mod11_check([0, 0, 0, 0, 0, 0, 1, 4]) == 0  # remainder 0 -> check 11 -> 0


def test_it_seeds_a_firm_with_clients_and_norwegian_customers(api: Api) -> None:
    firm = api.get("/token/session/>whoAmI", fields="company(*)").json()["value"]["company"]
    clients = api.values("/company/>withLoginAccess")
    customers = api.values(
        "/customer",
        isInactive="",
        fields="name,organizationNumber,email,invoiceEmail,"
        "phoneNumberMobile,postalAddress(city),customerNumber,accountManager",
    )
    names = " ".join(c["name"] for c in customers)

    assert firm["name"] == "Demo Regnskap AS" and _valid_org(firm["organizationNumber"])
    assert len(clients) >= 5 and all(_valid_org(c["organizationNumber"]) for c in clients)
    assert any(ch in " ".join(c["name"] for c in clients) for ch in "æøåÆØÅ")
    assert len(customers) >= 200
    assert all(ch in names for ch in "æøå")
    orgs = [c["organizationNumber"] for c in customers if c["organizationNumber"]]
    assert all(_valid_org(org) for org in orgs)
    assert any(" " in org for org in orgs)
    assert any(c["organizationNumber"] is None for c in customers)
    assert all(c["email"] and c["postalAddress"]["city"] and c["accountManager"] for c in customers)
    assert len({c["customerNumber"] for c in customers}) == len(customers)


def test_it_seeds_products_vat_types_and_employees(api: Api) -> None:
    products = api.values("/product", fields="name,number,vatType(number),isInactive")
    vat_types = api.values("/ledger/vatType", fields="id,number,name,percentage")
    employees = api.values("/employee", fields="employeeNumber,email,userType")

    assert len(products) == 30 and any(p["isInactive"] for p in products)
    assert all(isinstance(p["vatType"]["number"], str) for p in products)
    numbers = {v["number"] for v in vat_types}
    assert {"0", "1", "3", "5", "6", "11", "13", "31", "33"} <= numbers
    assert all(str(v["id"]) != v["number"] for v in vat_types)
    assert all(e["employeeNumber"] and e["email"] for e in employees)
    assert sum(e["userType"] == "NO_ACCESS" for e in employees) == 1


def test_it_seeds_24_months_of_client_bookkeeping(api: Api, sandbox: SandboxServer) -> None:
    client = api.as_company(sandbox.store.company_clients(sandbox.store.firm_company_id)[0])
    vouchers = client.values(
        "/ledger/voucher",
        dateFrom="2023-01-01",
        dateTo="2025-07-01",
        fields="date,voucherType(name),document,attachment",
    )
    months = {v["date"][:7] for v in vouchers}
    statements = client.values("/bank/statement", fields="id,fromDate,transactions")
    transactions = client.values(
        "/bank/statement/transaction", bankStatementId=statements[-1]["id"]
    )

    assert len(months) == 24 and max(months) == "2025-06" and min(months) == "2023-07"
    assert max(v["date"] for v in vouchers) <= TODAY.isoformat()
    assert {"Utgående faktura", "Leverandørfaktura", "Bankavstemming", "Manuelt bilag"} <= {
        v["voucherType"]["name"] for v in vouchers if v["voucherType"]
    }
    assert any(v["voucherType"] is None for v in vouchers)  # manual journal entries
    assert any(v["document"] for v in vouchers) and any(v["attachment"] for v in vouchers)
    assert any(v["document"] is None and v["attachment"] is None for v in vouchers)
    per_month = [
        len([v for v in vouchers if v["date"].startswith(m)])
        for m in ("2024-03", "2024-04", "2024-05")
    ]
    assert len(set(per_month)) > 1
    assert len(statements) == 24
    assert len(transactions) == len(statements[-1]["transactions"]) > 0
    assert client.values(
        "/supplierInvoice", invoiceDateFrom="2025-05-01", invoiceDateTo="2025-06-01"
    )
    assert client.values("/invoice", invoiceDateFrom="2025-05-01", invoiceDateTo="2025-06-01")


def test_it_seeds_hours(api: Api) -> None:
    entries = api.values(
        "/timesheet/entry",
        dateFrom="2025-06-01",
        dateTo="2025-06-17",
        fields="hours,project,activity",
    )

    assert entries and all(e["hours"] > 0 for e in entries)
    assert api.values("/project") and api.values("/activity")


def test_it_seeds_deterministically() -> None:
    first, second = Store(today=TODAY), Store(today=TODAY)
    client = first.company_clients(first.firm_company_id)[-1]
    # touch the lazily generated history in a different order in each store
    first.materialize(client)
    for company in second.company_clients(second.firm_company_id):
        second.materialize(company)

    def snapshot(store: Store, kind: str) -> list[tuple[object, ...]]:
        rows = store.company_rows(kind, client)
        return [(r["id"], r.get("date") or r.get("name"), r.get("amount")) for r in rows]

    for kind in ("customer", "voucher", "invoice", "bankTransaction"):
        assert snapshot(first, kind) == snapshot(second, kind)


def test_it_seeds_empty_with_only_the_firm(control, api: Api) -> None:
    info = control("POST", "/reset", {"seed": "empty"}).json()

    assert info["client_company_ids"] == []
    assert control("GET", "/").json()["seed"] == "empty"
    assert api.get("/customer").status_code == 401  # reset drops sessions
    assert info["counts"].get("customer", 0) == 0
    assert info["counts"]["vatType"] > 0 and info["counts"]["employee"] == 7


def test_it_generates_ten_thousand_customers(sandbox: SandboxServer, control) -> None:
    response = control("POST", "/reset", {"seed": "empty", "customers": 10_000})
    token = control("POST", "/employee-tokens", {"expires_on": "2026-06-16"}).json()["token"]
    from .conftest import create_session

    session = create_session(sandbox, token).json()["value"]["token"]
    client = Api(sandbox, session)

    assert response.json()["counts"]["customer"] == 10_000
    assert client.get("/customer", isInactive="", count=0).json()["fullResultSize"] == 10_000
    page = client.values("/customer", isInactive="", count=1000, fields="id,name", **{"from": 9500})
    assert len(page) == 500


def test_it_adds_demo_clients_with_their_own_books(sandbox: SandboxServer) -> None:
    """For benchmarks that read many clients: each added client is the firm's, with a demo
    client's history of its own (its own vouchers, not another company's)."""
    store = sandbox.store
    before = store.company_clients(store.firm_company_id)
    added = store.add_demo_clients(2)
    assert store.company_clients(store.firm_company_id) == before + added
    assert len(set(added) - set(before)) == 2
    for company in added:
        vouchers = store.company_rows("voucher", company)
        assert vouchers and all(v["_company"] == company for v in vouchers)
