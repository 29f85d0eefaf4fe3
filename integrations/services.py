"""Use cases of the integration core: the only code that changes connections, credentials, jobs
and notifications. Views, API views and tasks call these with `company` and `actor`."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations import crypto
from integrations.base import (
    AccountingAdapter,
    CallRecord,
    Capability,
    ConfigError,
    IntegrationError,
    RemoteCompany,
    get_vendor,
)
from integrations.models import (
    ACTIVE_JOB_STATUSES,
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    Notification,
    NotificationLevel,
    SyncJob,
    SyncJobCall,
    SyncJobStatus,
)
from uku import audit
from uku.i18n import every_language, texts_of
from uku.models import Company, Membership, Role, User

if TYPE_CHECKING:
    from clients.models import Client
from uku.permissions import ADMIN_ROLES, require

logger = logging.getLogger(__name__)

EXPIRY_THRESHOLDS = (14, 7, 3, 1, 0)
EXPIRED = -1


# --- Access ---------------------------------------------------------------------------------------


def assert_can_manage(
    company: Company, actor: User, vendor: str, *, taking_into_use: bool = True
) -> None:
    """Integration settings are for owners and admins, on a plan that includes the vendor.

    `taking_into_use=False` (turning the integration off, removing credentials) skips the plan:
    a firm moved to a lower plan must still be able to withdraw uku's key into its books.
    """
    require(
        company,
        actor,
        roles=ADMIN_ROLES,
        plan=get_vendor(vendor).required_plan if taking_into_use else None,
        message=_("Only owners and admins manage integrations."),
    )


CLIENT_CREDENTIAL_ROLES = (Role.OWNER, Role.ADMIN, Role.MEMBER)
"""Who save a client's own credentials: its accountants (owners, admins and members)."""


def assert_can_manage_client(
    company: Company, actor: User, vendor: str, client: Client, *, taking_into_use: bool = True
) -> None:
    """A client's own credentials (vendors with `Capability.CLIENT_CREDENTIALS`) are kept by
    the firm's accountants, on a plan that includes the vendor (removing them is allowed on any
    plan, as for the firm's own); the client must be the firm's."""
    info = get_vendor(vendor)
    require(
        company,
        actor,
        roles=CLIENT_CREDENTIAL_ROLES,
        plan=info.required_plan if taking_into_use else None,
        message=_("Billing staff cannot connect a client's own company."),
    )
    info.require(Capability.CLIENT_CREDENTIALS)
    if client.company_id != company.pk:  # a caller's bug: views look clients up in the firm
        raise ValueError("client of another firm")


def _assert_access(
    company: Company,
    actor: User,
    vendor: str,
    client: Client | None,
    *,
    taking_into_use: bool = True,
) -> None:
    if client is None:
        assert_can_manage(company, actor, vendor, taking_into_use=taking_into_use)
    else:
        assert_can_manage_client(company, actor, vendor, client, taking_into_use=taking_into_use)


def get_connection(
    company: Company, vendor: str, client: Client | None = None
) -> IntegrationConnection:
    """The firm's connection to `vendor` (or, for a vendor connected per client, the one for
    `client`), created disabled, on the vendor's first environment, on first use."""
    info = get_vendor(vendor)  # unknown vendors fail loudly
    connection, _created = IntegrationConnection.objects.get_or_create(
        company=company,
        vendor=vendor,
        client=client,
        defaults={"environment": info.default_environment},
    )
    return connection


def check_environment(vendor: str, environment: str) -> None:
    """Refuse an environment the vendor does not have, naming the ones it has."""
    info = get_vendor(vendor)
    if environment not in info.environment_keys:
        raise ConfigError(
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _key, label in info.environments)},
            details={"field": "environment"},
        )


# --- Enable, disable ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnableOption:
    """Something another app offers to do when an integration is enabled ("also activate
    billing"): a ticked-by-default checkbox next to Enable, and a boolean in the API's enable."""

    name: str
    label: Any
    help_text: Any
    wanted: str  # dotted path of fn(company) -> bool: offer it at all?
    apply: str  # dotted path of fn(*, company, actor, vendor) -> None, run when chosen


