"""Orders, invoicing (`:invoice`, `sendToCustomer`) and payments (`:payment`)."""

from __future__ import annotations

from typing import Any

from integrations.tripletex.sandbox import SandboxServer

from .conftest import TODAY, Api


def _vat_id(api: Api, number: str) -> int:
    return api.values("/ledger/vatType", number=number, fields="id")[0]["id"]


def _order(api: Api, **overrides: Any) -> dict[str, Any]:
    customer = api.values("/customer", count=1, fields="id")[0]["id"]
    body = {
        "customer": {"id": customer},
        "orderDate": TODAY.isoformat(),
        "deliveryDate": TODAY.isoformat(),
        "reference": "uku-42",
        "orderLines": [
            {
                "description": "Regnskapsføring mai",
                "count": 2,
                "unitPriceExcludingVatCurrency": 1000,
                "vatType": {"id": _vat_id(api, "3")},
            },
            {
                "description": "Møtemat",
                "count": 1,
                "unitPriceExcludingVatCurrency": 200,
                "vatType": {"id": _vat_id(api, "31")},
                "discount": 10,
            },
        ],
    }
    body.update(overrides)
    return body


def _payment_type(api: Api) -> int:
    return api.values("/invoice/paymentType", fields="id")[0]["id"]


def test_it_creates_an_order_with_embedded_lines(api: Api) -> None:
    response = api.post("/order", _order(api), fields="*,orderLines(*)")

    assert response.status_code == 201, response.text
    order = response.json()["value"]
    assert order["reference"] == "uku-42"
    assert order["isClosed"] is False
    lines = order["orderLines"]
    assert [line["amountExcludingVatCurrency"] for line in lines] == [2000.0, 180.0]
    assert [line["amountIncludingVatCurrency"] for line in lines] == [2500.0, 207.0]
    plain = api.get(f"/order/{order['id']}").json()["value"]
    assert all(set(line) == {"id", "url"} for line in plain["orderLines"])
    assert api.get(f"/order/orderline/{lines[0]['id']}").json()["value"]["count"] == 2


def test_it_validates_orders(api: Api) -> None:
    missing = api.post("/order", {"orderLines": []})
    unknown_customer = api.post("/order", _order(api, customer={"id": 1}))
    unknown_field = api.post("/order", _order(api, yourReference="x"))
    wrong_vat = api.post(
        "/order",
        _order(
            api,
            orderLines=[
                {
                    "count": 1,
                    "unitPriceExcludingVatCurrency": 5,
                    "vatType": {"id": _vat_id(api, "1")},
                }
            ],
        ),
    )

    assert missing.status_code == 422
    assert {m["field"] for m in missing.json()["validationMessages"]} == {
        "customer",
        "orderDate",
        "deliveryDate",
    }
    assert unknown_customer.json()["validationMessages"][0]["field"] == "customer.id"
    assert (unknown_field.status_code, unknown_field.json()["code"]) == (422, 16000)
    assert wrong_vat.json()["validationMessages"][0]["field"] == "orderLines[0].vatType.id"


def test_it_enforces_the_amounts_including_vat_rule(api: Api) -> None:
    vat = {"id": _vat_id(api, "3")}
    excl_on_incl_order = api.post(
        "/order",
        _order(
            api,
            isPrioritizeAmountsIncludingVat=True,
            orderLines=[{"count": 1, "unitPriceExcludingVatCurrency": 100, "vatType": vat}],
        ),
    )
    incl_on_excl_order = api.post(
        "/order",
        _order(
            api, orderLines=[{"count": 1, "unitPriceIncludingVatCurrency": 125, "vatType": vat}]
        ),
    )
    incl_order = api.post(
        "/order",
        _order(
            api,
            isPrioritizeAmountsIncludingVat=True,
            orderLines=[{"count": 2, "unitPriceIncludingVatCurrency": 125, "vatType": vat}],
        ),
        fields="orderLines(*)",
    )

    assert excl_on_incl_order.status_code == incl_on_excl_order.status_code == 422
    assert (
        excl_on_incl_order.json()["validationMessages"][0]["field"]
        == "orderLines[0].unitPriceIncludingVatCurrency"
    )
    assert (
        incl_on_excl_order.json()["validationMessages"][0]["field"]
        == "orderLines[0].unitPriceExcludingVatCurrency"
    )
    line = incl_order.json()["value"]["orderLines"][0]
    assert (line["unitPriceExcludingVatCurrency"], line["amountIncludingVatCurrency"]) == (
        100.0,
        250.0,
    )


