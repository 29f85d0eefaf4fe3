from __future__ import annotations

from django import template

from integrations.base import VendorInfo
from integrations.jobs import describe_result, job_label
from integrations.models import SyncJob

register = template.Library()


@register.filter
def kind_label(kind: str) -> str:
    """The human name of a sync job kind ("Customer import", ...)."""
    return job_label(kind)


@register.filter
def credential_label(name: str, vendor: VendorInfo) -> str:
    """The label the vendor gives the credential field `name` ("API ID")."""
    return next((str(f.label) for f in vendor.credential_fields if f.name == name), name)


@register.filter
def job_result(job: SyncJob) -> str:
    """What the job did, in words ("220 created, 1 failed"): `jobs.describe_result`."""
    return describe_result(job)