ENABLE_OPTIONS: list[EnableOption] = []


def register_enable_option(name: str, label: Any, help_text: Any, wanted: str, apply: str) -> None:
    """Offer an option when enabling an integration (call from an AppConfig.ready)."""
    ENABLE_OPTIONS.append(EnableOption(name, label, help_text, wanted, apply))


def audit_integration(
    company: Company,
    actor: User | None,
    action: str,
    vendor: str,
    details: dict[str, Any] | None = None,
) -> None:
    """An audit event about the firm's integration with `vendor` (the object is the vendor).
    Other apps record their firm-wide events about a vendor through it too (summary tasks)."""
    audit.record(
        company=company,
        actor=actor,
        action=action,
        object_type="integration",
        object_id=vendor,
        object_label=str(get_vendor(vendor).label),
        details=details,
    )


def enable_options(company: Company) -> list[EnableOption]:
    """The options worth offering this firm now."""
    return [o for o in ENABLE_OPTIONS if import_string(o.wanted)(company)]


def enable_integration(
    *, company: Company, actor: User, vendor: str, options: Iterable[str] = ()
) -> IntegrationConnection:
    """Turn the integration on for the firm, and apply the chosen `options` (names of
    `ENABLE_OPTIONS`) that are offered, all in one transaction. Idempotent. Pulls no data."""
    assert_can_manage(company, actor, vendor)
    chosen = set(options)
    with transaction.atomic():
        connection = get_connection(company, vendor)
        applied = []
        was_enabled = connection.enabled
        if not connection.enabled:
            connection.enabled = True
            connection.save(update_fields=["enabled", "updated_at"])
        for option in enable_options(company):
            if option.name in chosen:
                import_string(option.apply)(company=company, actor=actor, vendor=vendor)
                applied.append(option.name)
        if not was_enabled or applied:
            audit_integration(company, actor, "integration.enabled", vendor, {"options": applied})
    return connection


def disable_integration(*, company: Company, actor: User, vendor: str) -> IntegrationConnection:
    """Turn the integration off. Keeps the credentials, links and history. Idempotent. Allowed
    on any plan."""
    assert_can_manage(company, actor, vendor, taking_into_use=False)
    with transaction.atomic():
        connection = get_connection(company, vendor)
        if connection.enabled:
            connection.enabled = False
            connection.save(update_fields=["enabled", "updated_at"])
            audit_integration(company, actor, "integration.disabled", vendor)
    return connection


# --- Credentials and adapters ---------------------------------------------------------------------


def clean_credentials(vendor: str, raw: dict[str, str]) -> dict[str, str]:
    """The vendor's own validation of what the admin typed (no network call): only the fields
    the vendor declares are passed on, and its adapter says what is missing or malformed."""
    info = get_vendor(vendor)
    declared = {f.name: str(raw.get(f.name) or "") for f in info.credential_fields}
    return info.adapter_class.clean_credentials(declared)


def _credential(connection: IntegrationConnection, environment: str) -> IntegrationCredential:
    credential = IntegrationCredential.objects.filter(
        connection=connection, environment=environment
    ).first()
    if credential is None:
        info = get_vendor(connection.vendor)
        raise ConfigError(
            _("No credentials are saved for %(environment)s. Enter them and save.")
            % {"environment": info.environment_name(environment)},
            details={"field": info.credential_fields[0].name},
        )
    return credential


def _rate_limit_key(vendor: str, environment: str, credentials: dict[str, str]) -> str:
    """The shared rate-limit budget's key: a hash of the credential, never the credential."""
    material = json.dumps([vendor, environment, credentials], sort_keys=True)
    return f"{vendor}:{hashlib.sha256(material.encode()).hexdigest()[:32]}"


