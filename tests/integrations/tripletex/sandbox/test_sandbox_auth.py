"""Tokens, sessions, Basic auth, proxy login and the error envelope."""

from __future__ import annotations

import uuid
from datetime import timedelta

import requests

from integrations.tripletex.sandbox import SandboxServer, start_sandbox

from .conftest import TODAY, Api, create_session


def _validation(response: requests.Response) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status"] == 422
    assert body["code"] == 18000
    message = body["validationMessages"][0]
    return message["field"], message["message"]


def test_it_creates_a_session_with_test_prefixed_tokens(sandbox: SandboxServer) -> None:
    employee_token = sandbox.store.create_employee_token()["token"]
    assert sandbox.store.consumer_token == "test-uku-sandbox-consumer"
    assert employee_token.startswith("test-")

    response = create_session(sandbox, employee_token)

    assert response.status_code == 200, response.text
    value = response.json()["value"]
    assert value["token"].startswith("test-")
    assert value["expirationDate"] == (TODAY + timedelta(days=1)).isoformat()
    assert set(value["consumerToken"]) == {"id", "url"}
    assert set(value["employeeToken"]) == {"id", "url"}


def test_it_rejects_an_unknown_consumer_token(sandbox: SandboxServer) -> None:
    response = requests.put(
        f"{sandbox.url}/token/session/:create",
        params={
            "consumerToken": "test-nope",
            "employeeToken": sandbox.store.create_employee_token()["token"],
            "expirationDate": "2025-06-17",
        },
        timeout=5,
    )

    assert _validation(response) == (
        "arg:consumerToken",
        "The consumer token is invalid or does not exist.",
    )
    assert response.headers["x-tlx-request-id"] == response.json()["requestId"]
    uuid.UUID(response.json()["requestId"])


def test_it_rejects_unknown_revoked_expired_and_deactivated_employee_tokens(
    sandbox: SandboxServer,
) -> None:
    store = sandbox.store
    revoked = store.create_employee_token()["token"]
    store.revoke_employee_token(revoked)
    expired = store.create_employee_token(expires_on=TODAY - timedelta(days=1))["token"]
    ola = next(
        row["id"]
        for row in store.company_rows("employee", store.firm_company_id)
        if row["id"] != store.admin_employee_id and row["_active"]
    )
    deactivated = store.create_employee_token(employee_id=ola)["token"]
    store.deactivate_employee(ola)

    unknown_field, unknown_message = _validation(create_session(sandbox, "test-unknown"))
    revoked_field, revoked_message = _validation(create_session(sandbox, revoked))
    expired_field, expired_message = _validation(create_session(sandbox, expired))
    inactive_field, inactive_message = _validation(create_session(sandbox, deactivated))

    assert unknown_field == revoked_field == expired_field == inactive_field == "arg:employeeToken"
    assert unknown_message == revoked_message == "The employee token is invalid or does not exist."
    assert expired_message == "The employee token has expired."
    assert "no longer active" in inactive_message
    assert len({unknown_message, expired_message, inactive_message}) == 3


def test_it_treats_a_production_style_token_as_unknown_in_the_test_environment(
    sandbox: SandboxServer,
) -> None:
    real = sandbox.store.create_employee_token()["token"]

    field, message = _validation(create_session(sandbox, real.removeprefix("test-")))

    assert (field, message) == (
        "arg:employeeToken",
        "The employee token is invalid or does not exist.",
    )


def test_it_issues_unprefixed_tokens_in_the_production_environment() -> None:
    server = start_sandbox(seed="empty", environment="production", today=TODAY)
    try:
        employee_token = server.store.create_employee_token()["token"]
        response = create_session(server, employee_token)
        assert server.store.consumer_token == "uku-sandbox-consumer"
        assert not employee_token.startswith("test-")
        assert response.status_code == 200
        assert not response.json()["value"]["token"].startswith("test-")
    finally:
        server.stop()


