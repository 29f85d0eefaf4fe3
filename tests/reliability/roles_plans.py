"""The role x plan matrix: ONE table of every action a role or a plan decides, with who may.

Each `Action` is a route and method (UI page or API call) and the roles allowed on the plans
allowed; `tests/reliability/test_role_plan_matrix.py` requests it as each of Owner, Admin,
Member and Billing on each of Free, Team and Elite (12 cases) and expects a 403 exactly where the
table says deny. A route guarded by `requires_role` / `requires_plan` / `HasRole` / `HasPlan` that
is not in the table fails that test, so a new guarded route joins the matrix by a line here.

Roles are letters: O(wner), A(dmin), M(ember), B(illing). `plan` is the lowest plan allowed:
the vendor's `required_plan` (Team) is checked where an accounting system is taken into use:
enabling it, testing and saving credentials, starting an import, activating billing on it. A
firm below that plan may still turn it off and remove its credentials (a key into its books must
always be removable), and reads and edits of what is already linked or mapped are not
plan-gated: they fail on their own when the connection is not usable. Object ids and request
bodies come from the tenant-isolation registry (`tests/isolation.py`) unless given here; vendor
routes are exercised with Tripletex, connected (the other vendors share the same views).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uku.models import Role

ROLE_LETTERS = {"O": Role.OWNER, "A": Role.ADMIN, "M": Role.MEMBER, "B": Role.BILLING}
VENDOR = "tripletex"

Builder = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    url_name: str
    method: str
    roles: str
    plan: str = "free"
    api: bool = False
    kwargs: Builder | None = None
    data: Builder | None = None
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url_name}"

    def allows(self, role: str, plan: str) -> bool:
        order = ("free", "team", "elite")
        return role in {ROLE_LETTERS[r] for r in self.roles} and order.index(plan) >= order.index(
            self.plan
        )


def _vendor(world: Any) -> dict[str, Any]:
    return {"vendor": VENDOR}


def _none(world: Any) -> dict[str, Any]:
    return {}


def _v(name: str) -> str:
    """A vendor route's name for the vendor the matrix uses."""
    return name.replace("{vendor}", VENDOR)


ALL, ADMINS, EDITORS, INVOICERS = "OAMB", "OA", "OAM", "OAB"
TEAM = "team"

