"""Use cases of the clients app: starting and confirming customer imports, editing clients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clients import importing
from clients.models import Client
from integrations import services as integration_services
from integrations.base import ConfigError, get_vendor
from integrations.jobs import request_job
from integrations.models import ConnectionStatus, SyncJob, SyncJobStatus
from uku.models import Company, Membership, Role, User
from uku.permissions import require


def _assert_connected(company: Company, actor: User, vendor: str) -> None:
    integration_services.assert_can_manage(company, actor, vendor)
    connection = integration_services.get_connection(company, vendor)
    if not connection.enabled or connection.status == ConnectionStatus.NOT_CONNECTED:
        raise ConfigError(
            _("Connect %(vendor)s first: Settings & Apps → %(vendor)s → Connect.")
            % {"vendor": get_vendor(vendor).label}
        )


def start_customer_import(
    *, company: Company, actor: User, vendor: str, full: bool = False
) -> tuple[SyncJob, bool]:
    """Queue a preview of the remote customers (or join the one running). `full` lists every
    customer; otherwise only those changed since the last confirmed import, where possible."""
    _assert_connected(company, actor, vendor)
    # The option is part of the job from its creation: a worker may run it at once.
    return request_job(
        company=company,
        actor=actor,
        vendor=vendor,
        kind=importing.PREVIEW,
        options={"full": full},
    )


def confirm_customer_import(
    *,
    company: Company,
    actor: User,
    preview: SyncJob,
    remote_ids: Iterable[str] | None = None,
    select: str | None = None,
) -> tuple[SyncJob, bool]:
    """Select rows of a finished preview and queue the import of them. A second confirm while
    one runs joins it (double clicks create nothing twice)."""
    _assert_connected(company, actor, preview.vendor)
    if preview.kind != importing.PREVIEW or preview.status != SyncJobStatus.SUCCEEDED:
        raise ValidationError(_("The preview is not ready yet."))
    if select not in (None, "all", "all_new"):
        raise ValidationError({"select": _("Choose all_new or all.")})

    def confirm_job() -> tuple[SyncJob, bool]:
        # Joins the confirm already queued or running, and resumes it if its worker died.
        return request_job(
            company=company,
            actor=actor,
            vendor=preview.vendor,
            kind=importing.CONFIRM,
            scope_key=str(preview.public_id),
        )

    with transaction.atomic():
        # Locked: two confirms at once must not mix their selections while a job reads them.
        SyncJob.objects.select_for_update().filter(pk=preview.pk).first()
        running = SyncJob.objects.filter(
            company=company,
            kind=importing.CONFIRM,
            scope=str(preview.public_id),
            status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING],
        ).exists()
        if running:
            return confirm_job()
        if importing.select_rows(preview, remote_ids=remote_ids, select=select) == 0:
            raise ValidationError(_("Select at least one customer that is not imported yet."))
        return confirm_job()


def update_client(*, company: Company, actor: User, client: Client, **fields: object) -> Client:
    """Edit a client (contact details, billing settings, responsible accountant, active)."""
    require(company, actor, roles=tuple(Role))  # any member
    if "responsible" in fields:  # validated only when changed: a former member stays shown
        # The page's form and the API both pass a member's User, or None.
        responsible = cast("User | None", fields.pop("responsible"))
        if (
            responsible is not None
            and not Membership.objects.filter(company=company, user=responsible).exists()
        ):
            raise ValidationError({"responsible": _("Choose a member of this firm.")})
        client.responsible = responsible
    for name, value in fields.items():
        setattr(client, name, value)
    if fields.get("organisation_number"):
        # A person set the number: what an import had kept as not valid is superseded.
        client.raw_organisation_number = ""
    exclude = ["company", "last_import"]
    if not {"organisation_number", "registry_country"} & fields.keys():
        # Unchanged, the number is not re-checked: a number stored under an older rule must not
        # block editing an e-mail address.
        exclude += ["organisation_number", "registry_country"]
    client.full_clean(exclude=exclude)
    client.save()
    return client


def forget_responsible(sender: type, instance: Membership, **kwargs: object) -> None:
    """A member who leaves the firm stops being responsible for its clients (post_delete of
    Membership), so those clients stay editable."""
    # Explicitly filtered by firm: this may run outside a request (admin, cascading deletes).
    Client.objects.with_scopes_disabled().filter(
        company_id=instance.company_id, responsible=instance.user_id
    ).update(responsible=None)