def test_it_names_every_missing_session_parameter(sandbox: SandboxServer) -> None:
    response = requests.put(
        f"{sandbox.url}/token/session/:create", params={"consumerToken": "x"}, timeout=5
    )

    assert response.status_code == 422
    assert {m["field"] for m in response.json()["validationMessages"]} == {
        "employeeToken",
        "expirationDate",
    }


def test_it_authenticates_in_the_own_company_with_username_zero_or_blank(
    api: Api, sandbox: SandboxServer
) -> None:
    for username in ("0", ""):
        response = requests.get(
            f"{sandbox.url}/token/session/>whoAmI", auth=(username, api.token), timeout=5
        )
        assert response.status_code == 200, response.text
        info = response.json()["value"]
        assert info["companyId"] == sandbox.store.firm_company_id
        assert info["employeeId"] == sandbox.store.admin_employee_id
        assert info["employeeIsProxy"] is False


def test_it_acts_in_a_client_company_listed_in_login_access(
    api: Api, sandbox: SandboxServer
) -> None:
    clients = api.values("/company/>withLoginAccess", fields="id,name,organizationNumber")
    assert len(clients) >= 5

    info = api.as_company(clients[0]["id"]).get("/token/session/>whoAmI").json()["value"]

    assert info["companyId"] == clients[0]["id"]
    assert info["employeeIsProxy"] is True
    assert info["actualEmployeeId"] == sandbox.store.admin_employee_id


def test_it_forbids_a_company_without_login_access(api: Api, sandbox: SandboxServer) -> None:
    stranger = next(
        cid
        for cid in sandbox.store.info()["company_ids"]
        if cid != sandbox.store.firm_company_id
        and cid not in sandbox.store.company_clients(sandbox.store.firm_company_id)
    )

    response = api.as_company(stranger).get("/customer")

    assert response.status_code == 403
    assert response.json()["code"] == 9000


def test_it_answers_401_without_or_with_a_bad_authorization(sandbox: SandboxServer) -> None:
    missing = requests.get(f"{sandbox.url}/customer", timeout=5)
    wrong = requests.get(f"{sandbox.url}/customer", auth=("0", "test-not-a-session"), timeout=5)

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["code"] == 3000
        assert response.headers["x-tlx-request-id"] == response.json()["requestId"]


def test_it_ends_the_session_at_midnight_at_the_start_of_its_expiration_date(
    api: Api, control
) -> None:
    assert api.get("/customer", count=1).status_code == 200  # expirationDate = TODAY + 1

    control("POST", "/clock", {"advance_days": 1})  # now TODAY + 1: the session died at 00:00
    response = api.get("/customer", count=1)

    assert response.status_code == 401
    assert response.json()["code"] == 3000


def test_it_gives_a_session_expiring_today_that_fails_on_first_use(
    sandbox: SandboxServer,
) -> None:
    created = create_session(sandbox, expiration=TODAY)

    assert created.status_code == 200, created.text
    response = Api(sandbox, created.json()["value"]["token"]).get("/token/session/>whoAmI")
    assert response.status_code == 401
    assert (response.json()["code"], response.json()["message"]) == (3000, "Could not log in")


def test_it_rejects_a_session_whose_employee_was_deactivated(
    api: Api, control, sandbox: SandboxServer
) -> None:
    control("POST", f"/employees/{sandbox.store.admin_employee_id}/deactivate")

    assert api.get("/customer", count=1).status_code == 401

    control("POST", f"/employees/{sandbox.store.admin_employee_id}/reactivate")
    assert api.get("/customer", count=1).status_code == 200


def test_it_deletes_a_session(api: Api) -> None:
    response = api.request("DELETE", f"/token/session/{api.token}")

    assert response.status_code == 204
    assert api.get("/customer", count=1).status_code == 401


