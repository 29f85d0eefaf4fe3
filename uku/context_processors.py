from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from uku.http import is_firm_request
from uku.tenancy import ADMIN_ROLES, memberships_of


def company(request: HttpRequest) -> dict[str, Any]:
    """The current firm, the user's role, and the firms to switch between (for the nav)."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    return {
        "company": getattr(request, "company", None),
        "membership": membership,
        "is_company_admin": membership is not None and membership.role in ADMIN_ROLES,
        "user_firms": (lambda: memberships_of(user)),
        "unread_notifications": (lambda: _unread(request)),
    }


def _unread(request: HttpRequest) -> int:
    from integrations.models import Notification

    if not is_firm_request(request):
        return 0
    return Notification.objects.filter(
        company=request.company, recipient=request.user, read_at__isnull=True
    ).count()
