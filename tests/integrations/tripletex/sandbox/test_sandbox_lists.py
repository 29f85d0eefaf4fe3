"""List envelope, paging, sorting, `fields`, filters, date ranges, checksums and routing."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from integrations.tripletex.sandbox import SandboxServer

from .conftest import TODAY, Api


def test_it_pages_through_all_customers_without_overlap(api: Api) -> None:
    total = api.get("/customer", count=0, isInactive="").json()["fullResultSize"]
    seen: list[int] = []
    pages: list[int] = []
    start = 0
    while True:
        body = api.get("/customer", fields="id", count=50, isInactive="", **{"from": start}).json()
        assert body["from"] == start
        assert body["count"] == len(body["values"])
        seen += [value["id"] for value in body["values"]]
        pages.append(body["count"])
        if body["count"] < 50:
            break
        start += 50

    assert total > 200
    assert len(seen) == len(set(seen)) == total
    assert pages[-1] == total % 50
    assert seen == sorted(seen)


def test_it_limits_count(api: Api) -> None:
    response = api.get("/customer", count=10001)

    assert response.status_code == 422
    assert response.json()["code"] == 23000


def test_it_returns_nested_objects_as_id_and_url_by_default(api: Api) -> None:
    customer = api.values("/customer", count=1)[0]

    assert set(customer["accountManager"]) == {"id", "url"}
    assert customer["url"].endswith(f"/v2/customer/{customer['id']}")
    assert customer["accountManager"]["url"].endswith(
        f"/v2/employee/{customer['accountManager']['id']}"
    )
    assert "changes" not in customer


def test_it_projects_fields_with_nested_expansion(api: Api) -> None:
    customer = api.values(
        "/customer", count=1, fields="id,name,accountManager(firstName,email),postalAddress(*)"
    )[0]

    assert set(customer) == {"id", "name", "accountManager", "postalAddress"}
    assert set(customer["accountManager"]) == {"firstName", "email"}
    assert {"addressLine1", "postalCode", "city", "id", "url"} <= set(customer["postalAddress"])
    assert set(customer["postalAddress"]["country"]) == {"id", "url"}


def test_it_returns_changes_only_when_asked(api: Api) -> None:
    plain = api.values("/customer", count=1, fields="*")[0]
    with_changes = api.values("/customer", count=1, fields="*,changes")[0]

    assert "changes" not in plain
    assert with_changes["changes"][0]["changeType"] == "CREATE"


def test_it_rejects_unknown_fields(api: Api) -> None:
    for fields in ("id,nmae", "accountManager(nope)", "name(first)", "id,("):
        response = api.get("/customer", fields=fields)
        assert response.status_code == 400, fields
        assert response.json()["code"] == 11000


def test_it_sorts_on_top_level_and_nested_fields(api: Api) -> None:
    names = [c["name"] for c in api.values("/customer", fields="name", sorting="-name")]
    numbers = [
        c["customerNumber"]
        for c in api.values("/customer", fields="customerNumber", sorting="customerNumber")
    ]

    assert names == sorted(names, key=str.casefold, reverse=True)
    assert numbers == sorted(numbers)
    assert api.get("/customer", sorting="accountManager.lastName").status_code == 200
    assert api.get("/customer", sorting="nope").json()["code"] == 17000


def test_it_hides_inactive_customers_unless_asked(api: Api, sandbox: SandboxServer) -> None:
    default = api.values("/customer", fields="id,isInactive")
    inactive = api.values("/customer", fields="id,isInactive", isInactive="true")
    everyone = api.values("/customer", fields="id", isInactive="")

    assert default and inactive
    assert not any(c["isInactive"] for c in default)
    assert all(c["isInactive"] for c in inactive)
    assert len(everyone) == len(default) + len(inactive)

    sandbox.store.deactivate_customer(default[0]["id"])
    assert default[0]["id"] not in {c["id"] for c in api.values("/customer", fields="id")}


def test_it_filters_organization_number_by_exact_string(api: Api) -> None:
    spaced = api.values(
        "/customer", organizationNumber="923 456 783", fields="name,organizationNumber"
    )
    compact = api.values("/customer", organizationNumber="923456783", fields="name")

    assert [c["name"] for c in spaced] == ["Bjørkeli Bygg AS"]
    assert compact == []


def test_it_filters_customers_changed_since(api: Api, control) -> None:
    since = f"{TODAY.isoformat()}T00:00:00"
    assert api.values("/customer", changedSince=since, isInactive="") == []
    target = api.values("/customer", fields="id,version", count=3)[2]

    updated = control("PUT", f"/customers/{target['id']}", {"email": "ny@eksempel.no"}).json()
    created = control(
        "POST", "/customers", {"name": "Ny Kunde Å/S", "organizationNumber": "910000009"}
    ).json()

    changed = api.values("/customer", changedSince=since, fields="id,version,email")
    assert {c["id"] for c in changed} == {target["id"], created["id"]}
    assert next(c for c in changed if c["id"] == target["id"])["version"] == target["version"] + 1
    assert updated["changed_at"] >= since
    assert api.get("/customer", changedSince="2025-06-16T00:00:00Z").status_code == 422


@pytest.mark.parametrize(
    ("path", "params", "missing"),
    [
        ("/order", {"orderDateFrom": "2025-01-01"}, {"orderDateTo"}),
        ("/invoice", {}, {"invoiceDateFrom", "invoiceDateTo"}),
        ("/ledger/voucher", {"dateTo": "2025-02-01"}, {"dateFrom"}),
        ("/supplierInvoice", {}, {"invoiceDateFrom", "invoiceDateTo"}),
        ("/timesheet/entry", {}, {"dateFrom", "dateTo"}),
        ("/bank/statement/transaction", {}, {"bankStatementId"}),
    ],
)
def test_it_requires_date_and_id_parameters(
    api: Api, path: str, params: dict[str, str], missing: set[str]
) -> None:
    response = api.get(path, **params)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == 15000
    assert {m["field"] for m in body["validationMessages"]} == missing


def test_it_answers_a_missing_date_range_with_422_15000_per_missing_field(api: Api) -> None:
    response = api.get("/invoice", fields="id")

    assert response.status_code == 422
    body = response.json()
    assert (body["status"], body["code"], body["message"]) == (422, 15000, "Validation failed")
    assert body["validationMessages"] == [
        {"field": name, "message": "Kan ikke være null.", "path": None, "rootId": None}
        for name in ("invoiceDateFrom", "invoiceDateTo")
    ]


def test_it_answers_an_unknown_fields_name_with_400_11000(api: Api) -> None:
    response = api.get(
        "/invoice", invoiceDateFrom="2025-01-01", invoiceDateTo="2025-02-01", fields="id,isSent"
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == (400, 11000)
    assert body["message"] == (
        "Illegal field in fields filter: isSent. isSent does not match a field in the model: "
        "InvoiceDTO"
    )
    assert body["validationMessages"] is None


def test_it_answers_a_non_numeric_id_with_422_21000(api: Api) -> None:
    for path, segment in (("/company/whoAmI", "whoAmI"), ("/customer/abc", "abc")):
        response = api.get(path)

        assert response.status_code == 422, path
        body = response.json()
        assert (body["status"], body["code"]) == (422, 21000)
        assert body["message"] == (
            f'Wrong data format! Expected number. For input string: "{segment}"'
        )
        assert body["validationMessages"] is None
    assert api.get("/customer/12x/nothing").status_code == 404  # still an unknown path


def test_it_treats_date_ranges_as_half_open(api: Api, sandbox: SandboxServer) -> None:
    client = api.as_company(sandbox.store.company_clients(sandbox.store.firm_company_id)[0])
    may = client.values(
        "/ledger/voucher", dateFrom="2025-05-01", dateTo="2025-06-01", fields="id,date"
    )
    first_of_june = client.values(
        "/ledger/voucher", dateFrom="2025-06-01", dateTo="2025-06-02", fields="id,date"
    )
    april_to_june = client.values(
        "/ledger/voucher", dateFrom="2025-04-01", dateTo="2025-06-02", fields="id"
    )
    april = client.values(
        "/ledger/voucher", dateFrom="2025-04-01", dateTo="2025-05-01", fields="id"
    )

    assert may and all("2025-05-01" <= v["date"] <= "2025-05-31" for v in may)
    assert all(v["date"] == "2025-06-01" for v in first_of_june)
    assert len(april_to_june) == len(april) + len(may) + len(first_of_june)
    assert (
        client.get("/ledger/voucher", dateFrom="2025-05-01", dateTo="2025-05-01").status_code == 422
    )


def test_it_adds_total_number_of_postings_to_voucher_lists(api: Api) -> None:
    body = api.get(
        "/ledger/voucher", dateFrom="2025-01-01", dateTo="2025-07-01", fields="id,postings"
    ).json()

    assert body["totalNumberOfPostings"] == sum(len(v["postings"]) for v in body["values"]) > 0


def test_it_answers_304_for_an_unchanged_checksum(api: Api, sandbox: SandboxServer) -> None:
    first = api.http.get(
        f"{sandbox.url}/customer",
        params={"fields": "id,name"},
        auth=("0", api.token),
        headers={"If-None-Match": "*"},
        timeout=5,
    )
    digest = first.json()["versionDigest"]
    again = api.http.get(
        f"{sandbox.url}/customer",
        params={"fields": "id,name"},
        auth=("0", api.token),
        headers={"If-None-Match": digest},
        timeout=5,
    )
    sandbox.store.update_customer(first.json()["values"][0]["id"], name="Endret Navn AS")
    changed = api.http.get(
        f"{sandbox.url}/customer",
        params={"fields": "id,name"},
        auth=("0", api.token),
        headers={"If-None-Match": digest},
        timeout=5,
    )

    assert digest
    assert api.get("/customer", count=1).json()["versionDigest"] is None
    assert again.status_code == 304
    assert again.content == b""
    assert changed.status_code == 200
    assert changed.json()["versionDigest"] != digest


def _raw_get(server: SandboxServer, path: str, token: str) -> tuple[int, bytes]:
    import base64

    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    credentials = base64.b64encode(f"0:{token}".encode()).decode()
    connection.request("GET", path, headers={"Authorization": f"Basic {credentials}"})
    response = connection.getresponse()
    result = response.status, response.read()
    connection.close()
    return result


def test_it_accepts_both_raw_and_encoded_greater_than_in_paths(
    api: Api, sandbox: SandboxServer
) -> None:
    raw_status, raw_body = _raw_get(sandbox, "/v2/token/session/>whoAmI", api.token)
    encoded_status, encoded_body = _raw_get(sandbox, "/v2/token/session/%3EwhoAmI", api.token)
    login_status, _ = _raw_get(sandbox, "/v2/company/%3ewithLoginAccess", api.token)

    assert raw_status == encoded_status == login_status == 200
    assert raw_body == encoded_body


def test_it_answers_unknown_paths_with_a_404_envelope(api: Api) -> None:
    response = api.get("/no/such/thing")

    assert response.status_code == 404
    body = response.json()
    assert set(body) == {
        "status",
        "code",
        "message",
        "link",
        "developerMessage",
        "validationMessages",
        "requestId",
    }
    assert (body["status"], body["code"]) == (404, 6000)
    assert response.headers["x-tlx-request-id"] == body["requestId"]


def test_it_answers_405_for_an_unsupported_method(api: Api) -> None:
    response = api.request("DELETE", "/customer")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["status"] == 405


def test_it_filters_vat_types_by_number_and_type(api: Api) -> None:
    high = api.values("/ledger/vatType", number="3")
    incoming = api.values("/ledger/vatType", typeOfVat="INCOMING", fields="number")

    assert [v["number"] for v in high] == ["3"]
    assert high[0]["percentage"] == 25
    assert high[0]["id"] != 3
    assert {"1", "11", "13"} <= {v["number"] for v in incoming}
    assert "3" not in {v["number"] for v in incoming}
