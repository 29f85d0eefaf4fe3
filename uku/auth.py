"""E-mail login (case-insensitive)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from uku.models import User


class EmailBackend(ModelBackend):
    """Authenticates with e-mail and password; the e-mail is matched case-insensitively."""

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
        return None