def build_adapter(
    vendor: str,
    environment: str,
    credentials: dict[str, str],
    job: SyncJob | None = None,
    call_log: CallLog | None = None,
) -> AccountingAdapter:
    """An adapter for these credentials; its API calls are logged on `job` when given (by
    `call_log` when given, else one row as each call ends)."""
    on_call = call_log or (CallLog(job) if job is not None else None)
    return get_vendor(vendor).adapter_class(
        credentials=credentials,
        environment=environment,
        rate_limit_key=_rate_limit_key(vendor, environment, credentials),
        on_call=on_call,
    )


def adapter_for(
    connection: IntegrationConnection,
    job: SyncJob | None = None,
    call_log: CallLog | None = None,
) -> AccountingAdapter:
    """The adapter for the connection's active environment and saved credentials."""
    credential = _credential(connection, connection.environment)
    credentials = json.loads(crypto.decrypt(credential.secret_encrypted))
    return build_adapter(connection.vendor, connection.environment, credentials, job, call_log)


class CallLog:
    """Records a job's API calls as `SyncJobCall` rows: each as it ends, or, `buffered`, kept
    until `flush()` writes them in one statement (a reload's thread flushes after each
    client-month: one insert per part instead of one commit per call). Thread-confined."""

    def __init__(self, job: SyncJob, *, buffered: bool = False) -> None:
        self.job = job
        self.buffered = buffered
        self._rows: list[SyncJobCall] = []

    def __call__(self, call: CallRecord) -> None:
        row = SyncJobCall(
            company_id=self.job.company_id,
            job=self.job,
            method=call.method,
            path=call.path[:255],
            status=call.status,
            duration_ms=call.duration_ms,
            error_code=str(call.error_code or "")[:32],
            developer_message=call.developer_message or "",
            request_id=call.request_id or "",
        )
        if self.buffered:
            self._rows.append(row)
        else:
            row.save()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            SyncJobCall.objects.bulk_create(rows)
        except Exception:  # a broken call log must not break the sync it records
            logger.warning("Recording %d API calls failed", len(rows), exc_info=True)


# --- Test, save, disconnect -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionTest:
    remote: RemoteCompany
    job: SyncJob


def test_connection(
    *,
    company: Company,
    actor: User,
    vendor: str,
    environment: str,
    credentials: dict[str, str] | None = None,
    client: Client | None = None,
) -> ConnectionTest:
    """Log in with `credentials` (or the saved ones for `environment`) and say who we are.

    With `client`, it is that client's own connection (`Capability.CLIENT_CREDENTIALS`).
    Saves nothing but the attempt's job (kind `connection_test`, with its API calls) for History.
    Raises `IntegrationError` (`AuthError` with the likely cause) when refused.
    """
    _assert_access(company, actor, vendor, client)
    check_environment(vendor, environment)
    connection = get_connection(company, vendor, client)
    # Testing the saved token of the active environment is a check of the connection itself: its
    # outcome is the connection's status (a pasted token proves nothing about the saved one).
    checks_saved = credentials is None and environment == connection.environment
    if credentials is None:
        credential = _credential(connection, environment)
        credentials = json.loads(crypto.decrypt(credential.secret_encrypted))
    else:
        credentials = clean_credentials(vendor, credentials)
    job = SyncJob.objects.create(
        company=company,
        vendor=vendor,
        connection=connection,
        kind="connection_test",
        # Each test is its own job: tests are never joined, and a test left running by a killed
        # web worker must not block the next one (the one-active-job constraint is per scope).
        scope=uuid.uuid4().hex,
        status=SyncJobStatus.RUNNING,
        requested_by=actor,
        started_at=timezone.now(),
    )
    adapter = build_adapter(vendor, environment, credentials, job)
    try:
        remote = adapter.test_connection()
    except Exception as exc:
        finish_job(job, error=exc)
        if checks_saved and isinstance(exc, IntegrationError) and exc.permanent:
            _flag_connection_error(connection, exc)
        raise
    finally:
        adapter.close()
    finish_job(job, counts={"company": remote.name})
    if checks_saved:
        record_sync_success(connection, job)
    return ConnectionTest(remote, job)


