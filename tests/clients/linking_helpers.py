"""Helpers for the link tests: customers and client companies in the Tripletex sandbox, and
clients in firm A."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from clients.models import Client


def customer(tx: Any, name: str) -> dict[str, Any]:
    """The firm's sandbox customer called `name`."""
    store = tx.store
    return next(
        row for row in store.company_rows("customer", store.firm_company_id) if row["name"] == name
    )


def books_company(tx: Any, name: str) -> dict[str, Any]:
    """The client company called `name` the firm has login access to."""
    store = tx.store
    for company_id in store.company_clients(store.firm_company_id):
        row = store.get("company", company_id)
        if row and row["name"] == name:
            return row
    raise LookupError(name)


def grant_login_access(tx: Any, name: str, organisation_number: str) -> int:
    """A new client company the firm's accountants can log into (the control API has no such
    operation, so the sandbox's `Store` is changed directly, under its lock)."""
    store = tx.store
    with store.lock:
        row = store.insert(
            "company", None, {"name": name, "organizationNumber": organisation_number}
        )
        row["_company"] = row["id"]
        row["_clients"] = []
        firm = store.get("company", store.firm_company_id)
        firm["_clients"] = [*firm.get("_clients", []), row["id"]]
    return int(row["id"])


def revoke_all_login_access(tx: Any) -> None:
    """The firm's login opens no client company (an employee without accountant access)."""
    store = tx.store
    with store.lock:
        store.get("company", store.firm_company_id)["_clients"] = []


def make_client(world: Any, name: str, **fields: Any) -> Client:
    with scopes_disabled():
        client = Client(company=world.firm_a, name=name, **fields)
        client.save()
    return client
