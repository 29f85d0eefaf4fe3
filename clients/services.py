"""Use cases of the clients app: starting and confirming customer imports; creating, editing,
archiving, restoring and deleting clients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ForeignObjectRel
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients import importing
from clients.models import Client, CustomerImportRow, ExternalLink
from integrations import services as integration_services
from integrations.base import ConfigError, get_vendor
from integrations.jobs import request_job
from integrations.models import ConnectionStatus, SyncJob, SyncJobStatus
from uku import audit
from uku.models import Company, Membership, Role, User
from uku.permissions import ADMIN_ROLES, require


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
    if select not in (None, "all", "all_new", "selected"):
        raise ValidationError({"select": _("Choose selected, all_new or all.")})

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
        selected = importing.select_rows(preview, remote_ids=remote_ids, select=select)
        if selected == 0:
            raise ValidationError(_("Select at least one customer that is not imported yet."))
        job, created = confirm_job()
        if created:
            audit.record_for(
                job,
                company=company,
                actor=actor,
                action="import.confirmed",
                details={
                    "vendor": preview.vendor,
                    "preview": str(preview.public_id),
                    "select": select or "selected",
                    "customers": selected,
                },
            )
        return job, created


def _reviewable(company: Company, actor: User, preview: SyncJob) -> None:
    """A finished preview whose import is not running (a running confirm reads the selection)."""
    _assert_connected(company, actor, preview.vendor)
    if preview.kind != importing.PREVIEW or preview.status != SyncJobStatus.SUCCEEDED:
        raise ValidationError(_("The preview is not ready yet."))
    if SyncJob.objects.filter(
        company=company,
        kind=importing.CONFIRM,
        scope=str(preview.public_id),
        status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING],
    ).exists():
        raise ValidationError(_("These customers are being imported. Wait until it is done."))


def update_import_selection(
    *,
    company: Company,
    actor: User,
    preview: SyncJob,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    select_matching: bool = False,
    show: str = "",
    query: str = "",
    clear: bool = False,
) -> int:
    """Change which customers of a finished preview are selected (kept on the server, so the
    selection survives filters, searches and pages). `select_matching` selects every selectable
    customer matching `show` and `query`, on every page. Returns how many are selected. Raises
    `ValidationError` while the preview is not ready or its import runs."""
    _reviewable(company, actor, preview)
    matching = None
    if select_matching:
        matching = importing.filter_rows(
            CustomerImportRow.objects.filter(job=preview), show=show, query=query
        )
    return importing.update_selection(
        preview, add=add, remove=remove, matching=matching, clear=clear
    )


def resolve_import_conflict(
    *, company: Company, actor: User, preview: SyncJob, remote_id: str, resolution: str
) -> CustomerImportRow:
    """The admin's choice for a customer whose registry number conflicts (see
    `importing.resolve_conflict`). Raises `ValidationError` on `resolution` for a choice that is
    not possible, and on `remote_id` for a customer that is not a conflict still to import."""
    _reviewable(company, actor, preview)
    try:
        return importing.resolve_conflict(preview, remote_id, resolution)
    except CustomerImportRow.DoesNotExist as exc:
        raise ValidationError(
            {"remote_id": _("No customer of this preview with that id has a conflict to resolve.")}
        ) from exc
    except ValueError as exc:
        message = str(exc) if str(exc) != resolution else _("Choose link, without_number or skip.")
        raise ValidationError({"resolution": message}) from exc


# Who may do what with clients. Members (accountants) run their clients day to day, so they
# create, edit and archive them; deleting loses history, so it is for owners and admins; Billing
# staff read clients and keep only the billing settings (the invoice e-mail) up to date.
EDIT_ROLES = (Role.OWNER, Role.ADMIN, Role.MEMBER)
DELETE_ROLES = ADMIN_ROLES
BILLING_FIELDS = frozenset({"invoice_email"})

# Everything a person may set on a client (create and update). `active` is set by archive and
# restore, and by an update that names it (the API's `{"active": false}`).
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "registry_country",
        "organisation_number",
        "customer_number",
        "email",
        "invoice_email",
        "phone",
        "address_line",
        "postal_code",
        "city",
        "responsible",
        "active",
    }
)


class ClientInUse(Exception):
    """`delete_client` refused: other records depend on the client. `message` says which and
    suggests archiving; `dependents` names them ("linked to Tripletex", "2 customer import rows")."""

    def __init__(self, client: Client, dependents: list[str]) -> None:
        self.client = client
        self.dependents = dependents
        self.message = _(
            "%(name)s cannot be deleted: %(dependents)s. Archive the client instead: it is then "
            "hidden from the client list and can be restored at any time."
        ) % {"name": client.name, "dependents": "; ".join(dependents)}
        super().__init__(self.message)


def _require_role(company: Company, actor: User, roles: tuple[str, ...], message: str) -> None:
    """The one permission check (`uku.permissions.require`) with this app's messages."""
    require(company, actor, roles=roles, message=message)


def _assert_own(company: Company, client: Client) -> None:
    # Callers load the client inside the firm's scope; this guards against a caller that did not.
    if client.company_id != company.pk:
        raise PermissionDenied