def save_connection(
    *,
    company: Company,
    actor: User,
    vendor: str,
    environment: str,
    credentials: dict[str, str],
    expires_on: date | None = None,
    client: Client | None = None,
) -> IntegrationConnection:
    """Test the credentials, then store them encrypted for `environment` and make it active.

    With `client` (vendors with `Capability.CLIENT_CREDENTIALS`), they are that client's own
    credentials: saved on the client's connection, which is enabled at once, and used for that
    client's books only (its statistics). Owners, admins and members may save them.

    Replacing a token keeps every link, mapping and job: only the credential row changes. Refuses
    (raising the test's error) when the credentials do not work, so a broken token is never saved.
    `expires_on` is kept only for vendors whose credentials expire.
    """
    info = get_vendor(vendor)
    check_environment(vendor, environment)
    if not info.credentials_expire:
        expires_on = None
    result = test_connection(
        company=company,
        actor=actor,
        vendor=vendor,
        environment=environment,
        credentials=credentials,
        client=client,
    )
    cleaned = clean_credentials(vendor, credentials)
    secrets = [cleaned[f.name] for f in info.secret_fields if cleaned.get(f.name)]
    public = {f.name: cleaned[f.name] for f in info.credential_fields if not f.secret}
    now = timezone.now()
    with transaction.atomic():
        connection = IntegrationConnection.objects.select_for_update().get(
            pk=get_connection(company, vendor, client).pk
        )
        if client is not None:
            connection.enabled = True
        _credential_row, created = IntegrationCredential.objects.update_or_create(
            connection=connection,
            environment=environment,
            defaults={
                "company": company,
                "secret_encrypted": crypto.encrypt(json.dumps(cleaned)),
                "last4": secrets[0][-4:] if secrets else "",
                "public_fields": public,
                "expires_on": expires_on,
                "set_by": actor,
                "set_at": now,
                "expiry_warnings_sent": [],
            },
        )
        connection.environment = environment
        connection.status = ConnectionStatus.CONNECTED
        connection.remote_company_name = result.remote.name
        connection.remote_company_id = result.remote.id
        connection.remote_employee_name = result.remote.employee_name
        connection.last_success_at = now
        connection.last_error = ""
        connection.last_error_texts = {}
        connection.last_error_at = None
        connection.save()
        # What was saved, never with what: no credential value, not even its last characters.
        audit_integration(
            company,
            actor,
            "connection.saved" if created else "connection.replaced",
            vendor,
            {
                "environment": environment,
                "expires_on": expires_on,
                "remote_company": result.remote.name,
            },
        )
    return connection


def disconnect(
    *, company: Company, actor: User, vendor: str, client: Client | None = None
) -> IntegrationConnection:
    """Forget the saved credentials (every environment): the firm's, or with `client` that
    client's own. Links and history stay. Idempotent. Allowed on any plan."""
    _assert_access(company, actor, vendor, client, taking_into_use=False)
    with transaction.atomic():
        connection = get_connection(company, vendor, client)
        removed = sorted(
            IntegrationCredential.objects.filter(connection=connection).values_list(
                "environment", flat=True
            )
        )
        IntegrationCredential.objects.filter(connection=connection).delete()
        if removed:
            audit_integration(
                company, actor, "connection.removed", vendor, {"environments": removed}
            )
        connection.status = ConnectionStatus.NOT_CONNECTED
        connection.remote_company_name = ""
        connection.remote_company_id = ""
        connection.remote_employee_name = ""
        connection.last_error = ""
        connection.last_error_texts = {}
        connection.last_error_at = None
        connection.save()
    return connection


