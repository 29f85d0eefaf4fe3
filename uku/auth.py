"""E-mail login (case-insensitive), and the audit events of failed log-ins."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.http import HttpRequest
from django_scopes import scopes_disabled

from uku.models import Membership, User


def record_for_firms_of(
    user: User, action: str, *, login: str, request: HttpRequest | None, details: dict
) -> int:
    """Record `action` about `user` in each firm they belong to (their owners and admins are the
    ones to see that someone is guessing a colleague's password). Returns the events made.

    A login name that is no user has no firm, so nothing is recorded: a firm-less event would be
    visible to no firm, and anyone on the internet could fill the table with them. django-axes
    still counts (and locks) those attempts by name and address.
    """
    from uku import audit
    from uku.client_ip import client_ip

    ip = client_ip(request) if request is not None else None
    with scopes_disabled():
        memberships = list(Membership.objects.filter(user=user).select_related("company"))
    with transaction.atomic():
        for membership in memberships:
            audit.record(
                company=membership.company,
                actor=user,
                actor_label=login or user.email,
                action=action,
                object_type="user",
                object_id=str(membership.public_id),
                object_label=user.email,
                details=details,
                ip=ip,
            )
    return len(memberships)


class EmailBackend(ModelBackend):
    """Authenticates with e-mail and password; the e-mail is matched case-insensitively. A
    failure for an existing account is an `auth.login_failed` audit event in its firms."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: object,
    ) -> User | None:
        login = (email or username or "").strip()
        if not login or password is None:
            return None
        try:
            user = User.objects.get(email__iexact=login)
        except User.DoesNotExist:
            User().set_password(password)  # equalise timing with a real check
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        # The reason, never what was typed as the password.
        reason = "wrong_password" if user.is_active else "inactive_account"
        record_for_firms_of(
            user,
            "auth.login_failed",
            login=login.lower(),
            request=request,
            details={"reason": reason},
        )
        return None
