"""Client routes with ids, registered in the tenant-isolation matrix (tests/isolation.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_scopes import scopes_disabled

from clients.models import Client
from integrations.base import Capability, iter_vendors
from integrations.models import SyncJob
from tests.isolation import EXEMPT, register


def _client(world: Any) -> dict[str, Any]:
    with scopes_disabled():
        client = Client.objects.create(company=world.firm_a, name="Fjord Bakeri AS")
    return {"public_id": client.public_id}


def _preview(world: Any, vendor: str = "tripletex") -> dict[str, Any]:
    with scopes_disabled():
        job = SyncJob.objects.create(
            company=world.firm_a,
            vendor=vendor,
            kind="customer_import_preview",
            status="succeeded",
        )
    return {"public_id": job.public_id}


def _preview_of(vendor: str) -> Callable[[Any], dict[str, Any]]:
    return lambda world: _preview(world, vendor)


register("client_detail", "get", _client)
register("client_detail", "post", _client, data=lambda w: {"invoice_email": "x@y.no"})
register(
    "import_confirm",
    "post",
    lambda w: {"vendor": "tripletex", **_preview(w)},
    data=lambda w: {"select": "all"},
)
register(
    "client_detail", "post", _client, data=lambda w: {"client-name": "Renamed", "client-city": "X"}
)
register("client_archive", "post", _client)
register("client_restore", "post", _client)
register("client_delete", "get", _client)
register("client_delete", "post", _client)
register("client-detail", "get", _client, api=True)
register("client-detail", "patch", _client, data=lambda w: {"invoice_email": "x@y.no"}, api=True)
# Every vendor that can list customers gets the import routes (generated from its capabilities).
for _vendor in iter_vendors(Capability.CUSTOMERS):
    register(f"api-{_vendor.key}-customer-import", "get", _preview_of(_vendor.key), api=True)
    register(
        f"api-{_vendor.key}-customer-import-confirm",
        "post",
        _preview_of(_vendor.key),
        data=lambda w: {"select": "all"},
        api=True,
    )
EXEMPT["import_panel"] = "vendor key, not a firm object"
EXEMPT["import_start"] = "vendor key, not a firm object"
register("client-detail", "delete", _client, api=True)
register("client-archive", "post", _client, api=True)
register("client-restore", "post", _client, api=True)
# The Integration column (issue 10).
register(
    "client-integration-link",
    "put",
    _client,
    data=lambda w: {"vendor": "tripletex", "remote_id": "1"},
    api=True,
)
register("client-integration-link", "delete", _client, api=True)
register("client_link", "get", _client)
register("client_link", "post", _client, data=lambda w: {"vendor": "tripletex", "remote_id": "1"})
register("client_link_search", "get", _client)
register("client_link_cell", "get", _client)
register("client_unlink", "post", _client, data=lambda w: {"vendor": "tripletex"})
EXEMPT["link_suggestions"] = "vendor key, not a firm object"
# The import review (issue 10, i10): selection, conflict resolution.
register(
    "import_select",
    "post",
    lambda w: {"vendor": "tripletex", **_preview(w)},
    data=lambda w: {"op": "none"},
)
register(
    "import_resolve",
    "post",
    lambda w: {"vendor": "tripletex", **_preview(w)},
    data=lambda w: {"resolve": "1|skip"},
)
for _vendor in iter_vendors(Capability.CUSTOMERS):
    register(
        f"api-{_vendor.key}-customer-import-selection", "get", _preview_of(_vendor.key), api=True
    )
    register(
        f"api-{_vendor.key}-customer-import-selection",
        "post",
        _preview_of(_vendor.key),
        data=lambda w: {"clear": True},
        api=True,
    )
    register(
        f"api-{_vendor.key}-customer-import-resolve",
        "post",
        _preview_of(_vendor.key),
        data=lambda w: {"remote_id": "1", "resolution": "skip"},
        api=True,
    )
# Stale links (i10): the check of one client's link.
register("client_link_check", "post", _client, data=lambda w: {"vendor": "tripletex"})
register(
    "client-integration-link-check",
    "post",
    _client,
    data=lambda w: {"vendor": "tripletex"},
    api=True,
)
# A client's own credentials (i11): another firm's client is a 404 before any call.
register(
    "client-integration-connection",
    "put",
    _client,
    data=lambda w: {"vendor": "merit", "environment": "ee", "credentials": {"api_id": "x"}},
    api=True,
)
register("client-integration-connection", "delete", _client, api=True)
register(
    "client-integration-connection-test",
    "post",
    _client,
    data=lambda w: {"vendor": "merit", "credentials": {"api_id": "x"}},
    api=True,
)
register(
    "client_own_connection",
    "post",
    lambda w: {**_client(w), "vendor": "merit"},
    data=lambda w: {"action": "remove"},
)
register("client_link_search", "post", _client)
register("client_link_cell", "post", _client)
