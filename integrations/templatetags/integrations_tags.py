from __future__ import annotations

from django import template

from integrations.jobs import job_label

register = template.Library()


@register.filter
def kind_label(kind: str) -> str:
    """The human name of a sync job kind ("Customer import", ...)."""
    return job_label(kind)
