from __future__ import annotations

from integrations.base import AccountingAdapter, AuthError, ConfigError, RemoteCompany

GOOD_KEY = "fake-key-0123456789"


class FakebooksAdapter(AccountingAdapter):
    """Accepts `GOOD_KEY` for any API ID, in any environment; makes no network call."""

    key = "fakebooks"

    @classmethod
    def clean_credentials(cls, raw: dict[str, str]) -> dict[str, str]:
        cleaned = {name: (raw.get(name) or "").strip() for name in ("api_id", "api_key")}
        for name, label in (("api_id", "API ID"), ("api_key", "API key")):
            if not cleaned[name]:
                raise ConfigError(f"Enter the {label}.", details={"field": name})
        return cleaned

    def test_connection(self) -> RemoteCompany:
        if self.credentials["api_key"] != GOOD_KEY:
            raise AuthError("Fakebooks refused the API key.", details={"field": "api_key"})
        return RemoteCompany(id="1", name=f"Fake OÜ ({self.environment})")
