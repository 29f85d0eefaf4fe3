"""The Celery application. Tasks live in `<app>/tasks.py` and are autodiscovered.

Configuration comes from Django settings (the `CELERY_` prefix), including the beat schedule.
"""

from __future__ import annotations

import logging.config
import os
from pathlib import Path

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uku.settings")

app = Celery("uku")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_through_django(**kwargs: object) -> None:
    """Worker and beat log through Django's LOGGING (JSON lines, secrets redacted).

    Without a receiver for this signal Celery replaces the root logger's handlers with its own
    plain-text ones, which bypass `uku.logging.RedactSecretsFilter`: a task logging a token would
    print it. Connecting it makes Celery configure nothing, so the level comes from LOG_LEVEL,
    not from `--loglevel`.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@app.on_after_configure.connect
def _make_filesystem_queue_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport (embedded default) needs its folders to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
