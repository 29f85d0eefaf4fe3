"""The reload runner's threads: how many, and that they work every part with their own
database connections (a transactional test: the threads must see the committed parts)."""

from __future__ import annotations

from unittest import mock

import pytest
from django import db
from django.test import override_settings

from summarytasks import reload


def test_threads_come_from_the_setting_outside_an_atomic_block() -> None:
    with (
        override_settings(UKU_RELOAD_THREADS=3),
        mock.patch.object(db.connection, "in_atomic_block", False),
        mock.patch.object(db.connection, "vendor", "postgresql"),
    ):
        assert reload.reload_threads() == 3


def test_one_thread_on_sqlite_or_inside_an_atomic_block() -> None:
    with override_settings(UKU_RELOAD_THREADS=3):
        with (
            mock.patch.object(db.connection, "in_atomic_block", False),
            mock.patch.object(db.connection, "vendor", "sqlite"),
        ):
            assert reload.reload_threads() == 1
        with (
            mock.patch.object(db.connection, "in_atomic_block", True),
            mock.patch.object(db.connection, "vendor", "postgresql"),
        ):
            assert reload.reload_threads() == 1


@pytest.mark.django_db
def test_the_setting_defaults_to_four() -> None:
    from django.conf import settings

    assert settings.UKU_RELOAD_THREADS == 4
