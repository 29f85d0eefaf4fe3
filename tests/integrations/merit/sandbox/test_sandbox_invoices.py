"""sendinvoice and state: what is written is visible in later reads; Merit's checks refuse bad invoices."""

from __future__ import annotations

import pytest

from integrations.merit.sandbox import SandboxServer

from .conftest import DAY, Merit, tax_id
from .conftest import sample_invoice as _invoice


def test_it_creates_an_invoice_and_a_new_customer_visible_in_later_reads(merit: Merit) -> None:
    answer = merit.json("sendinvoice", _invoice(merit))

    assert set(answer) == {"CustomerId", "InvoiceId", "InvoiceNo", "RefNo", "NewCustomer"}
    assert answer["InvoiceNo"] == "UKU-1" and answer["NewCustomer"] is True
    listed = merit.json("getinvoices", DAY)
    mine = next(i for i in listed if i["SIHId"] == answer["InvoiceId"])
    assert (mine["TotalAmount"], mine["TaxAmount"], mine["TotalSum"], mine["Paid"]) == (
        20.99,
        4.62,
        25.61,
        False,
    )
    assert mine["DueDate"] == "2025-06-26T10:15:00"
    customer = merit.json("getcustomers", {"Id": answer["CustomerId"]})[0]
    assert (customer["Name"], customer["RegNo"], customer["Email"]) == (
        "Uus Klient OÜ",
        "16543212",
        "arved@uusklient.example",
    )
    detail = merit.json("getinvoice", {"Id": answer["InvoiceId"], "AddAttachment": False})
    assert [line["VatAmount"] for line in detail["Lines"]] == [4.4, 0.22]


def test_it_adds_an_unknown_item_from_the_invoice_row(merit: Merit) -> None:
    assert merit.json("getitems", {"Code": "UUS-1"}) == []

    merit.json("sendinvoice", _invoice(merit))

    item = merit.json("getitems", {"Code": "UUS-1"})[0]
    assert (item["Name"], item["TypeCode"], item["Type"], item["UnitofMeasureName"]) == (
        "Uus teenus",
        2,
        "Teenus",
        "tk",
    )


def test_it_posts_the_invoice_to_the_general_ledger(merit: Merit) -> None:
    before = len(merit.json("getglbatches", DAY))

    merit.json("sendinvoice", _invoice(merit))

    batches = merit.json("GetGLBatchesFull", DAY)
    assert len(batches) == before + 1
    batch = next(b for b in batches if b["Document"] == "UKU-1")
    assert batch["BatchCode"] == "MA" and batch["TotalAmount"] == 25.61
    assert sum(e["CreditAmount"] for e in batch["Entries"] if e["TaxId"]) == pytest.approx(25.61)


def test_it_invoices_an_existing_customer_by_id(merit: Merit) -> None:
    customer = merit.json("getcustomers", {"Name": "Kase"})[0]
    count = len(merit.json("getcustomers"))

    answer = merit.json("sendinvoice", _invoice(merit, Customer={"Id": customer["CustomerId"]}))

    assert answer["CustomerId"] == customer["CustomerId"] and answer["NewCustomer"] is None
    assert len(merit.json("getcustomers")) == count


def test_it_records_a_payment_sent_with_the_invoice(merit: Merit) -> None:
    payment = {"PaymentMethod": "Swedbank", "PaidAmount": "25.61", "PaymDate": "20250616120000"}

    answer = merit.json("sendinvoice", _invoice(merit, Payment=payment))

    invoice = next(i for i in merit.json("getinvoices", DAY) if i["SIHId"] == answer["InvoiceId"])
    assert invoice["Paid"] is True and invoice["PaidAmount"] == 25.61
    assert any(
        p["DocumentNo"] == "UKU-1" and p["Direction"] == 1 for p in merit.json("getpayments", DAY)
    )


def test_it_refuses_a_payment_above_the_invoice_total(merit: Merit) -> None:
    response = merit.call(
        "sendinvoice", _invoice(merit, Payment={"PaymentMethod": "Swedbank", "PaidAmount": 25.62})
    )

    assert response.status_code == 400
    assert "PaidAmount" in response.json()["Message"]
    assert merit.json("getinvoices", {**DAY, "UnPaid": False}) == merit.json("getinvoices", DAY)
    assert not any(i["InvoiceNo"] == "UKU-1" for i in merit.json("getinvoices", DAY))


def test_it_refuses_rows_that_do_not_sum_up(merit: Merit) -> None:
    # 20.99 is right only with each row rounded first; a caller summing raw values gets it wrong.
    response = merit.call("sendinvoice", _invoice(merit, TotalAmount=21.00))

    assert (response.status_code, response.json()) == (
        400,
        {"Message": "INVOICE ROWS DOES NOT SUM UP"},
    )