ACTIONS: list[Action] = [
    # Firm and members (uku/).
    Action("company_settings", "get", ADMINS, kwargs=_none),
    Action("company_settings", "post", ADMINS, kwargs=_none, data=lambda w: {"name": "X"}),
    Action("members", "get", ALL, kwargs=_none),
    Action(
        "members",
        "post",
        ADMINS,
        kwargs=_none,
        data=lambda w: {"email": "n@f.no", "role": "member"},
    ),
    Action(
        "member_edit", "get", EDITORS[:2] + "M", why="the member edits their own row (the target)"
    ),
    Action("member_remove", "post", ADMINS),
    Action("invitation_cancel", "post", ADMINS),
    Action(
        "api-invitations",
        "post",
        ADMINS,
        api=True,
        kwargs=_none,
        data=lambda w: {"email": "n@f.no", "role": "member"},
    ),
    Action("member-list", "get", ALL, api=True, kwargs=_none),
    Action("member-detail", "get", ALL, api=True),
    Action(
        "member-detail",
        "patch",
        ADMINS + "M",
        api=True,
        data=lambda w: {"external_id": "7"},
        why="the member edits their own external id",
    ),
    Action("member-detail", "delete", ADMINS, api=True),
    # Settings & Apps (integrations/): owners and admins, on the vendor's plan.
    Action("integrations", "get", ADMINS, kwargs=_none),
    Action("integration_detail", "get", ADMINS, kwargs=_vendor),
    Action("integration_enable", "post", ADMINS, TEAM, kwargs=_vendor),
    Action("integration_disable", "post", ADMINS, kwargs=_vendor),
    Action("integration_test", "post", ADMINS, kwargs=_vendor),
    Action("integration_connect", "post", ADMINS, kwargs=_vendor),
    Action("integration_disconnect", "post", ADMINS, kwargs=_vendor),
    Action("integration_job", "get", ADMINS),
    Action("integration_job_resume", "post", ADMINS, why="owners, admins and the job's starter"),
    Action("integration_job_cancel", "post", ADMINS, why="owners, admins and the job's starter"),
    Action("api-integrations", "get", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-enable"), "post", ADMINS, TEAM, api=True, kwargs=_none),
    Action(_v("api-{vendor}-disable"), "post", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-connection"), "get", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-connection"), "put", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-connection"), "delete", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-connection-test"), "post", ADMINS, TEAM, api=True, kwargs=_none),
    Action("syncjob-list", "get", ADMINS, api=True, kwargs=_none),
    Action("syncjob-detail", "get", ADMINS, api=True),
    Action("syncjob-resume", "post", ADMINS, api=True, why="owners, admins and the job's starter"),
    Action("syncjob-cancel", "post", ADMINS, api=True, why="owners, admins and the job's starter"),
    # Customer import (clients/ over the integration).
    Action("import_panel", "get", ADMINS, kwargs=_vendor),
    Action("import_start", "post", ADMINS, TEAM, kwargs=_vendor),
    Action("import_confirm", "post", ADMINS, TEAM),
    Action("import_select", "post", ADMINS, TEAM),
    Action("import_resolve", "post", ADMINS, TEAM),
    Action(_v("api-{vendor}-customer-imports"), "post", ADMINS, TEAM, api=True, kwargs=_none),
    Action(_v("api-{vendor}-customer-import"), "get", ADMINS, api=True),
    Action(_v("api-{vendor}-customer-import-confirm"), "post", ADMINS, TEAM, api=True),
    Action(_v("api-{vendor}-customer-import-selection"), "get", ADMINS, api=True),
    Action(_v("api-{vendor}-customer-import-selection"), "post", ADMINS, TEAM, api=True),
    Action(_v("api-{vendor}-customer-import-resolve"), "post", ADMINS, TEAM, api=True),
    # Clients and their links.
    Action("client_list", "get", ALL, kwargs=_none),
    Action("client_create", "get", EDITORS, kwargs=_none),
    Action("client_create", "post", EDITORS, kwargs=_none, data=lambda w: {"name": "Ny AS"}),
    Action("client_detail", "get", ALL),
    Action("client_archive", "post", EDITORS),
    Action("client_restore", "post", EDITORS),
    Action("client_delete", "get", ADMINS),
    Action("client_delete", "post", ADMINS),
    Action("client_link", "get", EDITORS),
    Action("client_link", "post", EDITORS),
    Action("client_link_search", "get", EDITORS),
    Action("client_unlink", "post", EDITORS),
    Action("client_link_check", "post", EDITORS),
    Action("link_suggestions", "get", EDITORS, kwargs=_vendor),
    Action("client-list", "get", ALL, api=True, kwargs=_none),
    Action(
        "client-list", "post", EDITORS, api=True, kwargs=_none, data=lambda w: {"name": "Ny AS"}
    ),
    Action("client-detail", "get", ALL, api=True),
    Action("client-detail", "patch", EDITORS, api=True, data=lambda w: {"city": "Bergen"}),
    Action("client-detail", "delete", ADMINS, api=True),
    Action("client-archive", "post", EDITORS, api=True),
    Action("client-restore", "post", EDITORS, api=True),
    Action("client-integration-link", "put", EDITORS, api=True),
    Action("client-integration-link", "delete", EDITORS, api=True),
    Action("client-integration-link-check", "post", EDITORS, api=True),
    # A client's own credentials (vendors with per-client credentials): its accountants keep
    # them on the vendor's plan; removing them works on any plan.
    Action("client-integration-connection", "put", EDITORS, TEAM, api=True),
    Action("client-integration-connection", "delete", EDITORS, api=True),
    Action("client-integration-connection-test", "post", EDITORS, TEAM, api=True),
    Action("client_own_connection", "post", EDITORS),
    # The audit log: owners and admins, on every plan.
    Action("audit_log", "get", ADMINS, kwargs=_none),
    Action("audit-event-list", "get", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-customers"), "get", EDITORS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-link-suggestions"), "get", EDITORS, api=True, kwargs=_none),
    Action(
        _v("api-{vendor}-link-suggestions-accept"),
        "post",
        EDITORS,
        api=True,
        kwargs=_none,
        data=lambda w: {"links": []},
    ),
    Action(
        _v("api-{vendor}-link-suggestions-conflicts"),
        "post",
        EDITORS,
        api=True,
        kwargs=_none,
        data=lambda w: {"resolutions": []},
    ),
    Action(_v("api-{vendor}-books-companies"), "get", EDITORS, api=True, kwargs=_none),
    # Billing settings and imports (billing/).
    Action("billing_settings", "get", ADMINS, kwargs=_none),
    Action(
        "billing_activate",
        "post",
        ADMINS,
        TEAM,
        kwargs=_none,
        data=lambda w: {"accounting_vendor": VENDOR},
    ),
    Action("billing_deactivate", "post", ADMINS, kwargs=_none),
    Action("billing_invoice_settings", "post", ADMINS, kwargs=_none),
    Action("billing_import_vat_types", "post", ADMINS, kwargs=_none),
    Action("billing_import_products", "post", ADMINS, kwargs=_none),
    Action("billing_import_job", "get", ADMINS),
    Action("api-billing-activation", "get", ADMINS, api=True, kwargs=_none),
    Action(
        "api-billing-activate",
        "post",
        ADMINS,
        TEAM,
        api=True,
        kwargs=_none,
        data=lambda w: {"vendor": VENDOR},
    ),
    Action("api-billing-deactivate", "post", ADMINS, api=True, kwargs=_none),
    Action("api-billing-invoice-settings", "get", ALL, api=True, kwargs=_none),
    Action(
        "api-billing-invoice-settings",
        "patch",
        ADMINS,
        api=True,
        kwargs=_none,
        data=lambda w: {"default_due_days": 14},
    ),
    Action(_v("api-{vendor}-product-imports"), "post", ADMINS, TEAM, api=True, kwargs=_none),
    Action(_v("api-{vendor}-vat-type-imports"), "post", ADMINS, TEAM, api=True, kwargs=_none),
    # Invoices: billing staff, admins and owners write; every member reads.
    Action("invoice_list", "get", ALL, kwargs=_none),
    Action("invoice_new", "get", INVOICERS, kwargs=_none),
    Action("invoice_bulk", "get", INVOICERS, kwargs=_none),
    Action("invoice_product_defaults", "get", INVOICERS, kwargs=_none),
    Action("invoice_refresh_status", "post", INVOICERS, kwargs=_none),
    Action("invoice_detail", "get", ALL),
    Action("invoice_print", "get", ALL),
    Action("invoice_pdf", "get", ALL),
    Action("invoice_edit", "post", INVOICERS),
    Action("invoice_issue", "post", INVOICERS),
    Action("invoice_retry", "post", INVOICERS),
    Action("invoice_delete", "post", INVOICERS),
    Action("invoice_line_add", "post", INVOICERS),
    Action("invoice_line_edit", "post", INVOICERS),
    Action("invoice_line_remove", "post", INVOICERS),
    Action("invoice_line_move", "post", INVOICERS),
    Action("billing-invoice-list", "get", ALL, api=True, kwargs=_none),
    Action("billing-invoice-detail", "get", ALL, api=True),
    Action("billing-invoice-detail", "patch", INVOICERS, api=True),
    Action("billing-invoice-detail", "delete", INVOICERS, api=True),
    Action("billing-invoice-issue", "post", INVOICERS, api=True),
    Action("billing-invoice-export", "post", INVOICERS, api=True),
    Action("billing-invoice-refresh-status", "post", INVOICERS, api=True, kwargs=_none),
    # Summary tasks: owners and admins configure and reload; editors fill tasks in.
    Action("summary_month", "get", ALL, kwargs=_none),
    Action("client_summary_tasks", "get", ALL),
    Action("summary_task_update", "post", EDITORS),
    Action("summary_task_value", "post", EDITORS),
    Action("summary_settings_save", "post", ADMINS, kwargs=_vendor),
    Action("summary_mapping_save", "post", ADMINS, kwargs=_vendor),
    Action(
        "summary_field_create",
        "post",
        ADMINS,
        kwargs=_vendor,
        data=lambda w: {"name": "Bilag"},
    ),
    Action("summary_reload", "post", ADMINS),
    Action(_v("api-{vendor}-summary-settings"), "get", ALL, api=True, kwargs=_none),
    Action(_v("api-{vendor}-summary-settings"), "put", ADMINS, api=True, kwargs=_none),
    Action(_v("api-{vendor}-statistics"), "get", ALL, api=True, kwargs=_none),
    Action(_v("api-{vendor}-field-mapping"), "get", ALL, api=True, kwargs=_none),
    Action(
        _v("api-{vendor}-field-mapping"),
        "put",
        ADMINS,
        api=True,
        kwargs=_none,
        data=lambda w: {"mappings": []},
    ),
    Action(_v("api-{vendor}-reload"), "post", ADMINS, api=True),
    Action("customtaskfield-list", "get", ALL, api=True, kwargs=_none),
    Action(
        "customtaskfield-list",
        "post",
        ADMINS,
        api=True,
        kwargs=_none,
        data=lambda w: {"name": "Bilag"},
    ),
    Action("customtaskfield-detail", "get", ALL, api=True),
    Action("customtaskfield-detail", "patch", ADMINS, api=True),
    Action("summarytask-list", "get", ALL, api=True, kwargs=_none),
    Action("summarytask-detail", "get", ALL, api=True),
    Action("summarytask-detail", "patch", EDITORS, api=True),
]

