"""What the schemathesis fuzz (tests/reliability/test_api_schema_fuzz.py) found, each pinned by
a focused test: the answer the API gives and the schema's word for it agree."""

from __future__ import annotations

import pytest

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def schema(db, client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("page", ["999", "0", "abc"])
def test_a_bad_page_number_is_a_400_on_the_page_field(world, api_as, page: str) -> None:
    response = api_as(world.owner).get("/api/v1/members/", {"page": page})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["page"]


def test_a_good_page_number_still_pages(world, api_as) -> None:
    response = api_as(world.owner).get("/api/v1/members/", {"page": "1"})
    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_turning_billing_off_documents_its_200(schema) -> None:
    responses = schema["paths"]["/api/v1/billing/activation"]["delete"]["responses"]
    assert "200" in responses
    assert "204" not in responses


def test_every_operation_with_a_body_documents_415(schema) -> None:
    with_body = [
        (path, method, operation["responses"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert with_body
    for path, method, responses in with_body:
        assert responses["415"]["content"]["application/json"]["schema"]["$ref"] == ERROR_REF, (
            method,
            path,
        )
    members = schema["paths"]["/api/v1/members/"]["get"]["responses"]
    assert "415" not in members  # no body, no content type to refuse


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/integrations/tripletex/books-companies/",
        "/api/v1/integrations/tripletex/link-suggestions/",
        "/api/v1/integrations/tripletex/customers/",
        "/api/v1/integrations/merit/link-suggestions/",
    ],
)
def test_a_live_read_of_the_accounting_system_documents_400_and_503(schema, path: str) -> None:
    responses = schema["paths"][path]["get"]["responses"]
    for status in ("400", "503"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"] == ERROR_REF


@pytest.mark.parametrize(
    ("component", "field"),
    [("SummaryTask", "topic"), ("SummaryTask", "assignee"), ("SyncJob", "requested_by")],
)
def test_a_field_that_can_be_null_is_documented_nullable(schema, component, field) -> None:
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable")


@pytest.mark.parametrize(
    "query", [{"status": "\x00"}, {"search": "a\x00b"}, {"\x00": "x"}, {"page": "1\x00"}]
)
def test_a_nul_in_the_query_string_is_a_400_in_the_error_shape(world, api_as, query) -> None:
    response = api_as(world.owner).get("/api/v1/sync-jobs/", query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()) == {"code", "detail"}


def test_a_nul_in_a_page_query_is_a_plain_400(world, as_user) -> None:
    response = as_user(world.owner).get("/clients/", {"q": "\x00"})
    assert response.status_code == 400


def test_a_query_without_nul_is_served(world, api_as) -> None:
    assert api_as(world.owner).get("/api/v1/sync-jobs/", {"status": "done"}).status_code == 200


def test_a_missing_capability_answers_in_the_one_error_shape(world, api_as) -> None:
    response = api_as(world.owner).get("/api/v1/integrations/statbooks/customers/")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == "capability_missing"