def test_it_updates_an_order_with_optimistic_locking(api: Api) -> None:
    order = api.post("/order", _order(api)).json()["value"]

    updated = api.put(f"/order/{order['id']}", {"version": order["version"], "reference": "uku-43"})
    stale = api.put(f"/order/{order['id']}", {"version": order["version"], "reference": "uku-44"})

    assert updated.status_code == 200
    assert updated.json()["value"]["reference"] == "uku-43"
    assert (stale.status_code, stale.json()["code"]) == (409, 8000)


def test_it_invoices_without_sending_and_takes_partial_and_full_payment(
    api: Api, sandbox: SandboxServer
) -> None:
    order = api.post("/order", _order(api)).json()["value"]
    before = api.values(
        "/invoice",
        invoiceDateFrom="2000-01-01",
        invoiceDateTo="2100-01-01",
        fields="invoiceNumber",
        sorting="-invoiceNumber",
        count=1,
    )[0]["invoiceNumber"]

    response = api.put(
        f"/order/{order['id']}/:invoice", invoiceDate=TODAY.isoformat(), sendToCustomer="false"
    )

    assert response.status_code == 200, response.text
    invoice = response.json()["value"]
    assert invoice["invoiceNumber"] == before + 1
    assert invoice["amount"] == invoice["amountOutstanding"] == 2707.0
    assert invoice["isCharged"] is True
    assert invoice["orders"][0]["id"] == order["id"]
    assert sandbox.store.sent_invoices() == []
    assert (sandbox.store.get("invoice", invoice["id"]) or {})["_sent_to_customer"] is False
    assert api.get(f"/order/{order['id']}").json()["value"]["isClosed"] is True
    again = api.put(
        f"/order/{order['id']}/:invoice", invoiceDate=TODAY.isoformat(), sendToCustomer="false"
    )
    assert again.status_code == 422

    path = f"/invoice/{invoice['id']}/:payment"
    partial = api.put(
        path, paymentDate=TODAY.isoformat(), paymentTypeId=_payment_type(api), paidAmount="1000"
    )
    assert partial.json()["value"]["amountOutstanding"] == 1707.0
    full = api.put(
        path, paymentDate=TODAY.isoformat(), paymentTypeId=_payment_type(api), paidAmount="1707"
    )
    assert full.json()["value"]["amountOutstanding"] == 0.0

    listed = api.values(
        "/invoice",
        invoiceDateFrom=TODAY.isoformat(),
        invoiceDateTo="2025-06-17",
        invoiceNumber=invoice["invoiceNumber"],
        fields="id,amountOutstanding",
    )
    assert listed == [{"id": invoice["id"], "amountOutstanding": 0.0}]


def test_it_sends_to_the_customer_by_default(api: Api, sandbox: SandboxServer, control) -> None:
    order = api.post("/order", _order(api)).json()["value"]

    response = api.put(f"/order/{order['id']}/:invoice", invoiceDate=TODAY.isoformat())

    invoice = response.json()["value"]
    sent = control("GET", "/sent-invoices").json()["invoices"]
    assert sent == sandbox.store.sent_invoices()
    assert [entry["invoice_id"] for entry in sent] == [invoice["id"]]
    assert sent[0]["recipient"]
    assert (sandbox.store.get("invoice", invoice["id"]) or {})["_sent_to_customer"] is True


def test_it_requires_invoice_date_and_valid_payment_type(api: Api) -> None:
    order = api.post("/order", _order(api)).json()["value"]
    no_date = api.put(f"/order/{order['id']}/:invoice", sendToCustomer="false")
    invoice = api.put(
        f"/order/{order['id']}/:invoice", invoiceDate=TODAY.isoformat(), sendToCustomer="false"
    ).json()["value"]
    bad_type = api.put(
        f"/invoice/{invoice['id']}/:payment",
        paymentDate=TODAY.isoformat(),
        paymentTypeId=1,
        paidAmount="10",
    )

    assert no_date.json()["validationMessages"][0]["field"] == "invoiceDate"
    assert bad_type.json()["validationMessages"][0]["field"] == "paymentTypeId"


def test_it_seeds_paid_partly_paid_and_unpaid_invoices(api: Api) -> None:
    invoices = api.values(
        "/invoice",
        invoiceDateFrom="2024-01-01",
        invoiceDateTo="2025-07-01",
        fields="amount,amountOutstanding",
    )

    assert any(i["amountOutstanding"] == 0 for i in invoices)
    assert any(0 < i["amountOutstanding"] < i["amount"] for i in invoices)
    assert any(i["amountOutstanding"] == i["amount"] for i in invoices)
