"""Importing an accounting system's customers as clients (one way: the accounting system to uku).

Two background jobs:

1. **Preview** (`customer_import_preview`): pages through the remote customers and stores one
   `CustomerImportRow` per customer, classified as *new*, *existing* (matched to a client by
   registry number with its country, then e-mail, then name with phone) or *already linked*,
   with the fields an import would change. A constant number of SQL statements per page,
   whatever its size. A registry number that is not valid for its country is kept as typed and
   flagged on its row, never dropped.
2. **Confirm** (`customer_import_confirm`, scope = the preview): for the selected rows, creates the
   new clients, updates the existing ones, links each to its remote customer, imports the invoice
   e-mail and sets the responsible accountant from the account manager's External ID. Works in
   batches, each in one transaction (a client is never created without its link), and skips rows
   already processed, so a retry or a second confirm creates nothing twice.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, Field, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import (
    Client,
    CustomerImportRow,
    ExternalLink,
    ImportClassification,
    ImportConflict,
    ImportOutcome,
    ImportResolution,
    MatchRule,
    name_key,
    phone_key,
)
from integrations.base import AccountingAdapter, RemoteCustomer, get_vendor
from integrations.jobs import report_progress
from integrations.models import SyncJob, SyncJobStatus
from uku import registry_numbers
from uku.models import Company, Membership
from uku.registry_numbers import DEFAULT_COUNTRY

PREVIEW = "customer_import_preview"
CONFIRM = "customer_import_confirm"
# Rows written per statement by the preview (one page of 1,000 customers: one INSERT) and rows
# applied per transaction by the confirm.
BATCH = 1000
# Fields copied from the remote customer. Blank remote values never blank a client's field:
# one-way sync must not lose what the firm typed into uku.
FIELDS = (
    "name", "customer_number", "email", "invoice_email", "phone", "address_line", "postal_code",
    "city",
)  # fmt: skip
# The registry number moves together with its country (see `registry_fields`).
REGISTRY_FIELDS = ("registry_country", "organisation_number", "raw_organisation_number")
FAILURES_KEPT = 200
_REMOTE_FIELDS = tuple(f.name for f in fields(RemoteCustomer))


def clean_remote(customer: RemoteCustomer, country: str = DEFAULT_COUNTRY) -> dict[str, Any]:
    """The remote record as uku stores it, e-mails lower-case and the registry number compact
    and checked by its country: the adapter's `registry_country`, else `country` (the firm's).

    The number as typed is always kept in `raw_organisation_number`. A number that is not valid
    for its country (or whose country uku cannot check) is never dropped: `organisation_number`
    stays blank, so it is not used for matching or uniqueness, and `organisation_number_invalid`
    makes the preview row say so (see `registry_warning`)."""
    # Every field is a str or a bool: a flat copy (dataclasses.asdict deep-copies each value,
    # which was a tenth of a 10,000-customer preview).
    data = {name: getattr(customer, name) for name in _REMOTE_FIELDS}
    registry_country = (customer.registry_country or country or DEFAULT_COUNTRY).strip().upper()
    typed = customer.organisation_number.strip()
    number = ""
    if typed and registry_country in registry_numbers.SCHEMES:
        compact = registry_numbers.normalise(registry_country, typed)
        if registry_numbers.is_valid(registry_country, compact):
            number = compact
    data["registry_country"] = registry_country
    data["organisation_number"] = number
    data["raw_organisation_number"] = customer.organisation_number
    data["organisation_number_invalid"] = bool(typed) and not number
    data["email"] = customer.email.strip().lower()
    data["invoice_email"] = customer.invoice_email.strip().lower()
    return data


def registry_key(data: dict[str, Any]) -> tuple[str, str] | None:
    """(country, number) of a cleaned remote record for matching and uniqueness; None when it
    has no valid number. Rows previewed before numbers had countries hold a Norwegian number
    (the only kind accepted then)."""
    if not data.get("organisation_number"):
        return None
    return (data.get("registry_country") or DEFAULT_COUNTRY, data["organisation_number"])


def registry_fields(data: dict[str, Any]) -> dict[str, str]:
    """The registry fields an import sets on a client from a cleaned remote record: a valid
    number with its country (and no longer any number kept as imported); for a number that is
    not valid, only that number as typed, in `raw_organisation_number` (a valid number the
    client already has stays); nothing when the remote record has no number (a blank remote
    value never blanks the client's)."""
    if key := registry_key(data):
        return {
            "registry_country": key[0],
            "organisation_number": key[1],
            "raw_organisation_number": "",
        }
    raw = str(data.get("raw_organisation_number") or "").strip()
    if raw:
        max_length = Client._meta.get_field("raw_organisation_number").max_length or len(raw)
        return {"raw_organisation_number": raw[:max_length]}
    return {}


def registry_warning(data: dict[str, Any]) -> str:
    """Why a remote record's registry number is not used (translated), or "" when it is fine."""
    raw = str(data.get("raw_organisation_number") or "").strip()
    invalid = data.get(
        "organisation_number_invalid", bool(raw) and not data.get("organisation_number")
    )
    if not invalid or not raw:
        return ""
    country = data.get("registry_country") or DEFAULT_COUNTRY
    if country not in registry_numbers.SCHEMES:
        return _(
            "%(value)s is kept as imported: uku cannot check registry numbers of %(country)s."
        ) % {"value": raw, "country": country}
    reason = str(registry_numbers.scheme_for(country).error) % {"value": raw}
    return _("%(reason)s It is kept as imported and not used to match clients.") % {
        "reason": reason
    }


# --- Preview ---------------------------------------------------------------------------------------


def changed_since_for(company: Company, vendor: str) -> datetime | None:
    """Where an incremental preview starts: when the newest preview started whose every row was
    imported (confirmed, none left out, none failed), minus a margin for clock skew. A preview
    with customers left out does not move the cursor, so they are offered again next time. None
    before the first complete import (then everything is read)."""
    previews = SyncJob.objects.filter(
        company=company, vendor=vendor, kind=PREVIEW, status=SyncJobStatus.SUCCEEDED
    ).order_by("-started_at")
    for preview in previews[:20]:
        confirmed = SyncJob.objects.filter(
            company=company,
            kind=CONFIRM,
            scope=str(preview.public_id),
            status=SyncJobStatus.SUCCEEDED,
        ).exists()
        if not confirmed or preview.started_at is None:
            continue
        left = not_imported(preview).exists()
        if not left:
            return preview.started_at - timedelta(minutes=10)
    return None


def run_preview(*, job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    """Job runner: list every (or every changed) remote customer and classify it."""
    company = job.company
    since = None if job.counts.get("full") else changed_since_for(company, job.vendor)
    # A retry starts the listing again from the first page.
    CustomerImportRow.objects.filter(job=job).delete()
    totals: Counter[str] = Counter()
    done = 0
    for page in adapter.iter_customers(changed_since=since):
        rows = classify(company, job, [clean_remote(c, company.country) for c in page])
        CustomerImportRow.objects.bulk_create(rows, batch_size=BATCH)
        totals.update(row.classification for row in rows)
        totals["inactive"] += sum(row.inactive for row in rows)
        done += len(rows)
        report_progress(job, done)
    for was in mark_duplicates(job):
        totals[was] -= 1
        totals[ImportClassification.CONFLICT] += 1
    stale = detect_stale_links(job, complete=since is None)
    return {
        "total": done,
        "new": totals[ImportClassification.NEW],
        "existing": totals[ImportClassification.EXISTING],
        "linked": totals[ImportClassification.LINKED],
        "conflict": totals[ImportClassification.CONFLICT],
        "inactive": totals["inactive"],
        "changed_since": since.isoformat() if since else None,
        "stale_links": stale,
    }


def detect_stale_links(job: SyncJob, *, complete: bool) -> int:
    """Mark the firm's links whose customer this preview read as inactive, or (when the
    preview read every customer, `complete`) did not read at all: deleted in the accounting
    system. Links whose customer it read as active lose a stale mark. Three UPDATEs, whatever
    the number of links (the bulk form of `linking.mark_link_stale` / `clear_link_stale`).
    Returns how many links are stale now."""
    from clients import linking  # linking is the column's; importing only reports to it

    info = get_vendor(job.vendor)
    links = ExternalLink.objects.filter(company=job.company, vendor=job.vendor)
    read = CustomerImportRow.objects.filter(job=job)
    now = timezone.now()
    links.filter(
        remote_id__in=read.filter(inactive=False).values("remote_id"), stale_at__isnull=False
    ).update(stale_reason="", stale_at=None)
    inactive = RemoteCustomer(id="", name="", inactive=True)
    links.filter(remote_id__in=read.filter(inactive=True).values("remote_id")).update(
        stale_reason=linking.stale_reason(info, inactive), stale_at=Coalesce("stale_at", Value(now))
    )
    if complete:
        links.exclude(remote_id__in=read.values("remote_id")).update(
            stale_reason=linking.stale_reason(info, None), stale_at=Coalesce("stale_at", Value(now))
        )
    return links.filter(stale_at__isnull=False).count()


def mark_duplicates(job: SyncJob) -> list[str]:
    """Customers of one preview sharing a registry number (the accounting system allows it,
    uku does not): one keeps the number, the others become conflicts naming it. The one kept is
    the customer already linked, else the one matched to a client by that number, else the
    first read. Two queries (and the updates), whatever the preview's size. Returns what each
    marked row was classified as before."""
    repeated = (
        CustomerImportRow.objects.filter(job=job)
        .exclude(registry_key="")
        .values("registry_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values("registry_key")
    )
    groups: dict[str, list[CustomerImportRow]] = {}
    for row in CustomerImportRow.objects.filter(job=job, registry_key__in=Subquery(repeated)):
        groups.setdefault(row.registry_key, []).append(row)
    marked: list[CustomerImportRow] = []
    before: list[str] = []
    for group in groups.values():
        group.sort(key=lambda r: r.pk)

        def rank(row: CustomerImportRow) -> int:
            if row.classification == ImportClassification.LINKED:
                return 0
            if row.match_rule == MatchRule.ORGNR:
                return 1
            return 2 if row.classification != ImportClassification.CONFLICT else 3

        keeper = min(group, key=rank)
        for row in group:
            # A linked customer stays linked; an earlier conflict keeps its reason.
            if row is keeper or row.classification in (
                ImportClassification.LINKED,
                ImportClassification.CONFLICT,
            ):
                continue
            before.append(row.classification)
            row.classification = ImportClassification.CONFLICT
            row.conflict = ImportConflict.DUPLICATE
            row.conflict_with = keeper.name[:255]
            # The client the keeper goes to by that number: "link this one instead" swaps them.
            if keeper.match_rule in (MatchRule.ORGNR, MatchRule.LINK):
                row.conflict_client = keeper.client
            if row.match_rule == MatchRule.ORGNR:
                # Matched to that same client by the number: the keeper has it, so this one
                # is no update of it (a match by e-mail or name to another client stays).
                row.client, row.match_rule, row.changes = None, "", {}
            marked.append(row)
    CustomerImportRow.objects.bulk_update(
        marked,
        [
            "classification",
            "conflict",
            "conflict_with",
            "conflict_client",
            "client",
            "match_rule",
            "changes",
        ],
        batch_size=BATCH,
    )
    return before


def classify(company: Company, job: SyncJob, page: list[dict[str, Any]]) -> list[CustomerImportRow]:
    """Rows for one page of remote customers: four queries, whatever the page size."""
    vendor = job.vendor
    links = {
        link.remote_id: link
        for link in ExternalLink.objects.filter(
            company=company, vendor=vendor, remote_id__in=[c["id"] for c in page]
        ).select_related("client")
    }
    # Clients already linked to another remote customer are not candidates for a match.
    candidates = Client.objects.filter(company=company).exclude(links__vendor=vendor)
    keys = {key for c in page if (key := registry_key(c))}
    emails = {c["email"] for c in page if c["email"]}
    names = {name_key(c["name"]) for c in page if c["name"]}
    by_number: dict[tuple[str, str], Client] = {}
    by_email: dict[str, Client] = {}
    by_name_phone: dict[tuple[str, str], Client] = {}
    # Who holds each number, linked or not (one query): a customer whose number another client
    # holds would fail on confirm, so the preview says so instead of offering it as new.
    holders: dict[tuple[str, str], Client] = {}
    in_vendor = ExternalLink.objects.filter(company=company, vendor=vendor, client=OuterRef("pk"))
    numbered = Client.objects.filter(
        company=company, organisation_number__in={number for _c, number in keys}
    ).annotate(linked=Exists(in_vendor))
    # By number alone in SQL, then by (country, number): the same digits may be another
    # country's number of another company.
    for client in numbered:
        key = (client.registry_country, client.organisation_number)
        holders[key] = client
        if not client.linked:
            by_number.setdefault(key, client)
    for client in candidates.filter(email__in=emails).order_by("pk"):
        by_email.setdefault(client.email, client)
    for client in candidates.filter(match_name__in=names).exclude(match_phone="").order_by("pk"):
        by_name_phone.setdefault((client.match_name, client.match_phone), client)

    rows = []
    for remote in page:
        client, rule, classification = None, "", ImportClassification.NEW
        if remote["id"] in links:
            client, rule = links[remote["id"]].client, MatchRule.LINK
            classification = ImportClassification.LINKED
        elif (number_key := registry_key(remote)) is not None and number_key in by_number:
            client, rule = by_number[number_key], MatchRule.ORGNR
        elif remote["email"] and remote["email"] in by_email:
            client, rule = by_email[remote["email"]], MatchRule.EMAIL
        elif (
            key := (name_key(remote["name"]), phone_key(remote["phone"]))
        ) in by_name_phone and key[1]:
            client, rule = by_name_phone[key], MatchRule.NAME_PHONE
        if client is not None and classification == ImportClassification.NEW:
            classification = ImportClassification.EXISTING
        number_key = registry_key(remote)
        holder = holders.get(number_key) if number_key else None
        conflict = ""
        if holder is not None and (client is None or holder.pk != client.pk):
            conflict, classification = ImportConflict.NUMBER_TAKEN, ImportClassification.CONFLICT
        rows.append(
            CustomerImportRow(
                company=company,
                job=job,
                vendor=vendor,
                remote_id=remote["id"],
                name=remote["name"][:255],
                data=remote,
                inactive=remote["inactive"],
                classification=classification,
                match_rule=rule,
                client=client,
                changes=changes_for(client, remote) if client is not None else {},
                registry_key=":".join(number_key) if number_key else "",
                conflict=conflict,
                conflict_client=holder if conflict else None,
            )
        )
    return rows


def changes_for(client: Client, remote: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [uku's value, the remote value]} for what an import would change."""
    changes: dict[str, list[Any]] = {}
    for field in FIELDS:
        new = str(remote.get(field) or "")
        if new and new != (getattr(client, field) or ""):
            changes[field] = [getattr(client, field) or "", new]
    for field, new in registry_fields(remote).items():
        if new != (getattr(client, field) or ""):
            changes[field] = [getattr(client, field) or "", new]
    if client.active == remote["inactive"]:
        changes["active"] = [client.active, not remote["inactive"]]
    return changes


# --- Confirm ---------------------------------------------------------------------------------------


def not_imported(preview: SyncJob) -> QuerySet[CustomerImportRow]:
    """Rows a confirm may still import: never processed, or failed (a failure is offered again),
    and not set aside by a "Do not import" resolution."""
    return CustomerImportRow.objects.filter(
        job=preview, outcome__in=[ImportOutcome.PENDING, ImportOutcome.FAILED]
    ).exclude(resolution=ImportResolution.SKIP)


def selectable(preview: SyncJob) -> QuerySet[CustomerImportRow]:
    """Rows the admin may select: not imported yet, and no unresolved conflict (importing one as
    it is would only fail)."""
    return not_imported(preview).exclude(
        classification=ImportClassification.CONFLICT, resolution=ImportResolution.NONE
    )


def filter_rows(
    rows: QuerySet[CustomerImportRow], *, show: str = "", query: str = ""
) -> QuerySet[CustomerImportRow]:
    """The review's filter (`show`: a classification, or "inactive") and search, the same for
    the page, the API and "select all matching"."""
    if show in ImportClassification.values:
        rows = rows.filter(classification=show)
    elif show == "inactive":
        rows = rows.filter(inactive=True)
    if query := query.strip():
        rows = rows.filter(name__icontains=query)
    return rows


def update_selection(
    preview: SyncJob,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    matching: QuerySet[CustomerImportRow] | None = None,
    clear: bool = False,
) -> int:
    """Change the preview's stored selection: `clear` it first, select every selectable row of
    `matching` (select-all over a filter, not just a page), then `add` and `remove` remote ids.
    Rows that are not selectable are never selected. Returns how many rows are selected.
    Idempotent; a few UPDATEs whatever the number of rows."""
    if clear:
        CustomerImportRow.objects.filter(job=preview, selected=True).update(selected=False)
    if matching is not None:
        # Both conditions on the rows themselves, not `pk IN (SELECT ...)` of the same table:
        # on a freshly written preview PostgreSQL has no statistics yet and ran that semi-join
        # as a nested loop, 4.4 s for 5,000 rows (most of a bulk confirm).
        (selectable(preview) & matching).update(selected=True)
    if add := [str(r) for r in add]:
        selectable(preview).filter(remote_id__in=add).update(selected=True)
    if remove := [str(r) for r in remove]:
        CustomerImportRow.objects.filter(job=preview, remote_id__in=remove).update(selected=False)
    return selected_rows(preview).count()


def selected_rows(preview: SyncJob) -> QuerySet[CustomerImportRow]:
    """The selected rows a confirm would import."""
    return selectable(preview).filter(selected=True)


def selection_counts(rows: QuerySet[CustomerImportRow]) -> dict[str, int]:
    """How many clients confirming `rows` would create and update (one query), for the bulk
    confirm's question."""
    counts = rows.aggregate(
        total=Count("pk"),
        create=Count("pk", filter=Q(client__isnull=True)),
        update=Count("pk", filter=Q(client__isnull=False)),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def new_rows(preview: SyncJob) -> QuerySet[CustomerImportRow]:
    """What "Confirm all new" imports: selectable rows that create a client (new ones, and
    conflicts resolved to be imported without the number)."""
    return selectable(preview).filter(
        Q(classification=ImportClassification.NEW)
        | Q(
            classification=ImportClassification.CONFLICT,
            client__isnull=True,
            resolution=ImportResolution.WITHOUT_NUMBER,
        )
    )


def select_rows(preview: SyncJob, *, remote_ids: Iterable[str] | None, select: str | None) -> int:
    """Fix what a confirm imports: "selected" keeps the stored selection; "all_new" and "all"
    replace it with every selectable new (or every selectable) row; otherwise the given remote
    ids replace it. Failed rows chosen again are reset so the confirm retries them. Returns how
    many rows are selected."""
    if select == "all":
        update_selection(preview, clear=True, matching=selectable(preview))
    elif select == "all_new":
        update_selection(preview, clear=True, matching=new_rows(preview))
    elif select != "selected":
        update_selection(preview, clear=True, add=remote_ids or ())
    chosen = selected_rows(preview)
    chosen.filter(outcome=ImportOutcome.FAILED).update(outcome=ImportOutcome.PENDING, error="")
    return chosen.count()


def resolve_conflict(preview: SyncJob, remote_id: str, resolution: str) -> CustomerImportRow:
    """Record the admin's choice for a conflicting row:

    - LINK: this customer, rather than the other one with the same number, goes to the client
      holding it (`conflict_client`); the other customer's row becomes the conflict instead.
      Refused (`ValueError` with the reason) when that client is linked to a customer already
      or this customer is linked to another client.
    - WITHOUT_NUMBER: imported (created, or updating its matched client) without the registry
      number, which stays in the accounting system.
    - SKIP: never imported from this preview (and not counted as "not imported yet").
    - NONE undoes the choice.

    Raises `CustomerImportRow.DoesNotExist` for a row that is not a conflict still to import."""
    if resolution not in ImportResolution.values:
        raise ValueError(resolution)
    row = CustomerImportRow.objects.select_related("conflict_client").get(
        job=preview,
        remote_id=str(remote_id),
        conflict__in=ImportConflict.values,
        outcome__in=[ImportOutcome.PENDING, ImportOutcome.FAILED],
    )
    fields = ["client", "match_rule", "classification", "changes", "resolution", "selected"]
    if resolution == ImportResolution.LINK:
        holder = row.conflict_client
        if holder is None:
            raise ValueError(_("No client has this number yet, so there is none to link to."))
        if row.match_rule == MatchRule.LINK:
            raise ValueError(
                _("This customer is linked to another client. Relink it from the client list.")
            )
        if ExternalLink.objects.filter(
            company=preview.company, vendor=preview.vendor, client=holder
        ).exists():
            raise ValueError(
                _("%(name)s is linked to another customer already: unlink it there first.")
                % {"name": holder.name}
            )
        # The other customer that was going to this client becomes the conflict.
        for other in CustomerImportRow.objects.filter(
            job=preview,
            client=holder,
            outcome__in=[ImportOutcome.PENDING, ImportOutcome.FAILED],
        ).exclude(pk=row.pk):
            other.client, other.match_rule, other.changes = None, "", {}
            other.classification = ImportClassification.CONFLICT
            other.conflict, other.conflict_client = ImportConflict.DUPLICATE, holder
            other.conflict_with, other.selected = row.name[:255], False
            other.resolution = ImportResolution.NONE
            other.save(update_fields=[*fields, "conflict", "conflict_client", "conflict_with"])
        row.client, row.match_rule = holder, MatchRule.ORGNR
        row.classification = ImportClassification.EXISTING
        row.changes = changes_for(holder, row.data)
    else:
        if row.resolution == ImportResolution.LINK:  # undo the link: back to no match
            row.client, row.match_rule, row.changes = None, "", {}
        row.classification = ImportClassification.CONFLICT
    if resolution in (ImportResolution.NONE, ImportResolution.SKIP):
        row.selected = False
    row.resolution = resolution
    row.save(update_fields=fields)
    return row


# What `_apply_batch` (and `_link`, `_record_outcomes`) read of a row: a field left out would
# cost one query per row on first access.
_BATCH_FIELDS = (
    "pk", "company", "job", "vendor", "remote_id", "name", "data", "client", "resolution",
    "outcome", "error",
)  # fmt: skip


def run_confirm(*, job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    """Job runner: import the selected rows of the preview named by `job.scope`. Makes no call to
    the accounting system (it applies what the admin saw), so it cannot fail half-way on a token:
    each batch commits whole, and a re-run continues with the rows not yet processed."""
    company = job.company
    preview = SyncJob.objects.get(company=company, public_id=job.scope)
    responsible = {
        m.external_id: m.user
        for m in Membership.objects.filter(company=company)
        .exclude(external_id="")
        .select_related("user")
    }
    selected = CustomerImportRow.objects.filter(job=preview, selected=True)
    pending = selected.filter(outcome=ImportOutcome.PENDING)
    # A resumed run (after a retry or a dead worker) continues after the last committed batch,
    # and so does its progress bar: `progress_done` is committed with each batch.
    total = pending.count() + job.progress_done
    done = job.progress_done
    report_progress(job, done, total)
    last = 0
    while True:
        # After the last batch by primary key: each batch reads its rows by the index instead
        # of skipping past the rows already processed.
        # Only the columns the batch reads or writes: `changes` (what the review showed) is
        # not applied, so not decoded either, and each column left out is one less to convert
        # and set on each of the batch's instances.
        batch = list(pending.filter(pk__gt=last).only(*_BATCH_FIELDS).order_by("pk")[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        with transaction.atomic():
            _apply_batch(company, job, batch, responsible)
            done += len(batch)
            # In the batch's transaction: the progress always equals what is committed.
            report_progress(job, done)
    return summarise(job, preview)


def summarise(confirm: SyncJob, preview: SyncJob) -> dict[str, Any]:
    """Counts of this confirm's own rows (created, updated, unchanged, failed, with each failure
    and its reason), and how many customers of the preview are not imported yet. Rows nobody
    selected are not counted: they were not skipped, only not chosen (yet)."""
    rows = CustomerImportRow.objects.filter(job=preview, confirm_job=confirm)
    outcomes = Counter(rows.values_list("outcome", flat=True))
    failures = list(
        rows.filter(outcome=ImportOutcome.FAILED).values("remote_id", "name", "error")[
            :FAILURES_KEPT
        ]
    )
    return {
        "created": outcomes[ImportOutcome.CREATED],
        "updated": outcomes[ImportOutcome.UPDATED],
        "unchanged": outcomes[ImportOutcome.UNCHANGED],
        "failed": outcomes[ImportOutcome.FAILED],
        "failures": failures,
        "not_imported": not_imported(preview).count(),
        "preview": str(preview.public_id),
    }


def _apply_batch(
    company: Company, job: SyncJob, batch: list[CustomerImportRow], responsible: dict[str, Any]
) -> None:
    vendor = job.vendor
    remote_ids = [row.remote_id for row in batch]
    # Links made since the preview (another import, a person) decide over the preview's view.
    linked_now = {
        link.remote_id: link
        for link in ExternalLink.objects.filter(
            company=company, vendor=vendor, remote_id__in=remote_ids
        )
    }
    client_ids = [row.client_id for row in batch if row.client_id] + [
        link.client_id for link in linked_now.values()
    ]
    # Locked: a person editing one of these clients meanwhile waits instead of being overwritten.
    clients = {
        c.pk: c
        for c in Client.objects.select_for_update().filter(company=company, pk__in=client_ids)
    }
    # Clients that have (or get, in this batch) a link: one remote customer each.
    claimed = set(
        ExternalLink.objects.filter(
            company=company, vendor=vendor, client_id__in=client_ids
        ).values_list("client_id", flat=True)
    )
    # Who holds each registry number (unique per firm and country): from the database, then as
    # this batch assigns them. Tripletex allows the same number on several customers.
    keys = {key for row in batch if (key := registry_key(row.data))}
    owner_of: dict[tuple[str, str], int | None] = {
        (country, number): pk
        for country, number, pk in Client.objects.filter(
            company=company, organisation_number__in={number for _c, number in keys}
        ).values_list("registry_country", "organisation_number", "pk")
    }

    to_create: list[tuple[CustomerImportRow, Client]] = []
    to_update: dict[int, Client] = {}
    new_links: list[ExternalLink] = []
    for row in batch:
        data = row.data
        manager = responsible.get(data.get("account_manager_id") or "")
        link = linked_now.get(row.remote_id)
        client = clients.get(link.client_id if link else row.client_id or 0)
        if link is None and client is not None and client.pk in claimed:
            _fail(row, _("The matched client is already linked to another customer."))
            continue
        # "Import without the number": the customer keeps it in the accounting system only.
        key = None if row.resolution == ImportResolution.WITHOUT_NUMBER else registry_key(data)
        if key is not None and key in owner_of and (client is None or owner_of[key] != client.pk):
            _fail(row, _("Another client already has organisation number %(n)s.") % {"n": key[1]})
            continue
        if key is not None:
            owner_of[key] = client.pk if client is not None else None
        if client is None:
            client = Client(company=company, active=not data["inactive"], responsible=manager)
            copy_remote(client, data, number=row.resolution != ImportResolution.WITHOUT_NUMBER)
            client.last_import = job
            client.refresh_keys()
            to_create.append((row, client))
            row.outcome = ImportOutcome.CREATED
            continue
        changed = copy_remote(
            client, data, number=row.resolution != ImportResolution.WITHOUT_NUMBER
        )
        if client.active == data["inactive"]:
            client.active, changed = not data["inactive"], True
        if manager is not None and client.responsible_id != manager.pk:
            client.responsible, changed = manager, True
        client.last_import = job
        client.refresh_keys()
        to_update[client.pk] = client
        row.client = client
        row.outcome = ImportOutcome.UPDATED if changed else ImportOutcome.UNCHANGED
        if link is None:
            claimed.add(client.pk)
            new_links.append(_link(company, client, row, job))
    created = Client.objects.bulk_create([client for _row, client in to_create])
    for (row, _client), client in zip(to_create, created, strict=True):
        row.client = client
        new_links.append(_link(company, client, row, job))
    if to_update:
        Client.objects.bulk_update(
            list(to_update.values()),
            [
                *FIELDS,
                *REGISTRY_FIELDS,
                "active",
                "responsible",
                "last_import",
                "match_name",
                "match_phone",
                "updated_at",
            ],
        )
    ExternalLink.objects.bulk_create(new_links)
    _record_outcomes(company, job, batch)


def _record_outcomes(company: Company, job: SyncJob, batch: list[CustomerImportRow]) -> None:
    """Write what happened to each row of a batch (outcome, error, the client it went to, the
    confirm job; no longer selected) in one `UPDATE ... FROM`: bulk_update's CASE per row and
    field, or one UPDATE per outcome plus a correlated subquery for the client, dominated the
    confirm of a 10,000-customer import. A failed row keeps its client (the match it was
    shown). On PostgreSQL the values are four arrays (`unnest`), eight parameters whatever the
    batch's size: a statement of 4,000 placeholders cost more to bind on the client and to
    plan on the server than to execute."""
    table = connection.ops.quote_name(CustomerImportRow._meta.db_table)
    ids, outcomes, errors, clients = [], [], [], []
    for row in batch:
        ids.append(row.pk)
        outcomes.append(row.outcome)
        errors.append(row.error)
        clients.append(row.client_id)
    if connection.vendor == "postgresql":
        values = (
            "unnest(CAST(%s AS bigint[]), CAST(%s AS varchar(10)[]), CAST(%s AS text[]), "
            "CAST(%s AS bigint[])) AS v(column1, column2, column3, column4)"
        )
        params: list[Any] = [ids, outcomes, errors, clients]
    else:
        rows = [
            "(CAST(%s AS bigint), CAST(%s AS varchar(10)), CAST(%s AS text), CAST(%s AS bigint))"
        ]
        values = f"(VALUES {', '.join(rows * len(batch))}) AS v"
        params = [
            value for row in zip(ids, outcomes, errors, clients, strict=True) for value in row
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET outcome = v.column2, error = v.column3, "  # noqa: S608 - the table name is ours; values are parameters
            f"client_id = v.column4, confirm_job_id = %s, selected = %s "
            f"FROM {values} WHERE {table}.id = v.column1 "
            f"AND {table}.company_id = %s AND {table}.job_id = %s",
            [job.pk, False, *params, company.pk, batch[0].job_id],
        )


def copy_remote(client: Client, data: dict[str, Any], *, number: bool = True) -> bool:
    """Copy non-blank remote fields (and, unless not `number`, the registry number with its
    country) onto the client; True when something changed."""
    changed = False
    for field, max_length in _max_lengths().items():
        value = str(data.get(field) or "")
        if value and value != (getattr(client, field) or ""):
            setattr(client, field, value[: max_length or None])
            changed = True
    for field, value in (registry_fields(data) if number else {}).items():
        if value != (getattr(client, field) or ""):
            setattr(client, field, value)
            changed = True
    client.updated_at = timezone.now()
    return changed


@functools.cache
def _max_lengths() -> dict[str, int | None]:
    """Each copied field's maximum length (looked up once, not once per field per client)."""
    lengths = {}
    for field in FIELDS:
        model_field = Client._meta.get_field(field)
        lengths[field] = model_field.max_length if isinstance(model_field, Field) else None
    return lengths


def _link(company: Company, client: Client, row: CustomerImportRow, job: SyncJob) -> ExternalLink:
    return ExternalLink(
        company=company,
        client=client,
        vendor=row.vendor,
        remote_id=row.remote_id,
        remote_name=row.name,
        remote_number=str(row.data.get("customer_number") or ""),
        linked_by=job.requested_by,
    )


def _fail(row: CustomerImportRow, reason: str) -> None:
    row.outcome = ImportOutcome.FAILED
    row.error = reason
