"""The one way a service decides whether someone may act: their role in the firm, the firm's plan.

Every service that checks permissions calls `require` with the firm, the acting `User` and what
it needs; it raises Django's `PermissionDenied` with the service's own message (the pages and the
API show it), or `PlanRequired` (rendered as the "needs a higher plan" page, or a 403 with
`plan_required` in the API). Views and API views check the same roles earlier on the request
(`uku.tenancy.requires_role`, `uku.api.permissions.HasRole`) to answer before doing any work; the
service check is the one that holds whoever calls it (a view, the API, a task, the shell).
"""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise

from uku.models import Company, Membership, Plan, Role, User

ADMIN_ROLES: tuple[Role, ...] = (Role.OWNER, Role.ADMIN)
"""Owners and admins: who manage integrations, billing and members."""


class PlanRequired(PermissionDenied):
    """Raised when the firm's plan is below what a feature needs; rendered with an explanation."""

    def __init__(self, minimum: str) -> None:
        super().__init__(minimum)
        self.minimum = Plan(minimum)


def membership_of(company: Company, actor: User) -> Membership | None:
    """`actor`'s membership in `company`, or None. Runs inside the firm's scope (one query)."""
    return Membership.objects.filter(company=company, user=actor).first()


def require(
    company: Company,
    actor: User,
    *,
    roles: Collection[str] | None = None,
    plan: str | None = None,
    message: str | Promise = "",
) -> Membership | None:
    """Check that `actor` may act in `company`; return their membership (None when no `roles`
    were asked for: then no membership is looked up).

    - `roles`: the actor must be a member whose role is one of them, else `PermissionDenied(message)`
      (a non-member is refused the same way: to them the firm does not exist).
    - `plan`: the firm's plan must be at least `plan`, else `PlanRequired(plan)`.

    Roles are checked before the plan, so a member without the role learns nothing about the
    plan. Reads only; safe to call any number of times.
    """
    membership = None
    if roles is not None:
        membership = membership_of(company, actor)
        if membership is None or membership.role not in roles:
            raise PermissionDenied(message)
    if plan and not company.has_plan(plan):
        raise PlanRequired(plan)
    return membership