def record_sync_failure(connection: IntegrationConnection, error: IntegrationError) -> None:
    """A permanent error flags the connection and tells the firm's admins what to do."""
    if not error.permanent:
        return
    _flag_connection_error(connection, error)
    notify(
        company=connection.company,
        roles=ADMIN_ROLES,
        level=NotificationLevel.ERROR,
        text=_("%(vendor)s sync failed: %(error)s")
        % {"vendor": get_vendor(connection.vendor).label, "error": error.message},
        link=f"/settings/apps/{connection.vendor}/?tab=connect",
        email=True,
    )


def _flag_connection_error(connection: IntegrationConnection, error: IntegrationError) -> None:
    """The connection stops showing "Connected": its status and headline become the error."""
    connection.status = ConnectionStatus.ERROR
    connection.last_error = error.message
    connection.last_error_texts = texts_of(error.message)
    connection.last_error_at = timezone.now()
    connection.save(
        update_fields=["status", "last_error", "last_error_texts", "last_error_at", "updated_at"]
    )


def record_sync_success(connection: IntegrationConnection, job: SyncJob) -> None:
    """A job that talked to the vendor successfully clears an earlier error. Only then: a job
    that made no call proves nothing about the connection. A conditional update, so it never
    revives a connection disconnected meanwhile or hides an error recorded after the job began."""
    made_calls = SyncJobCall.objects.filter(job=job, status__lt=400).exists()
    if not made_calls:
        return
    record_call_success(connection, job.started_at)


def record_call_success(connection: IntegrationConnection, since: datetime | None) -> None:
    """The vendor accepted a call made with the connection's credentials (begun at `since`):
    an earlier error is cleared. For work outside sync jobs (an invoice export, one
    client-month of statistics) that proves the credentials work again. Conditional, like
    `record_sync_success`: an error recorded after `since` stays."""
    rows = IntegrationConnection.objects.filter(
        pk=connection.pk, status__in=[ConnectionStatus.CONNECTED, ConnectionStatus.ERROR]
    )
    if since is not None:
        rows = rows.exclude(last_error_at__gt=since)
    rows.update(
        status=ConnectionStatus.CONNECTED,
        last_success_at=timezone.now(),
        last_error="",
        last_error_texts={},
        last_error_at=None,
        updated_at=timezone.now(),
    )


# --- Jobs -----------------------------------------------------------------------------------------


def start_job(
    *,
    company: Company,
    actor: User | None,
    vendor: str,
    kind: str,
    scope: str = "",
    options: dict | None = None,
) -> tuple[SyncJob, bool]:
    """A queued job of `kind` for `scope`, or the one already queued or running (joined;
    `integrations.jobs.request_job` resumes it first when it is stalled).

    `options` seed the job's `counts` (e.g. `{"full": True}`), set before anything can run it.
    Returns (job, created). The partial unique constraint makes this safe under concurrency:
    two simultaneous requests create one job.
    """
    active = SyncJob.objects.filter(
        company=company, vendor=vendor, kind=kind, scope=scope, status__in=ACTIVE_JOB_STATUSES
    )
    job = active.first()
    if job is not None:
        return job, False
    try:
        with transaction.atomic():
            job = SyncJob.objects.create(
                company=company,
                vendor=vendor,
                connection=get_connection(company, vendor),
                kind=kind,
                scope=scope,
                requested_by=actor,
                counts=dict(options or {}),
            )
        return job, True
    except IntegrityError:
        return active.get(), False


@contextmanager
def running(job: SyncJob) -> Iterator[SyncJob]:
    """Mark the job running for the duration of the block; finished or failed afterwards."""
    SyncJob.objects.filter(pk=job.pk).update(
        status=SyncJobStatus.RUNNING, started_at=timezone.now()
    )
    job.refresh_from_db()
    try:
        yield job
    except Exception as exc:
        finish_job(job, error=exc)
        raise
    else:
        finish_job(job)


