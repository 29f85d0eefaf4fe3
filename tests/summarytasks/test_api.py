"""The summary tasks API (../shared/api-contract.txt), with its roles and error shape."""

from __future__ import annotations

import uuid

import time_machine

from summarytasks.models import SummaryTask
from tests.summarytasks.conftest import VENDOR, books, run_jobs
from tests.summarytasks.test_import import MARCH, _import

BASE = f"/api/v1/integrations/{VENDOR}"


@time_machine.travel("2024-03-10T10:00:00Z", tick=False)
def test_it_reads_and_saves_the_summary_settings(world, api_as, stat_connection):
    admin = api_as(world.admin)
    first = admin.get(f"{BASE}/summary-settings")
    assert first.status_code == 200
    assert first.json() == {
        "task_title": "{client}: {month}",
        "topic": "",
        "import_day": "last_work_day",
        "recurrence": "monthly",
        "next_import": "2024-03-27",
    }
    saved = admin.put(
        f"{BASE}/summary-settings",
        {"task_title": "{client} - {month}", "topic": "Close", "import_day": 5},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["import_day"] == 5 and saved.json()["next_import"] == "2024-04-05"
    bad = admin.put(
        f"{BASE}/summary-settings", {"task_title": "x", "import_day": 29}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid" and "import_day" in bad.json()["fields"]
    member = api_as(world.accountant)
    assert member.get(f"{BASE}/summary-settings").status_code == 200
    refused = member.put(
        f"{BASE}/summary-settings", {"task_title": "x", "import_day": 1}, format="json"
    )
    assert refused.status_code == 403


def test_it_lists_the_statistics_catalogue(world, api_as):
    listed = api_as(world.accountant).get(f"{BASE}/statistics/")
    assert listed.status_code == 200
    items = listed.json()
    assert items[0] == {
        "key": "sale_entries",
        "label": "Sale entries",
        "definition": "Sales vouchers dated in the month.",
        "common": True,
    }
    assert [i["common"] for i in items] == sorted((i["common"] for i in items), reverse=True)


def test_a_vendor_without_statistics_has_no_such_routes(world, api_as):
    response = api_as(world.admin).get("/api/v1/integrations/fakebooks/statistics/")
    assert response.status_code == 404
    assert response.json()["code"] == "capability_missing"
    put = api_as(world.admin).put("/api/v1/integrations/fakebooks/field-mapping", {}, format="json")
    assert put.status_code == 404 and put.json()["code"] == "capability_missing"


def test_custom_task_fields_are_created_listed_and_renamed(world, api_as):
    admin = api_as(world.admin)
    created = admin.post(
        "/api/v1/custom-task-fields/", {"name": "Sales", "type": "money"}, format="json"
    )
    assert created.status_code == 201, created.content
    field_id = created.json()["id"]
    assert created.json() == {"id": field_id, "name": "Sales", "type": "money"}
    twice = admin.post("/api/v1/custom-task-fields/", {"name": "sales"}, format="json")
    assert twice.status_code == 400 and "name" in twice.json()["fields"]
    renamed = admin.patch(
        f"/api/v1/custom-task-fields/{field_id}/", {"name": "Revenue"}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Revenue"
    assert [
        f["name"]
        for f in api_as(world.billing).get("/api/v1/custom-task-fields/").json()["results"]
    ] == ["Revenue"]
    member = api_as(world.accountant)
    assert (
        member.post("/api/v1/custom-task-fields/", {"name": "X"}, format="json").status_code == 403
    )


def test_it_reads_and_replaces_the_field_mapping(world, api_as, stat_connection):
    admin = api_as(world.admin)
    field = admin.post("/api/v1/custom-task-fields/", {"name": "Sales"}, format="json").json()
    empty = admin.get(f"{BASE}/field-mapping").json()["mapping"]
    assert set(empty) == {
        "sale_entries",
        "purchase_entries",
        "bank_transactions",
        "documents",
        "travel_expenses",
        "payroll",
    }
    assert set(empty.values()) == {None}
    saved = admin.put(
        f"{BASE}/field-mapping",
        {"mapping": {"sale_entries": field["id"], "documents": None}},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["mapping"]["sale_entries"] == field["id"]
    unknown = admin.put(f"{BASE}/field-mapping", {"mapping": {"nope": None}}, format="json")
    assert unknown.status_code == 400 and "nope" in unknown.json()["fields"]
    other = (
        api_as(world.outsider)
        .post("/api/v1/custom-task-fields/", {"name": "B"}, format="json")
        .json()
    )
    foreign = admin.put(
        f"{BASE}/field-mapping", {"mapping": {"documents": other["id"]}}, format="json"
    )
    assert foreign.status_code == 400


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_reload_answers_202_with_the_job_and_joins_a_running_one(world, api_as, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    admin = api_as(world.admin)
    first = admin.post(f"{BASE}/reload", {}, format="json")
    assert first.status_code == 202, first.content
    assert first.json()["kind"] == "statistics_reload" and first.json()["status"] == "queued"
    again = admin.post(f"{BASE}/reload", {}, format="json")
    assert again.json()["id"] == first.json()["id"]
    one = admin.post(f"{BASE}/reload", {"client_id": str(client.public_id)}, format="json")
    assert one.status_code == 202 and one.json()["id"] != first.json()["id"]
    assert api_as(world.accountant).post(f"{BASE}/reload", {}, format="json").status_code == 403
    job = run_jobs(lambda: api_as(world.owner).post(f"{BASE}/reload", {}, format="json"))
    assert job.status_code == 202
    read = admin.get(f"/api/v1/sync-jobs/{first.json()['id']}/")
    assert read.status_code == 200


def test_a_reload_without_mapped_fields_says_so(world, api_as, linked):
    linked("Fjord Bakeri AS", "c1")
    response = api_as(world.admin).post(f"{BASE}/reload", {}, format="json")
    assert response.status_code == 400
    assert "No data fields are mapped" in response.json()["detail"]


def test_summary_tasks_are_listed_with_values_and_changed(world, api_as, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    fields = mapped(sale_entries="Sales", documents="Docs")
    books("c1", MARCH, sale_entries=4, documents=1)
    task = _import(world, client).task
    member = api_as(world.accountant)
    listed = member.get(f"/api/v1/summary-tasks/?period=2024-03&client={client.public_id}")
    (item,) = listed.json()["results"]
    assert item["period"] == "2024-03" and item["status"] == "open"
    sales = next(v for v in item["values"] if v["field_name"] == "Sales")
    assert sales["field"] == str(fields["sale_entries"].public_id)
    assert sales["statistic"] == "sale_entries" and sales["value"] == "4"
    assert sales["missing_reason"] == "" and sales["imported_at"]
    assert member.get("/api/v1/summary-tasks/?period=2024-02").json()["results"] == []
    assert member.get("/api/v1/summary-tasks/?period=March").status_code == 400
    changed = member.patch(
        f"/api/v1/summary-tasks/{task.public_id}/",
        {
            "status": "done",
            "assignee": "admin@fjord.no",
            "comment": "Checked",
            "values": {str(fields["documents"].public_id): "3"},
        },
        format="json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["status"], body["assignee"], body["comment"]) == (
        "done",
        "admin@fjord.no",
        "Checked",
    )
    docs = next(v for v in body["values"] if v["field_name"] == "Docs")
    assert docs["value"] == "3" and docs["typed_by_hand"] and docs["typed_by"] == "member@fjord.no"
    stranger = member.patch(
        f"/api/v1/summary-tasks/{task.public_id}/", {"assignee": "owner@bergen.no"}, format="json"
    )
    assert stranger.status_code == 400
    billing = api_as(world.billing).patch(
        f"/api/v1/summary-tasks/{task.public_id}/", {"status": "open"}, format="json"
    )
    assert billing.status_code == 403
    with world.scope_a():
        assert SummaryTask.objects.get(pk=task.pk).status == "done"


def test_a_value_keyed_by_something_that_is_not_a_field_id_is_a_field_error(
    world, api_as, linked, mapped
):
    """Found by the schema fuzz: a key that is not a UUID reached the UUID lookup and gave a 500."""
    client = linked("Fjord Bakeri AS", "c1")
    fields = mapped(documents="Docs")
    books("c1", MARCH, documents=1)
    task = _import(world, client).task
    member = api_as(world.accountant)
    field_id = str(fields["documents"].public_id)
    for key in ["not-a-uuid", "9\U00101c34\u00a1", "", str(uuid.uuid4())]:
        answer = member.patch(
            f"/api/v1/summary-tasks/{task.public_id}/",
            {"comment": "kept?", "values": {field_id: "7", key: "1"}},
            format="json",
        )
        assert answer.status_code == 400, (key, answer.content)
        assert list(answer.json()["fields"]) == ["values"]
    with world.scope_a():
        task.refresh_from_db()
        assert task.comment != "kept?"
        assert str(task.values.get(field=fields["documents"]).value) == "1"
    upper = member.patch(
        f"/api/v1/summary-tasks/{task.public_id}/",
        {"values": {field_id.upper(): "7"}},
        format="json",
    )
    assert upper.status_code == 200, upper.content
    docs = next(v for v in upper.json()["values"] if v["field_name"] == "Docs")
    assert docs["value"] == "7"
