"""DRF permissions: firm membership, roles and plans. Mirrors `uku.tenancy.requires_*` for views."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from uku.http import firm_of, tenant_request
from uku.models import Plan


class PlanRequiredError(exceptions.PermissionDenied):
    default_code = "plan_required"


class IsCompanyMember(permissions.BasePermission):
    """Authenticated and acting inside a firm."""

    message = "You are not a member of any firm."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and tenant_request(request).company is not None
        )


def HasRole(*roles: str) -> type[permissions.BasePermission]:
    """A permission class allowing only members whose role is one of `roles`."""

    class _HasRole(IsCompanyMember):
        message = "Your role in this firm does not allow this."

        def has_permission(self, request: Request, view: Any) -> bool:
            membership = tenant_request(request).membership
            return (
                super().has_permission(request, view)
                and membership is not None
                and membership.role in roles
            )

    _HasRole.__name__ = "HasRole_" + "_".join(roles)
    return _HasRole


def HasPlan(minimum: str) -> type[permissions.BasePermission]:
    """A permission class requiring the firm's plan to be at least `minimum`."""

    class _HasPlan(IsCompanyMember):
        def has_permission(self, request: Request, view: Any) -> bool:
            if not super().has_permission(request, view):
                return False
            company = firm_of(request)
            if not company.has_plan(minimum):
                raise PlanRequiredError(
                    f"This needs the {Plan(minimum).label} plan or higher; "
                    f"your firm is on {Plan(company.plan).label}."
                )
            return True

    _HasPlan.__name__ = f"HasPlan_{minimum}"
    return _HasPlan
