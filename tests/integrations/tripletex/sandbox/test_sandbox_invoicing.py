"""Orders becoming invoices (fact sheet 6.5, 6.6, quirk 20): VAT-free free-text lines, the bank
account before the first invoice, credit notes, reminder fees, and the control calls that play
the accountant for the invoice-status tests."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from integrations.tripletex.sandbox import SandboxServer, start_sandbox

from .conftest import TODAY, Api, create_session


def _customer(api: Api) -> int:
    return api.values("/customer", count=1, fields="id")[0]["id"]


def _vat_id(api: Api, number: str) -> int:
    return api.values("/ledger/vatType", number=number, fields="id")[0]["id"]


def _order(api: Api, lines: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    response = api.post(
        "/order",
        {
            "customer": {"id": _customer(api)},
            "orderDate": TODAY.isoformat(),
            "deliveryDate": TODAY.isoformat(),
            "reference": "uku-7",
            "orderLines": lines
            if lines is not None
            else [
                {
                    "description": "Rådgivning",
                    "count": 2,
                    "unitPriceExcludingVatCurrency": 500,
                    "vatType": {"id": _vat_id(api, "3")},
                }
            ],
            **extra,
        },
        fields="*,orderLines(*)",
    )
    assert response.status_code == 201, response.text
    return response.json()["value"]


def test_it_gives_a_line_without_product_and_vat_type_no_vat(api: Api) -> None:
    order = _order(
        api, [{"description": "Gebyr", "count": 1, "unitPriceExcludingVatCurrency": 100}]
    )

    line = order["orderLines"][0]
    assert line["vatType"] is None
    assert line["amountIncludingVatCurrency"] == line["amountExcludingVatCurrency"] == 100.0


def test_it_refuses_an_unknown_body_field_with_16000(api: Api) -> None:
    response = api.post(
        "/order",
        {"customer": {"id": _customer(api)}, "orderDate": "2025-06-16", "ourReference": "x"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == 16000
    assert response.json()["validationMessages"][0]["field"] == "ourReference"


def test_it_refuses_a_deactivated_contact_employee(api: Api, sandbox: SandboxServer) -> None:
    employee = next(
        e
        for e in sandbox.store.company_rows("employee", sandbox.store.firm_company_id)
        if e["id"] != sandbox.store.admin_employee_id
    )
    sandbox.store.deactivate_employee(employee["id"])
    response = api.post(
        "/order",
        {
            "customer": {"id": _customer(api)},
            "orderDate": "2025-06-16",
            "deliveryDate": "2025-06-16",
            "ourContactEmployee": {"id": employee["id"]},
        },
    )

    assert response.status_code == 422
    assert response.json()["validationMessages"][0]["field"] == "ourContactEmployee.id"


def test_it_refuses_the_first_invoice_of_a_company_without_a_bank_account_number() -> None:
    server = start_sandbox(seed="empty", today=TODAY)
    try:
        api = Api(server, create_session(server).json()["value"]["token"])
        firm = server.store.firm_company_id
        server.store.create_customer(firm, name="Kunde AS")
        control = f"{server.base_url}/_sandbox/companies/{firm}/bank-account"
        assert requests.post(control, json={"bank_account_number": None}, timeout=5).ok
        order = _order(api)

        refused = api.put(f"/order/{order['id']}/:invoice", invoiceDate="2025-06-16")
        assert refused.status_code == 422
        assert refused.json()["code"] == 18000
        assert "bankkontonummer" in refused.json()["validationMessages"][0]["message"]
        assert refused.json()["validationMessages"][0]["field"] is None

        requests.post(control, json={"bank_account_number": "15031234567"}, timeout=5)
        accepted = api.put(
            f"/order/{order['id']}/:invoice", invoiceDate="2025-06-16", sendToCustomer="false"
        )
        assert accepted.status_code == 200, accepted.text
    finally:
        server.stop()


def test_it_credits_an_invoice_with_a_credit_note(api: Api, sandbox: SandboxServer) -> None:
    order = _order(api)
    invoice = api.put(
        f"/order/{order['id']}/:invoice", invoiceDate="2025-06-16", sendToCustomer="false"
    ).json()["value"]

    response = api.put(f"/invoice/{invoice['id']}/:createCreditNote", date="2025-06-17")

    assert response.status_code == 200, response.text
    note = response.json()["value"]
    assert note["isCreditNote"] is True
    assert note["creditedInvoice"] == invoice["id"]
    assert note["amount"] == -invoice["amount"]
    listed = api.values(
        "/invoice",
        invoiceDateFrom="2025-06-16",
        invoiceDateTo="2025-06-18",
        fields="id,isCredited,isCreditNote,creditedInvoice,amountOutstanding,orders(id)",
    )
    original = next(row for row in listed if row["id"] == invoice["id"])
    assert original["isCredited"] is True
    assert original["creditedInvoice"] == 0  # an integer, 0 when none
    assert original["amountOutstanding"] == 0
    # sendToCustomer defaults to true for credit notes too
    assert [s["invoice_id"] for s in sandbox.store.sent_invoices()] == [note["id"]]
    assert (
        api.get(
            "/invoice",
            invoiceDateFrom="2025-06-16",
            invoiceDateTo="2025-06-18",
            fields="creditedInvoice(*)",
        ).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("state", "outstanding", "total", "credited"),
    [
        ("unpaid", 1250.0, 1250.0, False),
        ("partly_paid", 625.0, 625.0, False),
        ("paid", 0.0, 0.0, False),
        ("reminder", 0.0, 70.0, False),
        ("credited", 0.0, 0.0, True),
    ],
)
def test_its_control_call_turns_an_order_into_an_invoice_in_each_state(
    api: Api, control, state: str, outstanding: float, total: float, credited: bool
) -> None:
    order = _order(api)

    response = control("POST", f"/orders/{order['id']}/invoice", {"state": state})

    assert response.status_code == 201, response.text
    view = response.json()
    assert view["invoiceNumber"] > 0
    assert view["orders"] == [order["id"]]
    assert (view["amountOutstanding"], view["amountOutstandingTotal"]) == (outstanding, total)
    assert view["isCredited"] is credited
    assert (view["credit_note_id"] is not None) is credited


def test_a_reminder_fee_survives_the_payment_of_the_invoice(api: Api, control) -> None:
    order = _order(api)
    invoice = control("POST", f"/orders/{order['id']}/invoice", {"state": "unpaid"}).json()

    control("POST", f"/invoices/{invoice['id']}/reminder", {"fee": 35})
    paid = control("POST", f"/invoices/{invoice['id']}/payment", {"amount": 1250}).json()

    assert (paid["amountOutstanding"], paid["amountOutstandingTotal"]) == (0.0, 35.0)


def test_it_assigns_an_invoice_number_later(api: Api, control) -> None:
    order = _order(api)
    invoice = control(
        "POST", f"/orders/{order['id']}/invoice", {"state": "unpaid", "number_later": True}
    ).json()
    assert invoice["invoiceNumber"] == 0

    numbered = control("POST", f"/invoices/{invoice['id']}/assign-number").json()

    assert numbered["invoiceNumber"] > 0
    again = control("POST", f"/invoices/{invoice['id']}/assign-number").json()
    assert again["invoiceNumber"] == numbered["invoiceNumber"]


def test_a_company_not_registered_for_vat_has_only_code_6(
    api: Api, control, sandbox: SandboxServer
) -> None:
    firm = sandbox.store.firm_company_id
    code_3 = _vat_id(api, "3")
    assert control("POST", f"/companies/{firm}/vat-registration", {"registered": False}).ok

    usable = api.values("/ledger/vatType", typeOfVat="OUTGOING", fields="number")
    response = api.post(
        "/order",
        {
            "customer": {"id": _customer(api)},
            "orderDate": "2025-06-16",
            "deliveryDate": "2025-06-16",
            "orderLines": [
                {"count": 1, "unitPriceExcludingVatCurrency": 5, "vatType": {"id": code_3}}
            ],
        },
    )

    assert [row["number"] for row in usable] == ["6"]
    assert response.status_code == 422
    assert response.json()["validationMessages"][0] == {
        "field": "orderLines[0].vatType.id",
        "message": "Ugyldig mva-kode.",
        "path": None,
        "rootId": None,
    }
    control("POST", f"/companies/{firm}/vat-registration", {"registered": True})
    assert len(api.values("/ledger/vatType", typeOfVat="OUTGOING", fields="number")) > 1


def test_its_control_calls_refuse_unknown_ids_and_states(api: Api, control) -> None:
    assert control("POST", "/orders/1/invoice", {"state": "paid"}).status_code == 404
    order = _order(api)
    assert control("POST", f"/orders/{order['id']}/invoice", {"state": "lost"}).status_code == 400