def finish_job(
    job: SyncJob, *, error: BaseException | None = None, counts: dict | None = None
) -> bool:
    """Mark the job succeeded (with `counts` merged in) or failed (with a message safe to show:
    an `IntegrationError`'s own, or a generic one for anything else, which is logged).

    Conditional: only while the job is still queued or running under the claim this instance
    holds (`attempts`), so a run that lost its job to a successor cannot end the successor's.
    Returns whether it ended the job.
    """
    job.finished_at = timezone.now()
    if counts is not None:
        job.counts = {**job.counts, **counts}
    if error is None:
        job.status = SyncJobStatus.SUCCEEDED
    else:
        job.status = SyncJobStatus.FAILED
        if isinstance(error, IntegrationError):
            job.error = error.message
            job.error_details = {k: str(v) for k, v in error.details.items()}
        else:
            job.error = every_language(
                lambda: _("An unexpected error stopped the job. It has been logged.")
            )
            logger.exception("sync job %s failed", job.public_id, exc_info=error)
        job.error_texts = texts_of(job.error)
    return bool(
        SyncJob.objects.filter(
            pk=job.pk, attempts=job.attempts, status__in=ACTIVE_JOB_STATUSES
        ).update(
            status=job.status,
            finished_at=job.finished_at,
            counts=job.counts,
            error=job.error,
            error_texts=job.error_texts,
            error_details=job.error_details,
        )
    )


# --- Notifications ----------------------------------------------------------------------------------


def notify(
    *,
    company: Company,
    text: str,
    level: str = NotificationLevel.INFO,
    link: str = "",
    users: Iterable[User] = (),
    roles: Iterable[str] = (),
    key: str = "",
    email: bool = False,
) -> list[Notification]:
    """Notify the given users and every member with one of `roles`: one row per person.

    With `key`, a person gets at most one notification per key (repeats are skipped), which makes
    periodic warnings safe to run twice. With `email`, each new recipient also gets an e-mail.
    """
    recipients = {u.pk: u for u in users}
    roles = list(roles)
    if roles:
        for membership in Membership.objects.filter(company=company, role__in=roles).select_related(
            "user"
        ):
            recipients[membership.user.pk] = membership.user
    created: list[Notification] = []
    for user in recipients.values():
        if key and Notification.objects.filter(company=company, recipient=user, key=key).exists():
            continue
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        company=company,
                        recipient=user,
                        level=level,
                        text=text,
                        texts=texts_of(text),
                        link=link,
                        key=key,
                    )
                )
        except IntegrityError:
            continue  # a concurrent run created it
    if email and created:
        addresses = [n.recipient.email for n in created]
        transaction.on_commit(
            lambda: send_mail(f"uku: {text[:120]}", text, None, addresses, fail_silently=True)
        )
    return created


def job_notification_key(job: SyncJob) -> str:
    """The de-duplication key of the notification that `job` ended: one per job and person."""
    return f"job-end:{job.pk}"


def mark_job_seen(*, company: Company, actor: User, job: SyncJob) -> bool:
    """`actor` watched `job` finish on screen (a progress poll answered with the finished job),
    so its end needs no notification: the one already sent is marked read, and when none is
    there yet a read one is stored under the same key, so the one the worker sends next is
    skipped (`notify` sends one per key and person). Only the job's requester is notified, so
    for anyone else this does nothing. Idempotent. Returns True when it changed something."""
    if job.is_active or job.requested_by_id != actor.pk:
        return False
    key = job_notification_key(job)
    if Notification.objects.filter(
        company=company, recipient=actor, key=key, read_at__isnull=True
    ).update(read_at=timezone.now()):
        return True
    if Notification.objects.filter(company=company, recipient=actor, key=key).exists():
        return False
    from integrations.jobs import describe_result, job_label  # jobs imports this module

    def render() -> str:
        outcome = describe_result(job)
        text = f"{job_label(job.kind)}: {job.get_status_display()}"
        return f"{text}. {outcome}" if outcome else text

    text = every_language(render)
    try:
        with transaction.atomic():
            Notification.objects.create(
                company=company,
                recipient=actor,
                level=NotificationLevel.INFO,
                text=text,
                texts=texts_of(text),
                link=reverse("integration_job", args=[job.vendor, job.public_id]),
                key=key,
                read_at=timezone.now(),
            )
    except IntegrityError:
        # The worker's notification landed in between: mark that one read instead.
        Notification.objects.filter(company=company, recipient=actor, key=key).update(
            read_at=timezone.now()
        )
    return True


