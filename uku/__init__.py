"""uku: practice management for Norwegian accounting firms."""

from uku.celery import app as celery_app

__all__ = ["celery_app"]
