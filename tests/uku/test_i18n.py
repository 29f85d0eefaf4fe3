"""English and Norwegian Bokmål, switched from the nav."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation


def test_it_switches_the_interface_to_norwegian(world, as_user) -> None:
    client = as_user(world.owner)
    assert ">Members<" in client.get(reverse("members")).content.decode()
    response = client.post(reverse("set_language"), {"language": "nb", "next": "/members/"})
    assert response.status_code == 302
    page = client.get(reverse("members")).content.decode()
    assert '<html lang="nb">' in page
    assert ">Medlemmer<" in page and "Inviter et medlem" in page


def test_the_login_page_speaks_norwegian_to_a_norwegian_browser(db, client) -> None:
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9").content.decode()
    assert "Logg inn" in page


def test_settings_and_apps_and_token_errors_speak_norwegian(world, as_user) -> None:
    from integrations.base import ConfigError
    from integrations.tripletex.adapter import TripletexAdapter

    client = as_user(world.owner)
    client.post(reverse("set_language"), {"language": "nb", "next": "/"})
    page = client.get("/settings/apps/").content.decode()
    assert "Innstillinger og apper" in page
    with translation.override("nb"), pytest.raises(ConfigError) as raised:
        TripletexAdapter.clean_credentials({"employee_token": " "})
    assert "Selskap → API-tilgang" in raised.value.message
