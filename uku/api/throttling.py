"""API throttling: one budget per user (token or session) and one per client address for anonymous
requests. Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (environment variables
`UKU_API_THROTTLE_USER` / `UKU_API_THROTTLE_ANON`); counters live in the shared cache.

A throttled request answers 429 in the API's error shape (`{"code": "throttled", ...}`) with a
`Retry-After` header (see `uku.api.errors`).
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _RateFromSettings:
    """DRF binds `THROTTLE_RATES` once at import; reading the rate per request instead means a
    changed setting (an override in a test, a reloaded configuration) takes effect."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(getattr(self, "scope", ""))
        return None if rate is None else str(rate)


class AnonThrottle(_RateFromSettings, AnonRateThrottle):
    """Anonymous requests, counted per client address."""


class UserThrottle(_RateFromSettings, UserRateThrottle):
    """Authenticated requests, counted per user across all their tokens and sessions."""
