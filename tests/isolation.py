"""The tenant-isolation matrix: every URL and API route that takes an object id.

Each entry says how to build firm A's ids (and a request body, if any) from the two-firm world.
`tests/uku/test_isolation.py` requests every entry as firm B's owner and expects 404, and fails
when a URL pattern with a parameter is neither registered here nor listed in `EXEMPT` with a reason.
Adding a route with an id? Register it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django_scopes import scopes_disabled

from uku import services
from uku.models import ApiToken, Invitation, Membership, Role


@dataclass(frozen=True)
class Route:
    url_name: str
    method: str
    kwargs: Callable[[Any], dict[str, Any]]
    data: Callable[[Any], dict[str, Any]] = field(default=lambda world: {})
    api: bool = False

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.url_name}"


ROUTES: list[Route] = []

# url names (or namespace prefixes ending in ":") whose parameters are not firm objects.
EXEMPT: dict[str, str] = {
    "accept_invitation": "the parameter is the invitation link's secret, valid across firms",
    "password_reset_confirm": "Django's password reset link, not a firm object",
    "admin:": "staff-only Django admin, outside tenancy by design",
    "set_language": "no id",
    # Settings & Apps routes take a vendor key from the code's registry, not a firm object: the
    # firm is always the request's own.
    "integration_detail": "vendor key, not a firm object",
    "integration_enable": "vendor key, not a firm object",
    "integration_disable": "vendor key, not a firm object",
    "integration_test": "vendor key, not a firm object",
    "integration_connect": "vendor key, not a firm object",
    "integration_disconnect": "vendor key, not a firm object",
}


def register(
    url_name: str, method: str, kwargs: Callable[[Any], dict[str, Any]], **extra: Any
) -> None:
    ROUTES.append(Route(url_name, method, kwargs, **extra))


def _accountant_membership(world: Any) -> dict[str, Any]:
    return {"public_id": world.membership(world.accountant).public_id}


def _invitation(world: Any) -> dict[str, Any]:
    with world.scope_a():
        issued = services.invite_member(
            company=world.firm_a,
            actor=world.membership(world.owner),
            email="new@fjord.no",
            role=Role.MEMBER,
        )
    return {"public_id": issued.invitation.public_id}


def _owner_token(world: Any) -> dict[str, Any]:
    with world.scope_a():
        token, _raw = services.create_api_token(company=world.firm_a, actor=world.owner, name="a")
    return {"public_id": token.public_id}


def _job(world: Any) -> dict[str, Any]:
    from integrations import services as integration_services

    with world.scope_a():
        job, _created = integration_services.start_job(
            company=world.firm_a, actor=world.owner, vendor="tripletex", kind="connection_test"
        )
    return {"public_id": job.public_id}


def _notification(world: Any) -> dict[str, Any]:
    from integrations import services as integration_services

    with world.scope_a():
        (note,) = integration_services.notify(company=world.firm_a, text="x", users=[world.owner])
    return {"public_id": note.public_id}


register("member_edit", "get", _accountant_membership)
register("member_edit", "post", _accountant_membership, data=lambda w: {"role": "admin"})
register("member_remove", "post", _accountant_membership)
register("invitation_cancel", "post", _invitation)
register("api_token_revoke", "post", _owner_token)
register("member-detail", "get", _accountant_membership, api=True)
register(
    "member-detail", "patch", _accountant_membership, data=lambda w: {"role": "admin"}, api=True
)
register("member-detail", "delete", _accountant_membership, api=True)
register("integration_job", "get", lambda w: {"vendor": "tripletex", **_job(w)})
register("notification_read", "post", _notification)
register("syncjob-detail", "get", _job, api=True)
register("notification-read", "post", _notification, api=True)


def firm_a_unchanged(world: Any) -> bool:
    """After an outsider's attempts, firm A's members, invitations and tokens are as they were."""
    with scopes_disabled():
        return (
            Membership.objects.filter(company=world.firm_a, role=Role.MEMBER).count() == 1
            and not ApiToken.objects.filter(company=world.firm_a, revoked_at__isnull=False).exists()
            and Invitation.objects.filter(company=world.firm_a).count() <= 1
        )
