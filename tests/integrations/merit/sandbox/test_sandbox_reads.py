"""The read endpoints: taxes, items, customers, invoices, payments, purchase invoices, GL, banks."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
import requests

from integrations.merit import signing
from integrations.merit.sandbox import SandboxServer

from .conftest import Merit, demo_client

TAX_FIELDS = {"Id", "Code", "Name", "NameEN", "NameRU", "TaxPct", "NonActive", "TaxType"}
ITEM_FIELDS = {
    "ItemId", "Code", "Name", "UnitofMeasureName", "Type", "SalesPrice", "InventoryQty",
    "ReservedQty", "VatTaxName", "Usage", "SalesAccountCode", "PurchaseAccountCode",
    "InventoryAccountCode", "ItemCostAccountCode", "DiscountPct", "LastPurchasePrice",
    "ItemUnitCost", "InventoryCost", "ItemGroupName", "DefLoc_Name", "EANCode", "TypeCode",
    "UsageCode", "GTUCodes",
}  # fmt: skip
CUSTOMER_FIELDS = {
    "CustomerId", "Name", "RegNo", "Contact", "PhoneNo", "PhoneNo2", "Address", "City", "County",
    "PostalCode", "CountryCode", "CountryName", "FaxNo", "Email", "HomePage", "PaymentDeadLine",
    "OverdueCharge", "CurrencyCode", "CustomerGroupName", "VatRegNo", "BankName", "BankAccount",
    "NotTDCustomer", "SalesInvLang", "RefNoBase", "Comments", "Dimensions",
}  # fmt: skip
INVOICE_LIST_FIELDS = {
    "SIHId", "DepartmentCode", "DepartmentName", "ProjectCode", "ProjectName", "BatchInfo",
    "InvoiceNo", "DocumentDate", "TransactionDate", "CustomerId", "CustomerName", "CustomerRegNo",
    "HComment", "FComment", "DueDate", "CurrencyCode", "CurrencyRate", "TaxAmount",
    "RoundingAmount", "TotalAmount", "ProfitAmount", "TotalSum", "UserName", "ReferenceNo",
    "PriceInclVat", "VatRegNo", "PaidAmount", "EInvSent", "EmailSent", "Paid",
}  # fmt: skip
Q1 = {"PeriodStart": "20250101", "PeriodEnd": "20250331"}


# ------------------------------------------------------------------ taxes
def test_it_lists_estonian_vat_codes_with_merits_fields(reader: Merit) -> None:
    taxes = reader.json("gettaxes")

    assert all(set(tax) == TAX_FIELDS for tax in taxes)
    assert all(uuid.UUID(tax["Id"]) for tax in taxes)
    assert all(isinstance(tax["TaxPct"], int | float) for tax in taxes)
    by_pct = {tax["TaxPct"]: tax for tax in taxes if tax["TaxType"] == 1}
    assert {24, 22, 13, 9, 0} <= set(by_pct)
    assert by_pct[20]["NonActive"] is True
    assert {tax["TaxType"] for tax in taxes} >= {1, 2, 5, 6}


@pytest.mark.parametrize(
    ("country", "rates"), [("FI", {25.5, 14, 13.5, 10, 0}), ("PL", {23, 8, 5, 0})]
)
def test_each_instance_has_its_own_countrys_vat_codes(
    shared: SandboxServer, country: str, rates: set[float]
) -> None:
    taxes = demo_client(shared, country).json("gettaxes")

    assert rates <= {tax["TaxPct"] for tax in taxes}
    assert not {tax["Id"] for tax in taxes} & {
        tax["Id"] for tax in demo_client(shared).json("gettaxes")
    }


def test_it_ignores_filters_on_gettaxes(reader: Merit) -> None:
    assert reader.json("gettaxes", {"Code": "24%"}) == reader.json("gettaxes")


# ------------------------------------------------------------------ items
def test_it_lists_items_with_localised_type_strings_and_numeric_codes(reader: Merit) -> None:
    items = reader.json("getitems")

    assert len(items) >= 10
    assert all(set(item) == ITEM_FIELDS for item in items)
    types = {item["TypeCode"]: item["Type"] for item in items}
    assert types == {1: "Laokaup", 2: "Teenus", 3: "Kaup"}
    assert {item["UsageCode"] for item in items} == {1}


def test_it_filters_items_by_exact_code_and_broad_description(reader: Merit) -> None:
    assert [i["Code"] for i in reader.json("getitems", {"Code": "KONS"})] == ["KONS"]
    assert reader.json("getitems", {"Code": "kons"}) == []
    found = reader.json("getitems", {"Description": "DEKLARATS"})
    assert {i["Code"] for i in found} == {"KMD", "TD"}


def test_an_item_id_makes_the_other_filters_ignored(reader: Merit) -> None:
    item = reader.json("getitems", {"Code": "PAB-A4"})[0]

    found = reader.json("getitems", {"Id": item["ItemId"].upper(), "Code": "nonsense"})

    assert [i["ItemId"] for i in found] == [item["ItemId"]]


def test_a_location_code_selects_the_stock_quantities(reader: Merit) -> None:
    main = reader.json("getitems", {"Code": "PAB-A4"})[0]
    second = reader.json("getitems", {"Code": "PAB-A4", "LocationCode": "2"})[0]
    nowhere = reader.json("getitems", {"Code": "PAB-A4", "LocationCode": "99"})[0]

    assert (
        main["InventoryQty"]
        == reader.json("getitems", {"Code": "PAB-A4", "LocationCode": "1"})[0]["InventoryQty"]
    )
    assert second["InventoryQty"] != main["InventoryQty"]
    assert nowhere["InventoryQty"] == 0


def test_polish_services_carry_a_gtu_code(shared: SandboxServer) -> None:
    items = demo_client(shared, "PL").json("getitems")

    assert {i["GTUCodes"] for i in items if i["TypeCode"] == 2} == {"GTU_12"}
    assert {i["Type"] for i in items} == {"Towar magazynowy", "Usługa", "Towar"}


# -------------------------------------------------------------- customers
def test_it_lists_every_customer_with_merits_fields(reader: Merit) -> None:
    customers = reader.json("getcustomers")

    assert len(customers) == 200
    assert all(set(c) == CUSTOMER_FIELDS for c in customers)
    assert all(c["Comments"] is None for c in customers)


def test_it_filters_customers_by_broad_name_case_insensitively(reader: Merit) -> None:
    found = reader.json("getcustomers", {"Name": "õunapuu"})

    assert found
    assert all("õunapuu" in c["Name"].lower() for c in found)


@pytest.mark.parametrize("field", ["RegNo", "VatRegNo"])
def test_it_filters_customers_by_exact_registry_and_vat_number(reader: Merit, field: str) -> None:
    target = next(c for c in reader.json("getcustomers") if c[field])

    found = reader.json("getcustomers", {field: target[field]})
    assert [c["CustomerId"] for c in found] == [target["CustomerId"]]
    assert reader.json("getcustomers", {field: target[field][:-1]}) == []


def test_a_customer_id_makes_the_other_filters_ignored(reader: Merit) -> None:
    target = reader.json("getcustomers")[7]

    found = reader.json("getcustomers", {"Id": target["CustomerId"], "Name": "zzz-no-such"})

    assert [c["CustomerId"] for c in found] == [target["CustomerId"]]


def test_it_filters_customers_changed_since_a_date(reader: Merit, shared: SandboxServer) -> None:
    rows = shared.store.firm("EE").customers.values()
    cutoff = sorted(row["_changed"] for row in rows)[150].date()

    found = reader.json("getcustomers", {"ChangedDate": cutoff.strftime("%Y%m%d")})

    expected = {row["CustomerId"] for row in rows if row["_changed"].date() >= cutoff}
    assert {c["CustomerId"] for c in found} == expected
    assert 0 < len(found) < 200


def test_it_returns_comments_only_when_asked(reader: Merit) -> None:
    with_comments = reader.json("getcustomers", {"WithComments": "true"})

    assert all(isinstance(c["Comments"], list) for c in with_comments)
    commented = [c for c in with_comments if c["Comments"]]
    assert commented
    assert set(commented[0]["Comments"][0]) == {"Comment", "CommDate"}
    later = reader.json("getcustomers", {"WithComments": True, "CommentsFrom": "20990101"})
    assert all(c["Comments"] == [] for c in later)


def test_it_matches_request_fields_case_insensitively(reader: Merit) -> None:
    assert reader.json("getcustomers", {"name": "Kase"}) == reader.json(
        "getcustomers", {"NAME": "Kase"}
    )
    assert reader.json("getinvoices", {"Periodstart": "20250101", "periodend": "20250131"}) == (
        reader.json("getinvoices", {"PeriodStart": "20250101", "PeriodEnd": "20250131"})
    )


# --------------------------------------------------------------- invoices
def test_it_lists_sales_invoices_of_a_period_with_paid_status(reader: Merit) -> None:
    invoices = reader.json("getinvoices", Q1)

    assert invoices
    assert all(set(i) == INVOICE_LIST_FIELDS for i in invoices)
    assert all("2025-01-01" <= i["DocumentDate"][:10] <= "2025-03-31" for i in invoices)
    assert all(i["Paid"] == (i["PaidAmount"] >= i["TotalSum"]) for i in invoices)
    assert {i["EmailSent"] for i in invoices} == {"1901-01-01T00:00:00"}
    total = sum(Decimal(str(i["TotalAmount"])) + Decimal(str(i["TaxAmount"])) for i in invoices)
    assert total == sum(Decimal(str(i["TotalSum"])) for i in invoices)


def test_it_lists_only_unpaid_invoices_when_asked(reader: Merit) -> None:
    recent = {"PeriodStart": "20250501", "PeriodEnd": "20250616"}
    every = reader.json("getinvoices", recent)

    unpaid = reader.json("getinvoices", {**recent, "UnPaid": True})

    assert unpaid
    assert {i["SIHId"] for i in unpaid} == {i["SIHId"] for i in every if not i["Paid"]}
    assert len(unpaid) < len(every)


def test_it_shows_one_invoice_with_lines_and_payments(reader: Merit) -> None:
    paid = next(i for i in reader.json("getinvoices", Q1) if i["Paid"])

    invoice = reader.json("getinvoice", {"Id": paid["SIHId"], "AddAttachment": False})

    assert set(invoice) == {"Header", "Lines", "Payments", "Attachment"}
    assert invoice["Header"]["InvoiceNo"] == paid["InvoiceNo"]
    assert {"Dimensions", "AccountingDoc", "ContractNo", "Contact", "PerSHId"} <= set(
        invoice["Header"]
    )
    assert sum(line["AmountExclVat"] for line in invoice["Lines"]) == pytest.approx(
        paid["TotalAmount"]
    )
    assert sum(p["Amount"] for p in invoice["Payments"]) == pytest.approx(paid["PaidAmount"])
    assert set(invoice["Payments"][0]) == {"PaymDate", "Amount", "PaymentMethod", "PaymentId"}


def test_getinvoice_needs_both_id_and_addattachment(reader: Merit) -> None:
    some = reader.json("getinvoices", Q1)[0]["SIHId"]

    assert reader.call("getinvoice", {"Id": some}).status_code == 404
    assert reader.call("getinvoice", {"AddAttachment": False}).status_code == 404
    unknown = reader.call("getinvoice", {"Id": str(uuid.uuid4()), "AddAttachment": False})
    assert unknown.status_code == 400


def test_it_lists_payments_in_both_directions(reader: Merit) -> None:
    payments = reader.json("getpayments", Q1)

    assert {p["Direction"] for p in payments} >= {1, 2, 4}
    assert all("PHId" in p and "PIHId" not in p for p in payments)
    customer = next(p for p in payments if p["Direction"] == 1)
    assert customer["CounterPartType"] == 2


def test_it_lists_purchase_invoices_and_their_unpaid_subset(reader: Merit) -> None:
    recent = {"PeriodStart": "20250501", "PeriodEnd": "20250616"}
    purchases = reader.json("getpurchorders", recent)

    assert purchases
    assert purchases[0]["InboundTime"] == "0001-01-01T00:00:00"
    unpaid = reader.json("getpurchorders", {**recent, "UnPaid": True})
    assert {p["PIHId"] for p in unpaid} == {p["PIHId"] for p in purchases if not p["Paid"]}


# --------------------------------------------------------------------- GL
def test_it_lists_gl_batches_and_one_batch_in_detail(reader: Merit) -> None:
    batches = reader.json("getglbatches", Q1)

    assert {b["BatchCode"] for b in batches} >= {"MA", "OS", "PN", "KK"}
    assert "Entries" not in batches[0]
    detail = reader.json("getglbatch", {"Id": batches[0]["GLBId"], "AddAttachment": False})
    assert detail["Header"]["GLBId"] == batches[0]["GLBId"]
    lines = detail["Lines"]
    assert sum(line["DebitAmount"] for line in lines) == pytest.approx(
        sum(line["CreditAmount"] for line in lines)
    )


def test_the_full_gl_list_has_balanced_entries_with_vat_codes(reader: Merit) -> None:
    batches = reader.json(
        "GetGLBatchesFull", {"PeriodStart": "20250101", "PeriodEnd": "20250131", "WithLines": 1}
    )

    assert batches
    for batch in batches:
        entries = batch["Entries"]
        assert sum(e["DebitAmount"] for e in entries) == pytest.approx(
            sum(e["CreditAmount"] for e in entries)
        )
    sales = [b for b in batches if b["BatchCode"] == "MA"]
    assert sales and all(b["DocId"] and b["ChangedDate"] for b in sales)
    vat_entries = [e for b in sales for e in b["Entries"] if e["TaxId"]]
    assert vat_entries and all(e["TaxPct"] is not None for e in vat_entries)
    assert "AccontName" in batches[0]["Entries"][0]  # Merit's own spelling


def test_the_full_gl_list_leaves_out_lines_when_asked(reader: Merit) -> None:
    batches = reader.json(
        "getglbatchesfull", {"PeriodStart": "20250101", "PeriodEnd": "20250131", "WithLines": 0}
    )

    assert batches and all(b["Entries"] is None for b in batches)


def test_finnish_full_gl_rows_have_no_estonian_only_fields(shared: SandboxServer) -> None:
    batches = demo_client(shared, "FI").json(
        "getglbatchesfull", {"PeriodStart": "20250101", "PeriodEnd": "20250131"}
    )

    assert batches
    assert "DocId" not in batches[0] and "ChangedDate" not in batches[0]
    assert "TaxPct" not in batches[0]["Entries"][0]


def test_it_lists_banks(reader: Merit) -> None:
    banks = reader.json("getbanks")

    assert {b["Name"] for b in banks} == {"Swedbank", "SEB"}
    assert set(banks[0]) == {"BankId", "Name", "IBANCode", "Description", "CurrencyCode"}


# -------------------------------------------------------------- transport
def test_it_accepts_get_with_a_json_body(reader: Merit) -> None:
    assert reader.json("getglbatches", Q1, method="GET") == reader.json("getglbatches", Q1)


def test_it_accepts_get_with_the_body_in_param4net(reader: Merit) -> None:
    body = signing.dump_body(Q1)
    query = signing.signed_query(reader.api_id, reader.api_key, body)

    response = requests.get(
        reader.server.url + "getglbatches", params={**query, "Param4Net": body}, timeout=10
    )

    assert response.status_code == 200
    assert response.json() == reader.json("getglbatches", Q1)


def test_it_treats_an_empty_body_as_an_empty_object(reader: Merit) -> None:
    assert reader.json("gettaxes", body="") == reader.json("gettaxes", {})


def test_it_accepts_numbers_and_booleans_sent_as_strings(reader: Merit) -> None:
    as_numbers = reader.json(
        "getglbatchesfull", {"PeriodStart": "20250101", "PeriodEnd": "20250110", "WithLines": 0}
    )
    as_strings = reader.json(
        "getglbatchesfull",
        {"PeriodStart": "20250101", "PeriodEnd": "20250110", "WithLines": "false"},
    )

    assert as_numbers == as_strings


@pytest.mark.parametrize(
    "path", ["/ee/api/v1/nosuchendpoint", "/ee/api/v2/gettaxes", "/se/api/v1/gettaxes", "/gettaxes"]
)
def test_it_answers_a_wrong_url_with_404(shared: SandboxServer, path: str) -> None:
    response = requests.post(shared.base_url + path, data="{}", timeout=10)

    assert response.status_code == 404
    assert response.content == b""


def test_it_matches_endpoint_names_case_insensitively(reader: Merit) -> None:
    assert reader.json("GetTaxes") == reader.json("gettaxes")


def test_it_answers_other_methods_with_405(reader: Merit) -> None:
    response = reader.call("gettaxes", method="PUT")

    assert response.status_code == 405


def test_it_writes_plain_utf8_json(reader: Merit) -> None:
    response = reader.call("getcustomers", {"Name": "Õunapuu"})

    assert "Õunapuu".encode() in response.content
    assert json.loads(response.content.decode("utf-8"))


def test_getglbatch_refuses_an_unknown_id_and_needs_one(reader: Merit) -> None:
    assert reader.call("getglbatch", {"Id": str(uuid.uuid4())}).status_code == 400
    assert reader.call("getglbatch", {}).status_code == 404


def test_the_full_gl_list_can_leave_out_cost_allocations(reader: Merit) -> None:
    window = {"PeriodStart": "20250101", "PeriodEnd": "20250105"}

    with_alloc = reader.json("GetGLBatchesFull", window)
    without = reader.json("GetGLBatchesFull", {**window, "WithCostAlloc": 0})

    assert all(e["CostAllocLines"] == [] for b in with_alloc for e in b["Entries"])
    assert all(e["CostAllocLines"] is None for b in without for e in b["Entries"])


def test_the_full_gl_list_selects_by_changed_date_in_estonia(
    reader: Merit, shared: SandboxServer
) -> None:
    window = {"PeriodStart": "20250301", "PeriodEnd": "20250331"}
    by_changed = reader.json("GetGLBatchesFull", {**window, "DateType": 1})

    expected = {
        b["GLBId"]
        for b in shared.store.firm("EE").batches.values()
        if "2025-03-01" <= b["_changed"].date().isoformat() <= "2025-03-31"
    }
    assert {b["GLBId"] for b in by_changed} == expected
    # Payments of February invoices are booked in March but changed when the invoice was made.
    assert expected != {b["GLBId"] for b in reader.json("GetGLBatchesFull", window)}
    assert reader.call("GetGLBatchesFull", {**window, "DateType": 2}).status_code == 400


@pytest.mark.parametrize("value", ["not-a-guid", "1234", 17])
def test_a_malformed_guid_filter_is_a_500_format_exception(reader: Merit, value: object) -> None:
    response = reader.call("getcustomers", {"Id": value})

    assert response.status_code == 500
    assert "System.FormatException" in response.text


def test_a_guid_filter_accepts_upper_case_and_no_dashes(reader: Merit) -> None:
    target = reader.json("getcustomers")[3]["CustomerId"]

    found = reader.json("getcustomers", {"Id": target.replace("-", "").upper()})

    assert [c["CustomerId"] for c in found] == [target]
