"""The sandbox's bookkeeping for work statistics has Tripletex's shapes (fact sheet 6.7), and its
control call tells the true counts."""

from __future__ import annotations

from typing import Any

import requests

from integrations.tripletex.sandbox import SandboxServer
from integrations.tripletex.sandbox.bookkeeping import BUSY_CLIENT, BUSY_MONTH_VOUCHERS

from .conftest import Api

MAY = {"dateFrom": "2025-05-01", "dateTo": "2025-06-01"}


def clients(sandbox: SandboxServer) -> list[int]:
    return sandbox.store.company_clients(sandbox.store.firm_company_id)


def statistics(sandbox: SandboxServer, **params: Any) -> requests.Response:
    return requests.get(f"{sandbox.base_url}/_sandbox/statistics", params=params, timeout=10)


def test_it_gives_each_company_its_own_voucher_type_ids(api: Api, sandbox: SandboxServer) -> None:
    per_company = [
        {t["name"]: t["id"] for t in api.as_company(c).values("/ledger/voucherType")}
        for c in clients(sandbox)[:2]
    ]

    for name in ("Utgående faktura", "Leverandørfaktura", "Lønnsbilag", "Reiseregning"):
        assert per_company[0][name] != per_company[1][name]
    assert "Ansattutlegg" in per_company[0]


def test_it_has_ehf_manual_unposted_and_typed_vouchers(api: Api, sandbox: SandboxServer) -> None:
    client = api.as_company(clients(sandbox)[0])
    fields = "id,number,tempNumber,numberAsString,voucherType(name),document,attachment,ediDocument"
    vouchers = client.values("/ledger/voucher", fields=fields, **MAY)
    names = {(v["voucherType"] or {}).get("name") for v in vouchers}

    assert {"Utgående faktura", "Leverandørfaktura", "Lønnsbilag", None} <= names
    ehf = [v for v in vouchers if v["ediDocument"]]
    assert ehf and all(v["attachment"] and v["document"] is None for v in ehf)
    unposted = [v for v in vouchers if v["number"] == 0]
    assert unposted
    assert all(v["numberAsString"] == f"<Ikke bokført {v['tempNumber']}>" for v in unposted)
    non_posted = client.values("/ledger/voucher/>nonPosted", includeNonApproved="true", **MAY)
    assert sorted(v["id"] for v in non_posted) == sorted(v["id"] for v in unposted)
    assert client.get("/ledger/voucher/>nonPosted").status_code == 422  # includeNonApproved


def test_it_has_negative_supplier_invoices_and_credit_notes(
    api: Api, sandbox: SandboxServer
) -> None:
    client = api.as_company(clients(sandbox)[1])
    year = {"invoiceDateFrom": "2024-06-01", "invoiceDateTo": "2025-06-01"}
    supplier = client.values(
        "/supplierInvoice", fields="amount,amountExcludingVat,outstandingAmount", **year
    )
    invoices = client.values("/invoice", fields="id,isCreditNote,isCredited,amount", **year)

    negative = [s for s in supplier if s["amount"] < 0]
    assert negative and all(s["amountExcludingVat"] < 0 <= s["outstandingAmount"] for s in negative)
    credit = [i for i in invoices if i["isCreditNote"]]
    assert credit and all(c["amount"] < 0 for c in credit)
    assert any(i["isCredited"] for i in invoices)


def test_it_has_statements_that_start_before_their_month(api: Api, sandbox: SandboxServer) -> None:
    client = api.as_company(clients(sandbox)[1])
    statements = client.values("/bank/statement", fields="id,fromDate,toDate")
    across = next(s for s in statements if s["fromDate"] == "2025-04-15")
    posted = {
        t["postedDate"][:7]
        for t in client.values("/bank/statement/transaction", bankStatementId=across["id"])
    }

    assert across["toDate"] == "2025-05-14" and posted == {"2025-04", "2025-05"}


def test_it_tells_the_true_counts_of_a_client_month(sandbox: SandboxServer) -> None:
    busy = clients(sandbox)[BUSY_CLIENT]
    store = sandbox.store

    response = statistics(sandbox, company=busy, period="2025-05")

    body = response.json()
    assert response.status_code == 200 and body["company_id"] == busy
    counts = body["statistics"]
    assert counts["all_vouchers"] > BUSY_MONTH_VOUCHERS > 1000
    may = [v for v in store.company_rows("voucher", busy) if v["date"].startswith("2025-05")]
    assert counts["all_vouchers"] == len(may)
    assert counts["manual_journal_entries"] == sum(v["voucherType"] is None for v in may)
    assert statistics(sandbox, company=busy, period="2025-13").status_code == 400
    assert statistics(sandbox, company=1, period="2025-05").status_code == 404


def test_it_refuses_an_endpoint_with_a_forbidden_fault(api: Api, sandbox: SandboxServer) -> None:
    client = api.as_company(clients(sandbox)[0])
    sandbox.store.inject_fault("forbidden", "/bank/statement")

    refused = client.get("/bank/statement")

    assert refused.status_code == 403 and refused.json()["code"] == 9000
    assert client.get("/bank/statement").status_code == 200
