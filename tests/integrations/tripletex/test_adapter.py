"""TripletexAdapter against the sandbox: Test connection, and the message an admin reads for each
way a token can be wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import translation

from integrations.base import (
    AuthError,
    BooksAccessLost,
    CallRecord,
    Capability,
    CapabilityMissing,
    ConfigError,
    RemoteBooksCompany,
    RemoteCompany,
    get_vendor,
)
from integrations.tripletex.adapter import TripletexAdapter
from integrations.tripletex.errors import say
from integrations.tripletex.sandbox import SandboxServer
from tests.fakebooks.adapter import FakebooksAdapter


@pytest.fixture
def token(tripletex_sandbox: SandboxServer) -> str:
    return tripletex_sandbox.store.create_employee_token()["token"]


def adapter(token: str, environment: str = "test", **kwargs) -> TripletexAdapter:
    return TripletexAdapter(
        credentials={"employee_token": token}, environment=environment, **kwargs
    )


def refusal(token: str, environment: str = "test") -> AuthError:
    with pytest.raises(AuthError) as raised:
        adapter(token, environment).test_connection()
    return raised.value


def test_it_is_the_registered_tripletex_adapter() -> None:
    assert get_vendor("tripletex").adapter_class is TripletexAdapter
    assert TripletexAdapter.key == "tripletex"


def test_it_answers_test_connection_with_the_company_and_employee(
    tripletex_sandbox, tripletex_settings, token
) -> None:
    store = tripletex_sandbox.store
    calls: list[CallRecord] = []
    remote = adapter(token, on_call=calls.append).test_connection()
    admin = store.get("employee", store.admin_employee_id)
    assert remote == RemoteCompany(
        id=str(store.firm_company_id),
        name="Demo Regnskap AS",
        employee_id=str(store.admin_employee_id),
        employee_name=f"{admin['firstName']} {admin['lastName']}",
    )
    assert [c.path for c in calls] == ["/token/session/:create", "/token/session/>whoAmI"]
    who = store.request_log()["requests"][1]
    assert who["query"]["fields"] == (
        "employeeId,companyId,employee(firstName,lastName),company(id,name)"
    )


def test_it_tests_the_connection_of_an_accountant_token_with_whoami_alone(
    tripletex_sandbox, tripletex_settings
) -> None:
    store = tripletex_sandbox.store
    accountant = store.create_employee_token(accountant=True)["token"]

    remote = adapter(accountant).test_connection()

    assert (remote.id, remote.name) == (str(store.firm_company_id), "Demo Regnskap AS")
    assert remote.employee_name
    assert {r["path_template"] for r in store.request_log()["requests"]} == {
        "/token/session/:create",
        "/token/session/>whoAmI",
    }
    assert all(r["status"] == 200 for r in store.request_log()["requests"])


def test_it_deletes_its_session_on_close(tripletex_sandbox, tripletex_settings, token) -> None:
    connection = adapter(token)
    connection.test_connection()
    connection.close()
    connection.close()
    assert tripletex_sandbox.store.request_counts()["DELETE /token/session/{token}"] == 1


def test_it_never_shows_the_token_in_its_repr(tripletex_settings, token) -> None:
    connection = adapter(token)
    assert token not in repr(connection) and token not in repr(connection.client)


# --- What the admin typed --------------------------------------------------------------------------


def test_it_strips_whitespace_around_the_token(tripletex_settings, token) -> None:
    assert TripletexAdapter.clean_credentials({"employee_token": f"  {token}\n\t"}) == {
        "employee_token": token
    }
    assert adapter(f" {token}\r\n").test_connection().name == "Demo Regnskap AS"


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "test-abc def-0123456789abcdef", "test-abc\u200bdef0123456789abcdef", "short",
     "x" * 2000, "test-abc<script>0123456789abcdef", "tëst-æøå-0123456789abcdef"],
)  # fmt: skip
def test_it_refuses_a_malformed_token_before_any_call(
    tripletex_sandbox, tripletex_settings, raw
) -> None:
    with pytest.raises(ConfigError) as raised:
        TripletexAdapter.clean_credentials({"employee_token": raw})
    assert raised.value.details == {"field": "employee_token"}
    with pytest.raises(ConfigError):
        adapter(raw).test_connection()  # also when a caller skipped clean_credentials
    assert tripletex_sandbox.store.request_log()["total"] == 0


def test_it_says_what_is_wrong_with_inner_whitespace(tripletex_settings, token) -> None:
    broken = token[:20] + "\n" + token[20:]
    with pytest.raises(ConfigError, match="spaces, line breaks or invisible characters"):
        TripletexAdapter.clean_credentials({"employee_token": broken})


# --- Why Tripletex refused ---------------------------------------------------------------------------


def test_it_gives_each_refusal_its_own_message(tripletex_sandbox, tripletex_settings) -> None:
    store = tripletex_sandbox.store
    expired = store.create_employee_token(expires_on=store.today() - timedelta(days=1))["token"]
    revoked = store.create_employee_token()["token"]
    store.revoke_employee_token(revoked)
    employee = next(
        e
        for e in store.company_rows("employee", store.firm_company_id)
        if e["_active"] and e["id"] != store.admin_employee_id
    )
    deactivated = store.create_employee_token(employee_id=employee["id"])["token"]
    store.deactivate_employee(employee["id"])
    production_style = store.create_employee_token()["token"].removeprefix("test-")
    errors = {
        "expired": refusal(expired),
        "revoked": refusal(revoked),
        "deactivated": refusal(deactivated),
        "wrong environment": refusal(production_style),
    }
    assert len({e.message for e in errors.values()}) == 4
    assert "has expired" in errors["expired"].message
    assert "Copy it again, whole" in errors["revoked"].message
    assert "API access" in errors["revoked"].message
    assert "no longer active" in errors["deactivated"].message
    assert "belongs to Tripletex production" in errors["wrong environment"].message
    for error in errors.values():
        assert error.permanent
        assert error.details["field"] == "employee_token"
        assert error.details["code"] == 18000 and error.details["request_id"]
        assert "arg:employeeToken: The employee token" in error.details["developer_message"]


def test_it_says_wrong_environment_for_a_test_token_on_production(
    tripletex_sandbox, tripletex_settings, token
) -> None:
    # Production pointed at the same (test) sandbox: the session would even succeed there, so
    # the client must notice the "test-" prefix itself, before sending the token anywhere.
    tripletex_settings.TRIPLETEX_PRODUCTION_URL = tripletex_sandbox.url
    tripletex_settings.TRIPLETEX_CONSUMER_TOKEN_PRODUCTION = tripletex_sandbox.store.consumer_token
    error = refusal(token, environment="production")
    assert "test environment" in error.message and "set to Production" in error.message
    assert tripletex_sandbox.store.request_log()["total"] == 0


def test_it_refuses_an_unknown_environment(tripletex_settings, token) -> None:
    with pytest.raises(ConfigError, match="choose Production or Test"):
        adapter(token, environment="staging").test_connection()


def test_it_reads_the_employee_when_whoami_does_not_expand_it(settings) -> None:
    base = "https://tripletex.example/v2"
    settings.TRIPLETEX_PRODUCTION_URL = base
    settings.TRIPLETEX_CONSUMER_TOKEN_PRODUCTION = "consumer-token-production-123"
    with responses.RequestsMock() as mock:
        mock.put(f"{base}/token/session/:create", json={"value": {"token": "session-abcdef"}})
        mock.get(
            f"{base}/token/session/%3EwhoAmI",
            json={"value": {"employeeId": 5, "companyId": 9, "employee": {"id": 5, "url": "x"}}},
        )
        mock.get(f"{base}/company/9", json={"value": {"id": 9, "name": "Fjord AS"}})
        mock.get(f"{base}/employee/5", json={"value": {"firstName": "Åse", "lastName": "Ødegård"}})
        remote = adapter("prod-employee-token-1234567890", "production").test_connection()
    assert remote == RemoteCompany("9", "Fjord AS", "5", "Åse Ødegård")


def test_it_leaves_the_name_blank_when_whoami_does_not_expand_it_and_the_token_may_not_ask(
    settings,
) -> None:
    base = "https://tripletex.example/v2"
    settings.TRIPLETEX_PRODUCTION_URL = base
    settings.TRIPLETEX_CONSUMER_TOKEN_PRODUCTION = "consumer-token-production-123"
    forbidden = {"status": 403, "code": 9000, "message": "You do not have permission"}
    with responses.RequestsMock() as mock:
        mock.put(f"{base}/token/session/:create", json={"value": {"token": "session-abcdef"}})
        mock.get(
            f"{base}/token/session/%3EwhoAmI",
            json={"value": {"employeeId": 5, "companyId": 9, "company": {"id": 9, "url": "x"}}},
        )
        mock.get(f"{base}/company/9", status=403, json=forbidden)
        mock.get(f"{base}/employee/5", status=403, json=forbidden)
        remote = adapter("prod-employee-token-1234567890", "production").test_connection()
    assert remote == RemoteCompany("9", "", "5", "")


# --- Books access (a client's own Tripletex company) -----------------------------------------------


def test_it_lists_the_books_companies_the_token_can_log_into(
    tripletex_sandbox, tripletex_settings
) -> None:
    store = tripletex_sandbox.store
    accountant = store.create_employee_token(accountant=True)["token"]

    companies = adapter(accountant).list_books_companies()

    expected = [
        RemoteBooksCompany(
            str(cid),
            store.get("company", cid)["name"],
            store.get("company", cid)["organizationNumber"],
        )
        for cid in store.company_clients(store.firm_company_id)
    ]
    assert companies == expected and len(companies) == 6
    assert any(c.name == "Fjellheim Bakeri AS" and c.organisation_number for c in companies)
    assert store.request_counts().get("GET /company/>withLoginAccess") == 1
    assert all(r["status"] == 200 for r in store.request_log()["requests"])


def test_it_reads_a_books_company_through_books_client(
    tripletex_sandbox, tripletex_settings, token
) -> None:
    store = tripletex_sandbox.store
    connection = adapter(token)
    books = connection.list_books_companies()[0]

    who = connection.books_client(books.id).get("/token/session/>whoAmI")

    assert who["companyId"] == int(books.id) and who["employeeIsProxy"] is True
    store.set_login_access(int(books.id), False)
    with pytest.raises(BooksAccessLost):
        connection.books_client(books.id).get("/token/session/>whoAmI")
    assert connection.test_connection().name == "Demo Regnskap AS"  # the firm is fine
    for bad in ("0", "", "12a", "-3"):
        with pytest.raises(ConfigError):
            connection.books_client(bad)


def test_it_declares_books_access_and_others_refuse_it_by_default(tripletex_settings) -> None:
    assert get_vendor("tripletex").can(Capability.BOOKS_ACCESS)
    other = FakebooksAdapter(credentials={"api_id": "a", "api_key": "b"}, environment="ee")
    with pytest.raises(CapabilityMissing) as raised:
        other.list_books_companies()
    assert raised.value.capability == Capability.BOOKS_ACCESS
    assert raised.value.message == ("Fakebooks cannot open client companies' books.")


def test_it_says_books_access_is_lost_in_norwegian_too(tripletex_settings) -> None:
    with translation.override("nb"):
        lost = say("books_access_lost", company=42)
        verb = str(Capability.BOOKS_ACCESS.verb)
    assert "klientselskap 42" in lost and "påvirkes ikke" in lost
    assert verb == "åpne klientselskapenes regnskap"