def test_it_hides_other_companies_objects_behind_404(api: Api, sandbox: SandboxServer) -> None:
    firm_customer = api.values("/customer", count=1, fields="id")[0]["id"]
    client = sandbox.store.company_clients(sandbox.store.firm_company_id)[0]

    response = api.as_company(client).get(f"/customer/{firm_customer}")

    assert response.status_code == 404
    assert response.json()["code"] == 6000
    assert api.get(f"/customer/{firm_customer}").status_code == 200


def test_it_leaves_developer_message_null_where_tripletex_does(
    api: Api, sandbox: SandboxServer
) -> None:
    stranger = next(
        c["id"] for c in sandbox.store.rows["company"].values() if c["name"].startswith("Konk")
    )
    answers = [
        api.get("/no/such/thing"),
        api.get("/invoice"),
        api.get("/customer", fields="id,nmae"),
        api.get("/company/whoAmI"),
        api.as_company(stranger).get("/customer"),
        Api(sandbox, "test-not-a-session").get("/customer"),
        requests.put(
            f"{sandbox.url}/token/session/:create",
            params={"consumerToken": "test-nope", "employeeToken": "x", "expirationDate": "x"},
            timeout=5,
        ),
    ]

    for response in answers:
        assert response.status_code >= 400
        assert response.json()["developerMessage"] is None, response.text


def test_it_fills_developer_message_only_where_tripletex_does(
    api: Api, sandbox: SandboxServer
) -> None:
    store = sandbox.store
    customer = store.company_rows("customer", store.firm_company_id)[0]["id"]
    order = api.post(
        "/order",
        {"customer": {"id": customer}, "orderDate": "2025-06-16", "deliveryDate": "2025-06-16"},
    ).json()["value"]
    business_rule = api.put(f"/order/{order['id']}/:invoice", invoiceDate="2025-06-16")
    bad_username = Api(sandbox, api.token, "firm")  # type: ignore[arg-type]

    assert (business_rule.status_code, business_rule.json()["code"]) == (422, 18000)
    assert business_rule.json()["developerMessage"] == "VALIDATION_ERROR"
    unauthorized = bad_username.get("/customer").json()
    assert (unauthorized["code"], unauthorized["message"]) == (3000, "Unauthorized")
    assert unauthorized["developerMessage"].startswith(
        "Authorization header has invalid username: firm. Should be a customer id or 0"
    )


def test_it_limits_an_accountant_token_to_login_access_and_who_am_i_with_username_zero(
    sandbox: SandboxServer, control
) -> None:
    issued = control("POST", "/employee-tokens", {"accountant": True}).json()
    assert issued["accountant"] is True
    firm = Api(sandbox, create_session(sandbox, issued["token"]).json()["value"]["token"])
    store = sandbox.store

    assert firm.get("/token/session/>whoAmI").status_code == 200
    clients = firm.values("/company/>withLoginAccess", fields="id,name")
    for path in ("/customer", f"/company/{store.firm_company_id}", "/ledger/vatType"):
        response = firm.get(path)
        assert response.status_code == 403, path
        body = response.json()
        assert (body["code"], body["message"]) == (
            9000,
            "You do not have permission to access this feature.",
        )
    in_client = firm.as_company(clients[0]["id"])
    assert in_client.get("/customer", count=1).status_code == 200
    assert in_client.get(f"/company/{clients[0]['id']}").status_code == 200


def test_it_revokes_and_grants_login_access_through_the_control_api(
    api: Api, sandbox: SandboxServer, control
) -> None:
    client = sandbox.store.company_clients(sandbox.store.firm_company_id)[0]

    revoked = control("POST", f"/companies/{client}/revoke-login-access")

    assert revoked.status_code == 200 and client not in revoked.json()["client_company_ids"]
    assert client not in {c["id"] for c in api.values("/company/>withLoginAccess", fields="id")}
    assert api.as_company(client).get("/ledger/voucherType").status_code == 403
    control("POST", f"/companies/{client}/grant-login-access")
    assert api.as_company(client).get("/ledger/voucherType").status_code == 200
    assert control("POST", "/companies/1/revoke-login-access").status_code == 404
