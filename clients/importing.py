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

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Field, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import (
    Client,
    CustomerImportRow,
    ExternalLink,
    ImportClassification,
    ImportOutcome,
    MatchRule,
    name_key,
    phone_key,
)
from integrations.base import AccountingAdapter, RemoteCustomer
from integrations.jobs import report_progress
from integrations.models import SyncJob, SyncJobStatus
from uku import registry_numbers
from uku.models import Company, Membership
from uku.registry_numbers import DEFAULT_COUNTRY

PREVIEW = "customer_import_preview"
CONFIRM = "customer_import_confirm"
BATCH = 500
# Fields copied from the remote customer. Blank remote values never blank a client's field:
# one-way sync must not lose what the firm typed into uku.
FIELDS = (
    "name", "customer_number", "email", "invoice_email", "phone", "address_line", "postal_code",
    "city",
)  # fmt: skip
# The registry number moves together with its country (see `registry_fields`).
REGISTRY_FIELDS = ("registry_country", "organisation_number", "raw_organisation_number")
FAILURES_KEPT = 200


def clean_remote(customer: RemoteCustomer, country: str = DEFAULT_COUNTRY) -> dict[str, Any]:
    """The remote record as uku stores it, e-mails lower-case and the registry number compact
    and checked by its country: the adapter's `registry_country`, else `country` (the firm's).

    The number as typed is always kept in `raw_organisation_number`. A number that is not valid
    for its country (or whose country uku cannot check) is never dropped: `organisation_number`
    stays blank, so it is not used for matching or uniqueness, and `organisation_number_invalid`
    makes the preview row say so (see `registry_warning`)."""
    data = asdict(customer)
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
        left = CustomerImportRow.objects.filter(
            job=preview, outcome__in=[ImportOutcome.PENDING, ImportOutcome.FAILED]
        ).exists()
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
    return {
        "total": done,
        "new": totals[ImportClassification.NEW],
        "existing": totals[ImportClassification.EXISTING],
        "linked": totals[ImportClassification.LINKED],
        "inactive": totals["inactive"],
        "changed_since": since.isoformat() if since else None,
    }


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
    # By number alone in SQL (one query), then by (country, number): the same digits may be
    # another country's number of another company.
    for client in candidates.filter(organisation_number__in={number for _c, number in keys}):
        by_number.setdefault((client.registry_country, client.organisation_number), client)
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


def select_rows(preview: SyncJob, *, remote_ids: Iterable[str] | None, select: str | None) -> int:
    """Mark which preview rows to import: the given remote ids, "all_new" or "all". Rows already
    imported stay as they are. Returns how many pending rows are selected."""
    rows = CustomerImportRow.objects.filter(job=preview, outcome=ImportOutcome.PENDING)
    rows.update(selected=False)
    if select == "all":
        chosen = rows
    elif select == "all_new":
        chosen = rows.filter(classification=ImportClassification.NEW)
    else:
        chosen = rows.filter(remote_id__in=[str(r) for r in remote_ids or ()])
    return chosen.update(selected=True)


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
    while True:
        batch = list(pending.order_by("pk")[:BATCH])
        if not batch:
            break
        with transaction.atomic():
            _apply_batch(company, job, batch, responsible)
            done += len(batch)
            # In the batch's transaction: the progress always equals what is committed.
            report_progress(job, done)
    return summarise(preview)


def summarise(preview: SyncJob) -> dict[str, Any]:
    """Counts of the import, with each failure and its reason (for the summary dialog)."""
    rows = CustomerImportRow.objects.filter(job=preview)
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
        "skipped": outcomes[ImportOutcome.PENDING],
        "failed": outcomes[ImportOutcome.FAILED],
        "failures": failures,
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
        key = registry_key(data)
        if key is not None and key in owner_of and (client is None or owner_of[key] != client.pk):
            _fail(row, _("Another client already has organisation number %(n)s.") % {"n": key[1]})
            continue
        if key is not None:
            owner_of[key] = client.pk if client is not None else None
        if client is None:
            client = Client(company=company, active=not data["inactive"], responsible=manager)
            _copy(client, data)
            client.last_import = job
            client.refresh_keys()
            to_create.append((row, client))
            row.outcome = ImportOutcome.CREATED
            continue
        changed = _copy(client, data)
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
    # One UPDATE per outcome (cheap), instead of bulk_update's CASE per row and field, which
    # dominated the cost of a 10,000-customer import. Failures carry their reason row by row.
    by_outcome: dict[str, list[int]] = {}
    for row in batch:
        by_outcome.setdefault(row.outcome, []).append(row.pk)
    for outcome, pks in by_outcome.items():
        if outcome != ImportOutcome.FAILED:
            CustomerImportRow.objects.filter(pk__in=pks).update(outcome=outcome)
    # Each processed row points at its client: the one now linked to its remote id (one UPDATE).
    CustomerImportRow.objects.filter(
        pk__in=[row.pk for row in batch if row.outcome != ImportOutcome.FAILED]
    ).update(
        client=Subquery(
            ExternalLink.objects.filter(
                company=company, vendor=vendor, remote_id=OuterRef("remote_id")
            ).values("client")[:1]
        )
    )
    failed = [row for row in batch if row.outcome == ImportOutcome.FAILED]
    if failed:
        CustomerImportRow.objects.bulk_update(failed, ["outcome", "error"])


def _copy(client: Client, data: dict[str, Any]) -> bool:
    """Copy non-blank remote fields (and the registry number with its country) onto the client;
    True when something changed."""
    changed = False
    for field in FIELDS:
        value = str(data.get(field) or "")
        if value and value != (getattr(client, field) or ""):
            model_field = Client._meta.get_field(field)
            max_length = model_field.max_length if isinstance(model_field, Field) else None
            setattr(client, field, value[: max_length or None])
            changed = True
    for field, value in registry_fields(data).items():
        if value != (getattr(client, field) or ""):
            setattr(client, field, value)
            changed = True
    client.updated_at = timezone.now()
    return changed


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
