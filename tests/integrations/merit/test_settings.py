"""Merit's settings live in its folder: Django settings win, then the environment, then the fact
sheet's defaults; `make run`'s demo environment points every country at the emulator."""

from __future__ import annotations

from integrations.merit import settings as merit_settings
from integrations.merit.sandbox import demo


def test_defaults_are_merits_own_https_hosts(monkeypatch) -> None:
    for name in merit_settings.BASE_URL_SETTINGS.values():
        monkeypatch.delenv(name, raising=False)
    assert merit_settings.base_url("ee") == "https://aktiva.merit.ee/api/v1/"
    assert merit_settings.base_url("fi") == "https://app.passelimerit.fi/api/v1/"
    assert merit_settings.base_url("pl") == "https://program.360ksiegowosc.pl/api/v1/"
    assert merit_settings.base_url("no") == ""


def test_the_environment_overrides_the_default_with_its_type(monkeypatch) -> None:
    monkeypatch.setenv("MERIT_READ_TIMEOUT", "12.5")
    monkeypatch.setenv("MERIT_MAX_ATTEMPTS", "2")
    assert merit_settings.get("MERIT_READ_TIMEOUT") == 12.5
    assert merit_settings.get("MERIT_MAX_ATTEMPTS") == 2


def test_django_settings_win_over_the_environment(monkeypatch, settings) -> None:
    monkeypatch.setenv("MERIT_EE_URL", "https://env.example/api/v1/")
    settings.MERIT_EE_URL = "https://settings.example/api/v1/"
    assert merit_settings.base_url("ee") == "https://settings.example/api/v1/"


def test_the_demo_points_every_country_at_the_emulator() -> None:
    env = demo.environment(8766)
    assert env == {
        "MERIT_EE_URL": "http://127.0.0.1:8766/ee/api/v1/",
        "MERIT_FI_URL": "http://127.0.0.1:8766/fi/api/v1/",
        "MERIT_PL_URL": "http://127.0.0.1:8766/pl/api/v1/",
    }
    assert demo.COMMAND[0] == "merit_sandbox"