def test_it_refuses_vat_that_does_not_sum_up(merit: Merit) -> None:
    tax = tax_id(merit)

    response = merit.call(
        "sendinvoice", _invoice(merit, TaxAmount=[{"TaxId": tax, "Amount": 4.61}])
    )

    assert response.status_code == 400
    assert response.json()["Message"] == "TAX AMOUNTS DOES NOT SUM UP"


def test_vat_is_rounded_per_row_before_summing(merit: Merit) -> None:
    tax = tax_id(merit)
    row = {
        "Item": {"Code": "DOK", "Description": "Sisestus"},
        "Quantity": 1,
        "Price": 0.99,
        "TaxId": tax,
    }
    rows = {"InvoiceRow": [row, row, row], "TotalAmount": 2.97}

    # 3 x round(0.2178) = 0.66; rounding the sum instead (0.6534) gives 0.65, which Merit refuses.
    summed = merit.call(
        "sendinvoice", _invoice(merit, **rows, TaxAmount=[{"TaxId": tax, "Amount": 0.65}])
    )
    per_row = merit.call(
        "sendinvoice", _invoice(merit, **rows, TaxAmount=[{"TaxId": tax, "Amount": 0.66}])
    )

    assert summed.status_code == 400
    assert per_row.status_code == 200, per_row.text


def test_it_refuses_an_unknown_tax_id(merit: Merit) -> None:
    invoice = _invoice(merit)
    invoice["InvoiceRow"][0]["TaxId"] = "11111111-2222-4333-8444-555555555555"

    response = merit.call("sendinvoice", invoice)

    assert response.status_code == 400
    assert "Tax" in response.json()["Message"]


def test_it_refuses_a_tax_id_from_another_instance(merit: Merit) -> None:
    finnish_tax = merit.as_country("FI").json("gettaxes")[0]["Id"]
    invoice = _invoice(merit)
    invoice["InvoiceRow"][0]["TaxId"] = finnish_tax

    assert merit.call("sendinvoice", invoice).status_code == 400


@pytest.mark.parametrize("dropped", ["InvoiceNo", "Customer", "InvoiceRow", "TaxAmount"])
def test_it_answers_404_for_a_missing_required_field(merit: Merit, dropped: str) -> None:
    invoice = _invoice(merit)
    del invoice[dropped]

    assert merit.call("sendinvoice", invoice).status_code == 404


@pytest.mark.parametrize("dropped", ["Name", "NotTDCustomer", "CountryCode"])
def test_a_new_customer_needs_name_private_flag_and_country(merit: Merit, dropped: str) -> None:
    invoice = _invoice(merit)
    del invoice["Customer"][dropped]

    assert merit.call("sendinvoice", invoice).status_code == 404
    assert merit.json("getcustomers", {"Name": "Uus Klient"}) == []


def test_it_refuses_an_unknown_customer_id(merit: Merit) -> None:
    response = merit.call(
        "sendinvoice", _invoice(merit, Customer={"Id": "11111111-2222-4333-8444-555555555555"})
    )

    assert response.status_code == 400


def test_it_refuses_a_duplicate_or_too_long_invoice_number(merit: Merit) -> None:
    merit.json("sendinvoice", _invoice(merit))

    again = merit.call("sendinvoice", _invoice(merit))
    too_long = merit.call("sendinvoice", _invoice(merit, InvoiceNo="X" * 36))

    assert again.status_code == 400 and "UKU-1" in again.json()["Message"]
    assert too_long.status_code == 400
    assert merit.call("sendinvoice", _invoice(merit, InvoiceNo="X" * 35)).status_code == 200


def test_an_invoice_without_rows_gets_200_with_a_stack_trace_and_is_not_stored(
    merit: Merit,
) -> None:
    response = merit.call("sendinvoice", _invoice(merit, InvoiceRow=[]))

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "NullReferenceException" in response.text
    with pytest.raises(ValueError):
        response.json()
    assert not any(i["InvoiceNo"] == "UKU-1" for i in merit.json("getinvoices", DAY))


def test_a_body_that_is_not_json_gets_a_500_format_exception(merit: Merit) -> None:
    response = merit.call("sendinvoice", body='{"InvoiceNo": ')

    assert response.status_code == 500
    assert response.json()["ErrorCode"] == "FormatException"


def test_the_control_api_registers_a_customer_payment(merit: Merit, control) -> None:
    answer = merit.json("sendinvoice", _invoice(merit))

    paid = control(
        "POST",
        f"/invoices/{answer['InvoiceId']}/payments",
        {"amount": "10.00", "date": "2025-06-16"},
    )

    assert paid.status_code == 201 and paid.json()["Direction"] == 1
    detail = merit.json("getinvoice", {"Id": answer["InvoiceId"], "AddAttachment": False})
    assert [p["Amount"] for p in detail["Payments"]] == [10.0]
    assert detail["Header"]["Paid"] is False
    control("POST", f"/invoices/{answer['InvoiceId']}/payments", {})  # the rest
    assert (
        merit.json("getinvoice", {"Id": answer["InvoiceId"], "AddAttachment": False})["Header"][
            "Paid"
        ]
        is True
    )
    assert control("POST", f"/invoices/{answer['InvoiceId']}/payments", {}).status_code == 400


