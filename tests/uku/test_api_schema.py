"""The OpenAPI schema documents the error answers, in the error shape."""

from __future__ import annotations

import pytest

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def schema(db, client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _error_ref(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"]


def test_it_has_an_error_component_in_the_error_shape(schema) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "detail", "fields", "remote"}
    assert error["required"] == ["code", "detail"]


def test_a_write_documents_its_4xx_answers(schema) -> None:
    responses = schema["paths"]["/api/v1/invitations/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "413", "429"} <= set(responses)
    assert "404" not in responses  # no object in the path
    for status in ("400", "401", "403", "413", "429"):
        assert _error_ref(responses[status]) == ERROR_REF
        assert responses[status]["description"]


def test_an_object_read_documents_404_but_no_body_errors(schema) -> None:
    responses = schema["paths"]["/api/v1/members/{public_id}/"]["get"]["responses"]
    assert _error_ref(responses["404"]) == ERROR_REF
    assert "200" in responses and "413" not in responses and "400" not in responses


def test_a_declared_conflict_is_documented_as_an_error(schema) -> None:
    resume = schema["paths"]["/api/v1/sync-jobs/{public_id}/resume/"]["post"]["responses"]
    assert _error_ref(resume["409"]) == ERROR_REF
    imports = schema["paths"]["/api/v1/integrations/tripletex/product-imports"]["post"]
    assert _error_ref(imports["responses"]["409"]) == ERROR_REF
    assert "413" not in imports["responses"]  # it takes no body


OPERATIONS = ("get", "post", "put", "patch", "delete")


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield path, method, operation


def test_every_operation_has_a_summary_and_a_description(schema) -> None:
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(schema)
        if not operation.get("summary", "").strip() or not operation.get("description", "").strip()
    ]
    assert missing == []


def test_no_two_operations_of_a_path_share_a_summary(schema) -> None:
    for path, item in schema["paths"].items():
        summaries = [op["summary"] for method, op in item.items() if method in OPERATIONS]
        assert len(summaries) == len(set(summaries)), path


def test_every_parameter_has_a_description(schema) -> None:
    missing = [
        f"{method.upper()} {path} {parameter['in']}:{parameter['name']}"
        for path, method, operation in _operations(schema)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description", "").strip()
    ]
    assert missing == []


def test_a_standard_action_is_summarised_by_its_model(schema) -> None:
    assert schema["paths"]["/api/v1/clients/"]["get"]["summary"] == "List the firm's clients"
    member = schema["paths"]["/api/v1/members/{public_id}/"]
    assert member["delete"]["summary"] == "Delete a membership"
