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


class LeakWatch:
    """Collects everything a secret could leak into while a scenario runs: log output at DEBUG
    (through uku's JSON handler and filters, web and task code alike: tasks run in this process),
    the raw log records, Celery messages (the arguments of every published and started task),
    and whatever the scenario adds with `see()` (HTML, API bodies, exception texts).
    `leaks(secret)` lists where it was found, the database outside the encrypted columns
    included."""

    def __init__(self) -> None:
        import io
        import logging

        from uku.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter

        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.addFilter(RequestIdFilter())
        self.handler.addFilter(RedactSecretsFilter())
        self.handler.setFormatter(JsonFormatter())
        self.records: list[logging.LogRecord] = []
        self.messages: list[str] = []
        self.seen: list[str] = []

    def see(self, *texts: object) -> None:
        for text in texts:
            if hasattr(text, "content"):
                text = text.content.decode(errors="replace")  # a response
            self.seen.append(text if isinstance(text, str) else repr(text))

    def see_exception(self, exc: BaseException) -> None:
        details = getattr(exc, "details", None)
        self.see(str(exc), repr(exc), repr(details), repr(exc.__cause__), repr(exc.__context__))

    def __enter__(self) -> LeakWatch:
        import logging

        from celery.signals import before_task_publish, task_prerun

        watch = self

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                watch.records.append(record)

        self.keep = Keep(level=logging.DEBUG)
        root = logging.getLogger()
        self.old_level = root.level
        # The raw records before any handler: a redaction filter (uku's console handler's, the
        # JSON handler's) edits a record in place.
        root.handlers.insert(0, self.keep)
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)

        def published(sender=None, body=None, headers=None, **_):
            watch.messages.append(repr((body, headers)))

        def started(sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
            watch.messages.append(repr((task_id, args, kwargs)))

        self._published, self._started = published, started
        before_task_publish.connect(published, weak=False)
        task_prerun.connect(started, weak=False)
        return self

    def __exit__(self, *exc: object) -> None:
        import logging

        from celery.signals import before_task_publish, task_prerun

        before_task_publish.disconnect(self._published)
        task_prerun.disconnect(self._started)
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.removeHandler(self.keep)
        root.setLevel(self.old_level)

    def leaks(self, secret: str) -> list[str]:
        raw = []
        for record in self.records:
            try:
                raw.append(record.getMessage() + repr(record.__dict__))
            except Exception:  # a record whose args do not format: its parts then
                raw.append(repr(record.__dict__))
        places = {
            "log output": [self.stream.getvalue()],
            "log record": raw,
            "Celery message": self.messages,
            "page, API answer or exception": self.seen,
        }
        found = [
            f"{where}: {text[max(text.find(secret) - 80, 0) :][:200]!r}"
            for where, texts in places.items()
            for text in texts
            if secret in text
        ]
        return found + [f"database: {hit}" for hit in database_hits(secret)]