def test_customers_created_or_changed_in_merit_appear_in_changed_since(
    sandbox: SandboxServer, merit: Merit, control
) -> None:
    today = sandbox.store.now().strftime("%Y%m%d")
    existing = merit.json("getcustomers")[0]

    created = control("POST", "/customers", {"Name": "Värske Klient OÜ", "RegNo": "16543212"})
    changed = control("PUT", f"/customers/{existing['CustomerId']}", {"Email": "uus@example.ee"})

    assert created.status_code == 201 and changed.status_code == 200
    found = {c["CustomerId"]: c for c in merit.json("getcustomers", {"ChangedDate": today})}
    assert created.json()["CustomerId"] in found
    assert found[existing["CustomerId"]]["Email"] == "uus@example.ee"
    assert (
        control("PUT", f"/customers/{existing['CustomerId']}", {"_changed": 1}).status_code == 400
    )


def test_a_reset_forgets_what_was_written(merit: Merit, control) -> None:
    merit.json("sendinvoice", _invoice(merit))

    control("POST", "/reset", {"seed": "demo"})

    assert merit.json("getcustomers", {"Name": "Uus Klient"}) == []
    assert merit.json("getitems", {"Code": "UUS-1"}) == []


def test_it_applies_row_discounts_before_vat(merit: Merit) -> None:
    tax = tax_id(merit)
    row = {
        "Item": {"Code": "KONS", "Description": "Konsultatsioon"},
        "Quantity": 3,
        "Price": 65,
        "DiscountPct": 10,
        "TaxId": tax,
    }

    # 3 x 65 = 195, less 10 % = 175.50, VAT 22 % = 38.61
    answer = merit.json(
        "sendinvoice",
        _invoice(
            merit, InvoiceRow=[row], TotalAmount=175.5, TaxAmount=[{"TaxId": tax, "Amount": 38.61}]
        ),
    )

    header = merit.json("getinvoice", {"Id": answer["InvoiceId"], "AddAttachment": False})["Header"]
    assert (header["TotalAmount"], header["TaxAmount"]) == (175.5, 38.61)


def test_it_refuses_an_unknown_item_type(merit: Merit) -> None:
    invoice = _invoice(merit)
    invoice["InvoiceRow"][1]["Item"]["Type"] = 7

    assert merit.call("sendinvoice", invoice).status_code == 400


def test_a_payment_needs_a_paid_amount(merit: Merit) -> None:
    assert (
        merit.call(
            "sendinvoice", _invoice(merit, Payment={"PaymentMethod": "Swedbank"})
        ).status_code
        == 404
    )


def test_it_matches_nested_invoice_fields_case_insensitively(merit: Merit) -> None:
    invoice = _invoice(merit)
    invoice["invoicerow"] = invoice.pop("InvoiceRow")
    invoice["invoicerow"][0]["item"] = invoice["invoicerow"][0].pop("Item")

    assert merit.call("sendinvoice", invoice).status_code == 200


def test_the_control_api_needs_a_name_for_a_new_customer(control) -> None:
    assert control("POST", "/customers", {"RegNo": "16543212"}).status_code == 400
    assert control("POST", "/customers", {"Name": "X", "Nonsense": 1}).status_code == 400


def test_its_credit_control_call_books_a_credit_invoice_and_offsets_both(
    merit: Merit, control
) -> None:
    answer = merit.json("sendinvoice", _invoice(merit))

    response = control("POST", f"/invoices/{answer['InvoiceId']}/credit", {"date": "2025-06-17"})

    assert response.status_code == 201, response.text
    note = response.json()
    assert note["InvoiceNo"] == "UKU-1-K"
    assert note["TotalSum"] == -25.61
    window = {"PeriodStart": "20250616", "PeriodEnd": "20250617"}
    listed = {i["SIHId"]: i for i in merit.json("getinvoices", window)}
    original, credit = listed[answer["InvoiceId"]], listed[note["SIHId"]]
    assert (original["Paid"], original["PaidAmount"]) == (True, 25.61)
    assert (credit["Paid"], credit["CustomerId"]) == (True, original["CustomerId"])
    detail = merit.json("getinvoice", {"Id": answer["InvoiceId"], "AddAttachment": False})
    assert detail["Payments"] == []  # offset by the credit invoice, not paid from a bank
    again = control("POST", f"/invoices/{answer['InvoiceId']}/credit")
    assert again.status_code == 400
    assert control("POST", f"/invoices/{note['SIHId']}/credit").status_code == 400
    assert (
        control("POST", "/invoices/0b7f3a2e-1111-4222-8333-944455566677/credit").status_code == 404
    )
