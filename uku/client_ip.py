"""The caller's address, the same way for the login lock-out, the reset-mail limit and the API
throttle.

Behind `UKU_NUM_PROXIES` trusted proxies, `REMOTE_ADDR` is the nearest proxy: counting failures
against it would let five typos anywhere lock everyone out. The address then is the one the
outermost trusted proxy saw, the n-th from the right of `X-Forwarded-For` (what DRF's throttle
does with `NUM_PROXIES`); entries further left are the client's to forge and are ignored.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    proxies = int(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0)
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return str(request.META.get("REMOTE_ADDR", ""))