def _apply(company: Company, client: Client, fields: dict[str, Any]) -> None:
    """Set `fields` on `client` and validate it (ValidationError with field errors, the
    registry number checked by its country and for uniqueness in the firm)."""
    unknown = fields.keys() - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable client fields: {sorted(unknown)}")
    if "responsible" in fields:  # validated only when given: a former member stays shown
        responsible = fields.pop("responsible")
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
    if client.pk and not {"organisation_number", "registry_country"} & fields.keys():
        # Unchanged, the number is not re-checked: a number stored under an older rule must not
        # block editing an e-mail address.
        exclude += ["organisation_number", "registry_country"]
    client.full_clean(exclude=exclude)


def create_client(*, company: Company, actor: User, **fields: Any) -> Client:
    """A client entered by hand (not imported). `fields` are any of `EDITABLE_FIELDS`; `name`
    is required, the registry country defaults to the firm's. Owners, Admins and Members.
    Raises PermissionDenied, or ValidationError with the errors by field."""
    _require_role(company, actor, EDIT_ROLES, _("Billing staff cannot create clients."))
    client = Client(company=company)
    _apply(company, client, dict(fields))
    client.save()
    return client


def update_client(*, company: Company, actor: User, client: Client, **fields: Any) -> Client:
    """Edit a client: any of `EDITABLE_FIELDS`. Owners, Admins and Members may change every
    field; Billing staff only the billing settings (`BILLING_FIELDS`). Raises PermissionDenied,
    or ValidationError with the errors by field (nothing is saved then)."""
    _assert_own(company, client)
    if not fields.keys() <= BILLING_FIELDS:
        _require_role(
            company, actor, EDIT_ROLES, _("Billing staff can change only billing settings.")
        )
    else:
        _require_role(company, actor, tuple(Role), _("You are not a member of this firm."))
    _apply(company, client, dict(fields))
    client.save()
    return client


def archive_client(*, company: Company, actor: User, client: Client) -> Client:
    """Hide a client from the default client list (it stays, with its links and history, under
    the Archived filter). Idempotent. Owners, Admins and Members."""
    _assert_own(company, client)
    _require_role(company, actor, EDIT_ROLES, _("Billing staff cannot archive clients."))
    if client.active:
        client.active = False
        client.save(update_fields=["active", "updated_at"])
    return client


def restore_client(*, company: Company, actor: User, client: Client) -> Client:
    """Bring an archived client back to the client list. Idempotent. Owners, Admins, Members."""
    _assert_own(company, client)
    _require_role(company, actor, EDIT_ROLES, _("Billing staff cannot restore clients."))
    if not client.active:
        client.active = True
        client.save(update_fields=["active", "updated_at"])
    return client


def client_dependents(client: Client) -> list[str]:
    """What depends on `client`, in words ("linked to Tripletex", "3 customer import rows"), or
    [] when it may be deleted. Every model with a foreign key to Client counts, whatever its
    on_delete: the apps that reference clients (links, imports, billing, summary tasks) need no
    registration here, and a model added later is protected from the start."""
    found: list[str] = []
    links = list(ExternalLink.objects.filter(company=client.company_id, client=client))
    for link in links:
        found.append(
            _("it is linked to the %(vendor)s customer %(name)s")
            % {"vendor": _vendor_label(link.vendor), "name": link.remote_name or link.remote_id}
        )
    for relation in Client._meta.get_fields(include_hidden=True):
        # Reverse relations only (what points at Client), not Client's own foreign keys.
        if not isinstance(relation, ForeignObjectRel):
            continue
        model = relation.related_model
        if model is None or model is ExternalLink:  # ExternalLink: named above
            continue
        # The model's own (scoped) manager: outside the firm's scope this raises, and the
        # company filter keeps the count inside the firm either way.
        rows = model._default_manager.filter(**{relation.field.name: client})
        if any(f.name == "company" for f in model._meta.concrete_fields):
            rows = rows.filter(company=client.company_id)
        if count := rows.count():
            found.append(_describe(model, count))
    return found


def _describe(model: type[models.Model], count: int) -> str:
    """`count` rows of `model` that point at a client, in words."""
    label = model._meta.label_lower
    if label == "clients.customerimportrow":
        return ngettext(
            "it appears in %(count)d customer import row",
            "it appears in %(count)d customer import rows",
            count,
        ) % {"count": count}
    if label == "integrations.integrationconnection":
        return _("it has its own accounting-system connection")
    what = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
    return f"{count} {what}"


def _vendor_label(key: str) -> str:
    try:
        return str(get_vendor(key).label)
    except KeyError:  # a vendor removed from the registry still names its old links
        return key.title()


def delete_client(*, company: Company, actor: User, client: Client) -> None:
    """Delete a client that nothing depends on (one entered by mistake). Owners and Admins.
    Raises PermissionDenied, or ClientInUse naming what depends on it (archive it instead)."""
    _assert_own(company, client)
    _require_role(company, actor, DELETE_ROLES, _("Only owners and admins delete clients."))
    with transaction.atomic():
        # Locked: a row being inserted that points at the client holds a key-share lock on it,
        # so this waits for that insert and then sees it, and an insert that comes later waits
        # for the delete and fails; nothing made meanwhile is lost to the cascade.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        if dependents := client_dependents(client):
            raise ClientInUse(client, dependents)
        client.delete()


def forget_responsible(sender: type, instance: Membership, **kwargs: object) -> None:
    """A member who leaves the firm stops being responsible for its clients (post_delete of
    Membership), so those clients stay editable."""
    # Explicitly filtered by firm: this may run outside a request (admin, cascading deletes).
    Client.objects.with_scopes_disabled().filter(
        company_id=instance.company_id, responsible=instance.user_id
    ).update(responsible=None)