# The same guards hold for a POST to the pages above that are read with GET (their views answer
# every method), and for the rest of the activation API.
ACTIONS += [
    Action("billing_settings", "post", ADMINS, kwargs=_none),
    Action("billing_import_job", "post", ADMINS),
    Action("invoice_new", "post", INVOICERS, kwargs=_none),
    Action("invoice_bulk", "post", INVOICERS, kwargs=_none),
    Action("invoice_product_defaults", "post", INVOICERS, kwargs=_none),
    Action("client_link_search", "post", EDITORS),
    Action("link_suggestions", "post", EDITORS, kwargs=_vendor),
    Action("import_panel", "post", ADMINS, kwargs=_vendor),
    Action("integrations", "post", ADMINS, kwargs=_none),
    Action("integration_detail", "post", ADMINS, kwargs=_vendor),
    Action("integration_job", "post", ADMINS),
    Action(
        "api-billing-activation",
        "post",
        ADMINS,
        TEAM,
        api=True,
        kwargs=_none,
        data=lambda w: {"accounting_vendor": VENDOR},
    ),
    Action("api-billing-activation", "delete", ADMINS, api=True, kwargs=_none),
]

# Guarded routes left out of the matrix, each with why (the guard test accepts only these).
NOT_IN_MATRIX: dict[str, str] = {}