def mark_notifications_read(
    *, company: Company, actor: User, public_ids: Iterable[str] | None = None
) -> int:
    """Mark the actor's notifications read: the given ones, or all. Returns how many changed."""
    unread = Notification.objects.filter(company=company, recipient=actor, read_at__isnull=True)
    if public_ids is not None:
        unread = unread.filter(public_id__in=list(public_ids))
    return unread.update(read_at=timezone.now())


# --- Token expiry -----------------------------------------------------------------------------------


def days_until_expiry(credential: IntegrationCredential, today: date) -> int | None:
    return None if credential.expires_on is None else (credential.expires_on - today).days


def warn_expiring_tokens(*, company: Company, today: date) -> int:
    """Warn owners and admins about the active token's expiry, once per threshold.

    Thresholds: 14, 7, 3 and 1 days before, on the day (0), and once after it expired. A token
    first seen inside a threshold (saved with 5 days left) warns once for it and marks the larger
    ones as passed. Safe to run twice: the thresholds sent are stored on the credential. Returns
    the number of notifications created.
    """
    sent = 0
    connections = IntegrationConnection.objects.filter(company=company, enabled=True)
    for connection in connections:
        credential = IntegrationCredential.objects.filter(
            connection=connection, environment=connection.environment
        ).first()
        if credential is None:
            continue
        expires_on = credential.expires_on
        days = days_until_expiry(credential, today)
        if expires_on is None or days is None or days > EXPIRY_THRESHOLDS[0]:
            continue
        threshold = EXPIRED if days < 0 else min(t for t in EXPIRY_THRESHOLDS if t >= days)
        already = set(credential.expiry_warnings_sent)
        if threshold in already:
            continue
        label = get_vendor(connection.vendor).label
        level = NotificationLevel.ERROR if days <= 0 else NotificationLevel.WARNING

        def render(expires_on: date = expires_on, days: int = days, label: str = label) -> str:
            if days < 0:
                message = _(
                    "The %(vendor)s token expired on %(date)s. Syncing has stopped: paste a "
                    "new token under Settings & Apps → %(vendor)s → Connect."
                )
            elif days == 0:
                message = _(
                    "The %(vendor)s token expires today (%(date)s). Create a new one in "
                    "%(vendor)s and paste it under Settings & Apps → %(vendor)s → Connect."
                )
            else:
                message = ngettext(
                    "The %(vendor)s token expires tomorrow (%(date)s). Replace it under "
                    "Settings & Apps → %(vendor)s → Connect.",
                    "The %(vendor)s token expires in %(days)d days (%(date)s). Replace it "
                    "under Settings & Apps → %(vendor)s → Connect.",
                    days,
                )
            # The date as the reader's language writes it, not ISO.
            shown = formats.date_format(expires_on, "SHORT_DATE_FORMAT")
            return message % {"vendor": label, "date": shown, "days": days}

        # In every language: the notification is read in each admin's language.
        text = every_language(render)
        sent += len(
            notify(
                company=company,
                roles=ADMIN_ROLES,
                level=level,
                text=text,
                link=f"/settings/apps/{connection.vendor}/?tab=connect",
                key=f"token-expiry:{credential.pk}:{credential.set_at.isoformat()}:{threshold}",
                email=True,
            )
        )
        passed = {t for t in (*EXPIRY_THRESHOLDS, EXPIRED) if t >= threshold}
        credential.expiry_warnings_sent = sorted(already | passed)
        credential.save(update_fields=["expiry_warnings_sent"])
    return sent
