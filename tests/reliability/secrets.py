"""Search the whole database for a secret: every text and JSON column of every model, except the
encrypted credential columns (which hold it, encrypted, by design)."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django_scopes import scopes_disabled

# (app label, model, field) that hold secrets encrypted: the only columns not searched.
ENCRYPTED_COLUMNS = {("integrations", "integrationcredential", "secret_encrypted")}


def database_hits(secret: str) -> list[str]:
    """`app.model.field` of every row whose text or JSON column contains `secret`."""
    hits = []
    with scopes_disabled():
        for model in apps.get_models():
            meta = model._meta
            fields = [
                f
                for f in meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField | models.JSONField)
                and (meta.app_label, meta.model_name, f.name) not in ENCRYPTED_COLUMNS
            ]
            if not fields:
                continue
            manager = model._base_manager
            for field in fields:
                if isinstance(field, models.JSONField):
                    # JSON: search its text (keys and values alike).
                    values = manager.exclude(**{f"{field.name}__isnull": True}).values_list(
                        field.name, flat=True
                    )
                    found = any(secret in repr(value) for value in values)
                else:
                    found = manager.filter(**{f"{field.name}__contains": secret}).exists()
                if found:
                    hits.append(f"{meta.label}.{field.name}")
    return hits
