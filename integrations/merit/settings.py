"""Merit Aktiva's settings, kept in the vendor's folder so `uku/settings.py` names no vendor.

Each value is read when used: from Django's settings when a test (or a deployment's own settings
module) sets it there, else from the environment variable of the same name, else the default
below, taken from the vendor fact sheet. `.env` lines work too, since uku's settings load `.env`
into the environment before anything runs.

| variable | default |
|---|---|
| `MERIT_EE_URL` | `https://aktiva.merit.ee/api/v1/` (Merit Aktiva, Estonia) |
| `MERIT_FI_URL` | `https://app.passelimerit.fi/api/v1/` (Passeli Merit, Finland; the old host `aktiva.meritaktiva.fi` still works) |
| `MERIT_PL_URL` | `https://program.360ksiegowosc.pl/api/v1/` (360 Księgowość, Poland) |
| `MERIT_CONNECT_TIMEOUT` / `MERIT_READ_TIMEOUT` | `5` / `30` seconds |
| `MERIT_MAX_ATTEMPTS` | `4` attempts of a read |
| `MERIT_MAX_INLINE_WAIT` | `60` seconds a call may wait for the shared budget (Merit's window is a minute) |
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings as django_settings

#: uku's environment key of each Merit instance -> the setting holding its API v1 base URL.
BASE_URL_SETTINGS = {"ee": "MERIT_EE_URL", "fi": "MERIT_FI_URL", "pl": "MERIT_PL_URL"}

DEFAULTS: dict[str, Any] = {
    "MERIT_EE_URL": "https://aktiva.merit.ee/api/v1/",
    "MERIT_FI_URL": "https://app.passelimerit.fi/api/v1/",
    "MERIT_PL_URL": "https://program.360ksiegowosc.pl/api/v1/",
    "MERIT_CONNECT_TIMEOUT": 5.0,
    "MERIT_READ_TIMEOUT": 30.0,
    "MERIT_MAX_ATTEMPTS": 4,
    "MERIT_MAX_INLINE_WAIT": 60.0,
}


def get(name: str) -> Any:
    """The setting `name`: Django settings, else the environment (cast to the default's type),
    else `DEFAULTS`. Raises `KeyError` for a name that is not Merit's."""
    default = DEFAULTS[name]
    if hasattr(django_settings, name):
        return getattr(django_settings, name)
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return type(default)(raw)


def base_url(environment: str) -> str:
    """The API v1 base URL of the instance `environment` ("ee", "fi" or "pl"); "" if unknown."""
    name = BASE_URL_SETTINGS.get(environment)
    return str(get(name) or "") if name else ""
