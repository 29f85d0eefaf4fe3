"""Summary task routes with ids, registered in the tenant-isolation matrix (tests/isolation.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django_scopes import scopes_disabled

from clients.models import Client
from integrations.base import Capability, iter_vendors
from summarytasks.models import CustomTaskField, SummaryTask
from tests.isolation import EXEMPT, register


def _client(world: Any) -> Client:
    with scopes_disabled():
        return Client.objects.create(company=world.firm_a, name="Fjord Bakeri AS")


def _client_id(world: Any) -> dict[str, Any]:
    return {"public_id": _client(world).public_id}


def _task(world: Any) -> dict[str, Any]:
    with scopes_disabled():
        task = SummaryTask.objects.create(
            company=world.firm_a, client=_client(world), period=date(2024, 3, 1), title="March"
        )
    return {"public_id": task.public_id}


def _field(world: Any) -> dict[str, Any]:
    with scopes_disabled():
        field = CustomTaskField.objects.create(company=world.firm_a, name="Sales")
    return {"public_id": field.public_id}


def _task_and_field(world: Any) -> dict[str, Any]:
    return {"field": str(_field(world)["public_id"]), "value": "3"}


register("client_summary_tasks", "get", _client_id)
register("summary_task_update", "post", _task, data=lambda w: {"status": "done"})
# A task of firm A, with firm A's field: both are 404 to firm B.
register("summary_task_value", "post", _task, data=_task_and_field)
register("customtaskfield-detail", "get", _field, api=True)
register("customtaskfield-detail", "patch", _field, data=lambda w: {"name": "X"}, api=True)
register("summarytask-detail", "get", _task, api=True)
register("summarytask-detail", "patch", _task, data=lambda w: {"status": "done"}, api=True)


def _vendor_key(key: str) -> Callable[[Any], dict[str, Any]]:
    return lambda world: {"vendor": key}


for _vendor in iter_vendors(Capability.STATISTICS):
    # The client to reload is in the body: another firm's client is a 404.
    register(
        "summary_reload",
        "post",
        _vendor_key(_vendor.key),
        data=lambda w: {"client": str(_client(w).public_id)},
    )
    register(
        f"api-{_vendor.key}-reload",
        "post",
        lambda w: {},
        data=lambda w: {"client_id": str(_client(w).public_id)},
        api=True,
    )
for _name in ("summary_settings_save", "summary_mapping_save", "summary_field_create"):
    EXEMPT[_name] = "vendor key, not a firm object"
register("client_summary_tasks", "post", _client_id)
