"""The jobs of the fault matrix, one driver per job, the same for every vendor.

A driver knows how to prepare firm A for its job (`setup`, fault-free), where the vendor is
called (`target`: the endpoint the fault is injected on), how to run the job through uku's real
services and tasks (`run`, eagerly, as a worker would), and how to compare what uku holds with the
sandbox's truth (`check`): it returns how many records were lost, how many remote objects were
duplicated, and a list of half-written values. `Vendor` hides which sandbox is behind it.

A job joins the matrix by adding a driver to `JOBS`; a vendor by adding a `Vendor` to `VENDORS`
(and its fault names to `Vendor.faults`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import requests
from celery import current_app
from django.test import TestCase
from django.utils import timezone
from django_scopes import scopes_disabled

from billing import exports, invoices, statuses
from billing import services as billing_services
from billing.invoices import LineInput
from billing.models import BillingProduct, ExportState, Invoice, InvoiceExport, VatType
from clients import services as client_services
from clients.models import Client, CustomerImportRow, ExternalLink
from integrations import crypto
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    SyncJob,
)
from summarytasks import schedule
from summarytasks import services as summary_services
from summarytasks import tasks as summary_tasks
from summarytasks.models import ImportState, MonthlyImport, SummaryTaskValue
from tests.reliability.matrix import JOB_KEYS, WRITE_JOBS


def run_on_commit(start: Any) -> Any:
    """Call `start()` and run every task it queued on commit (eagerly, retries included)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return start()


# --- Vendors ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """How a job ended, in vendor-neutral words: `done`, or `failed` with the error shown."""

    state: str  # "done" | "failed" | anything else is a bug (stuck, queued, running)
    error: str = ""


class Vendor:
    """One sandbox behind the matrix's generic fault names."""

    key = ""
    # generic fault -> (sandbox kind, extra arguments)
    faults: dict[str, tuple[str, dict[str, Any]]] = {}

    def __init__(self, server: Any) -> None:
        self.server = server
        self.store = server.store

    def reset(self) -> None:
        raise NotImplementedError

    def connect(self, world: Any, *, accountant: bool = False) -> IntegrationConnection:
        raise NotImplementedError

    def inject(self, fault: str, target: str, times: int) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        self.store.clear_faults()

    # The sandbox's truth, in uku's terms (each vendor answers from its own store).
    statistic = ""  # the statistic the statistics jobs map
    creds: dict[str, Any] = {}

    def customers(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def products(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def vat_types(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def books_company(self) -> str:
        raise NotImplementedError

    def truth(self, books: str, period: date) -> Decimal:
        raise NotImplementedError

    def remote_invoices(self, number: str) -> int:
        raise NotImplementedError

    def customer_for_invoice(self) -> str:
        raise NotImplementedError

    def mark_paid(self, export: InvoiceExport) -> None:
        raise NotImplementedError

    def calls(self) -> int:
        return sum(self.store.request_counts().values())


class TripletexVendor(Vendor):
    key = "tripletex"
    faults = {
        "429_retry_after": ("rate_limit", {"retry_after": 1}),
        "429_no_retry_after": ("rate_limit", {"retry_after": None}),
        "500": ("server_error", {}),
        "503_html": ("unavailable_html", {"retry_after": None}),
        "read_timeout": ("delay", {"delay_seconds": 1.4}),
        "dropped_connection": ("drop", {}),
        "malformed_json": ("malformed_json", {}),
        "401": ("unauthorized", {}),
        "lose_response": ("lose_response", {}),
    }
    # job -> (method, path) of the call the fault hits
    targets = {
        "customer_preview": "GET /customer",
        "customer_confirm": "GET /customer",
        "product_import": "GET /product",
        "vat_import": "GET /ledger/vatType",
        "statistics_import": "GET /ledger/voucher",
        "reload": "GET /ledger/voucher",
        "invoice_export": "POST /order",
        "invoice_status": "GET /invoice",
    }
    statistic = "all_vouchers"

    def reset(self) -> None:
        self.store.reset("demo", customers=5)
        # A short window, so a 429 that names only the window's reset asks for seconds, not a
        # minute (the job's retry then comes within the cell).
        self.store.set_rate_limit(10_000, 1.0)

    def connect(self, world: Any, *, accountant: bool = False) -> IntegrationConnection:
        token = self.store.create_employee_token(accountant=accountant)["token"]
        return _save(world, self.key, "test", {"employee_token": token}, token)

    def inject(self, fault: str, target: str, times: int) -> None:
        kind, extra = self.faults[fault]
        method, path = target.split(" ", 1)
        self.store.inject_fault(kind, path, method=method, times=times, **extra)

    def customers(self) -> dict[str, dict[str, Any]]:
        rows = self.store.company_rows("customer", self.store.firm_company_id)
        return {str(r["id"]): {"name": r["name"]} for r in rows}

    def products(self) -> dict[str, dict[str, Any]]:
        rows = self.store.company_rows("product", self.store.firm_company_id)
        return {
            str(r["id"]): {
                "name": r["name"],
                "price": Decimal(str(r["priceExcludingVatCurrency"])).quantize(Decimal("0.01")),
            }
            for r in rows
        }

    def vat_types(self) -> dict[str, dict[str, Any]]:
        rows = self.store.company_rows("vatType", self.store.firm_company_id)
        return {str(r["id"]): {"number": r["number"]} for r in rows}

    def books_company(self) -> str:
        return str(self.store.company_clients(self.store.firm_company_id)[0])

    def truth(self, books: str, period: date) -> Decimal:
        response = requests.get(
            f"{self.server.base_url}/_sandbox/statistics",
            params={"company": books, "period": f"{period:%Y-%m}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return Decimal(response.json()["statistics"][self.statistic])

    def remote_invoices(self, number: str) -> int:
        rows = self.store.company_rows("order", self.store.firm_company_id)
        return sum(1 for o in rows if o.get("reference") == number)

    def customer_for_invoice(self) -> str:
        rows = self.store.company_rows("customer", self.store.firm_company_id)
        return str(next(r for r in rows if not r.get("isInactive"))["id"])

    def mark_paid(self, export: InvoiceExport) -> None:
        response = requests.post(
            f"{self.server.base_url}/_sandbox/orders/{export.remote_id}/invoice",
            json={"state": "paid"},
            timeout=10,
        )
        assert response.ok, response.text


class MeritVendor(Vendor):
    key = "merit"
    faults = {
        "429_retry_after": ("rate_limit", {"retry_after": 1}),
        "429_no_retry_after": ("rate_limit", {"retry_after": None}),
        "500": ("server_error", {}),
        "503_html": ("unavailable", {"retry_after": None}),
        "read_timeout": ("delay", {"delay_seconds": 1.4}),
        "dropped_connection": ("drop", {}),
        "malformed_json": ("malformed_json", {}),
        "401": ("unauthorized", {}),
        "lose_response": ("lose_response", {}),
    }
    targets = {
        "customer_preview": "getcustomers",
        "customer_confirm": "getcustomers",
        "product_import": "getitems",
        "vat_import": "gettaxes",
        "statistics_import": "getinvoices",
        "reload": "getinvoices",
        "invoice_export": "sendinvoice",
        "invoice_status": "getinvoices",
    }
    statistic = "sales_invoices"

    def reset(self) -> None:
        self.store.reset("demo", customers=8)
        self.store.set_rate_limit(10_000, 1.0)
        # Fresh credentials per cell: the shared rate-limit budget is keyed by the credential,
        # so a 429 of one cell never makes the next one wait.
        self.creds = self.store.create_credentials("EE")

    def connect(self, world: Any, *, accountant: bool = False) -> IntegrationConnection:
        creds = {"api_id": self.creds["api_id"], "api_key": self.creds["api_key"]}
        return _save(world, self.key, "ee", creds, self.creds["api_key"])

    def inject(self, fault: str, target: str, times: int) -> None:
        kind, extra = self.faults[fault]
        self.store.inject_fault(kind, endpoint=target, times=times, **extra)

    def _firm(self) -> Any:
        return self.store.firm("EE")

    def customers(self) -> dict[str, dict[str, Any]]:
        return {str(k): {"name": c["Name"]} for k, c in self._firm().customers.items()}

    def products(self) -> dict[str, dict[str, Any]]:
        items = self._firm().items
        rows = items.values() if isinstance(items, dict) else items
        return {
            str(r["ItemId"]): {
                "name": r["Name"],
                "price": Decimal(str(r["SalesPrice"])).quantize(Decimal("0.01")),
            }
            for r in rows
        }

    def vat_types(self) -> dict[str, dict[str, Any]]:
        return {str(t["Id"]): {"number": t["Code"]} for t in self._firm().taxes}

    def books_company(self) -> str:
        return str(self.creds["company_id"])

    def truth(self, books: str, period: date) -> Decimal:
        response = requests.get(
            f"{self.server.base_url}/_sandbox/statistics",
            params={"company": books, "period": f"{period:%Y-%m}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return Decimal(response.json()["statistics"][self.statistic])

    def remote_invoices(self, number: str) -> int:
        firm = self._firm()
        firm.ensure_history()
        return sum(1 for i in firm.invoices.values() if i["Header"]["InvoiceNo"] == number)

    def customer_for_invoice(self) -> str:
        return str(next(iter(self._firm().customers.values()))["CustomerId"])

    def mark_paid(self, export: InvoiceExport) -> None:
        self.store.pay_invoice(export.remote_id)


VENDORS: dict[str, type[Vendor]] = {"tripletex": TripletexVendor, "merit": MeritVendor}


def _save(
    world: Any, vendor: str, environment: str, secret: dict[str, str], last: str, client: Any = None
) -> IntegrationConnection:
    """A connected connection of firm A (or of `client`) with `secret`, as a good test saves."""
    with world.scope_a():
        connection, _new = IntegrationConnection.objects.update_or_create(
            company=world.firm_a,
            vendor=vendor,
            client=client,
            defaults={
                "enabled": True,
                "environment": environment,
                "status": ConnectionStatus.CONNECTED,
                "last_error": "",
                "last_error_at": None,
            },
        )
        IntegrationCredential.objects.update_or_create(
            connection=connection,
            environment=environment,
            defaults={
                "company": world.firm_a,
                "secret_encrypted": crypto.encrypt(json.dumps(secret)),
                "last4": last[-4:],
                "set_by": world.admin,
                "set_at": timezone.now(),
            },
        )
    return connection


# --- Jobs -------------------------------------------------------------------------------------


@dataclass
class Check:
    lost: int = 0
    duplicated: int = 0
    half_written: list[str] = field(default_factory=list)


class Job:
    """One job of the matrix. Subclasses fill in `setup`, `run` and `check`."""

    key = ""
    # The firm's credentials of this job are an accountant's (statistics through client books).
    accountant = False
    # The job writes to the vendor (the fault's call is a write).
    writes = False

    def __init__(self, world: Any, vendor: Vendor) -> None:
        self.world, self.vendor = world, vendor
        self.requester = world.admin

    def setup(self) -> None:
        self.connection = self.vendor.connect(self.world, accountant=self.accountant)

    def run(self) -> Outcome:
        raise NotImplementedError

    def check(self) -> Check:
        raise NotImplementedError

    # Helpers -------------------------------------------------------------------------------
    def _job_outcome(self, job: SyncJob) -> Outcome:
        job.refresh_from_db()
        self.last_job = job
        state = {"succeeded": "done", "failed": "failed"}.get(job.status, job.status)
        return Outcome(state, job.error)

    def links(self) -> list[ExternalLink]:
        with scopes_disabled():
            return list(ExternalLink.objects.filter(company=self.world.firm_a))


class CustomerPreview(Job):
    key = "customer_preview"

    def start(self) -> SyncJob:
        with self.world.scope_a():
            return client_services.start_customer_import(
                company=self.world.firm_a, actor=self.requester, vendor=self.vendor.key, full=True
            )[0]

    def run(self) -> Outcome:
        return self._job_outcome(run_on_commit(self.start))

    def check(self) -> Check:
        remote = self.vendor.customers()
        with scopes_disabled():
            rows = list(CustomerImportRow.objects.filter(job=self.last_job))
        seen = Counter(r.remote_id for r in rows)
        half = [
            f"row {r.remote_id}: {r.data.get('name')!r} != {remote[r.remote_id]['name']!r}"
            for r in rows
            if r.remote_id in remote and r.data.get("name") != remote[r.remote_id]["name"].strip()
        ]
        return Check(
            lost=len(set(remote) - set(seen)),
            duplicated=sum(n - 1 for n in seen.values()),
            half_written=half,
        )


class CustomerConfirm(CustomerPreview):
    key = "customer_confirm"

    def setup(self) -> None:
        super().setup()
        self.first_preview = self.preview = self._read()
        self.confirm_job: SyncJob | None = None

    def _read(self) -> SyncJob:
        outcome = self._job_outcome(run_on_commit(self.start))
        assert outcome.state == "done", outcome
        return self.last_job

    def run(self) -> Outcome:
        if self.confirm_job is not None:
            # A later run: the person reads the customers again and confirms what is left.
            self.preview = self._read()
            if not self.preview.counts.get("new"):
                return Outcome("done")

        def start() -> SyncJob:
            with self.world.scope_a():
                return client_services.confirm_customer_import(
                    company=self.world.firm_a,
                    actor=self.requester,
                    preview=self.preview,
                    select="all_new",
                )[0]

        outcome = self._job_outcome(run_on_commit(start))
        self.confirm_job = self.last_job
        return outcome

    def check(self) -> Check:
        remote = self.vendor.customers()
        with scopes_disabled():
            new = set(
                CustomerImportRow.objects.filter(
                    job=self.first_preview, classification="new"
                ).values_list("remote_id", flat=True)
            )
            links = list(
                ExternalLink.objects.filter(
                    company=self.world.firm_a, vendor=self.vendor.key
                ).select_related("client")
            )
        failed = int(self.confirm_job.counts.get("failed", 0)) if self.confirm_job else 0
        seen = Counter(link.remote_id for link in links)
        half = [
            f"client {link.client.name!r} != {remote[link.remote_id]['name']!r}"
            for link in links
            if link.client.name != remote[link.remote_id]["name"].strip()
        ]
        return Check(
            lost=len(new - set(seen)) - failed,
            duplicated=sum(n - 1 for n in seen.values()),
            half_written=half,
        )


class BillingImport(Job):
    what = ""

    def setup(self) -> None:
        super().setup()
        with self.world.scope_a():
            billing_services.activate_billing(
                company=self.world.firm_a, actor=self.world.owner, vendor=self.vendor.key
            )

    def run(self) -> Outcome:
        request = {
            "products": billing_services.request_product_import,
            "vat_types": billing_services.request_vat_type_import,
        }[self.what]

        def start() -> SyncJob:
            with self.world.scope_a():
                return request(
                    company=self.world.firm_a, actor=self.requester, vendor=self.vendor.key
                )[0]

        return self._job_outcome(run_on_commit(start))

    def _vat_check(self) -> Check:
        remote = self.vendor.vat_types()
        with scopes_disabled():
            here = list(VatType.objects.filter(company=self.world.firm_a))
        seen = Counter(v.remote_id for v in here)
        half = [
            f"vat {v.remote_id}: {v.number!r}"
            for v in here
            if v.remote_id in remote and v.number != remote[v.remote_id]["number"]
        ]
        return Check(len(set(remote) - set(seen)), sum(n - 1 for n in seen.values()), half)


class ProductImport(BillingImport):
    key, what = "product_import", "products"

    def check(self) -> Check:
        remote = self.vendor.products()
        with scopes_disabled():
            here = list(BillingProduct.objects.filter(company=self.world.firm_a))
        seen = Counter(p.remote_id for p in here)
        half = [
            f"product {p.remote_id}: {(p.name, p.unit_price)}"
            for p in here
            if p.remote_id in remote
            and (p.name, p.unit_price)
            != (remote[p.remote_id]["name"], remote[p.remote_id]["price"])
        ]
        vat = self._vat_check()
        return Check(
            len(set(remote) - set(seen)) + vat.lost,
            sum(n - 1 for n in seen.values()) + vat.duplicated,
            half + vat.half_written,
        )


class VatImport(BillingImport):
    key, what = "vat_import", "vat_types"

    def check(self) -> Check:
        return self._vat_check()


class Statistics(Job):
    """Firm A with one client linked to a books company and one statistic mapped."""

    accountant = True

    def setup(self) -> None:
        super().setup()
        world, vendor = self.world, self.vendor
        books = vendor.books_company()
        with world.scope_a():
            self.client = Client.objects.create(company=world.firm_a, name=f"Klient {books}")
            ExternalLink.objects.create(
                company=world.firm_a,
                client=self.client,
                vendor=vendor.key,
                remote_id=books,
                remote_name=self.client.name,
                books_company_id=books,
                books_company_name=self.client.name,
                books_state="linked",
            )
            field_ = summary_services.create_task_field(
                company=world.firm_a, actor=world.admin, name="Count", type="whole_number"
            )
            summary_services.save_field_mapping(
                company=world.firm_a,
                actor=world.admin,
                vendor=vendor.key,
                mapping={vendor.statistic: field_},
            )
        if vendor.key == "merit":
            # Merit's credentials open one company: the client's own connection reads it.
            creds = {"api_id": vendor.creds["api_id"], "api_key": vendor.creds["api_key"]}
            _save(world, vendor.key, "ee", creds, vendor.creds["api_key"], client=self.client)
        self.periods = self.months()
        # The sandbox generates a company's history on first use: do it now, not inside a call
        # that has the matrix's short read timeout.
        self.truths = {p: vendor.truth(books, p) for p in self.periods}

    def months(self) -> list[date]:
        return schedule.reload_periods(schedule.firm_today(self.world.firm_a.country))

    def values(self) -> list[SummaryTaskValue]:
        with scopes_disabled():
            return list(
                SummaryTaskValue.objects.filter(task__client=self.client).select_related("task")
            )

    def _compare(self) -> Check:
        got = Counter(v.task.period for v in self.values())
        numbers = {v.task.period: v.number for v in self.values()}
        half = [
            f"{p:%Y-%m}: {numbers[p]} != {want}"
            for p, want in self.truths.items()
            if p in numbers and numbers[p] != want
        ]
        return Check(
            lost=sum(1 for p in self.truths if p not in got),
            duplicated=sum(n - 1 for n in got.values()),
            half_written=half,
        )


class StatisticsImport(Statistics):
    """The scheduled import of one client-month (`import_client_statistics`)."""

    key = "statistics_import"
    requester = None  # the beat's job: nobody to tell when it works

    def months(self) -> list[date]:
        return super().months()[-1:]

    def run(self) -> Outcome:
        period = self.periods[0]
        app = current_app
        propagates = app.conf.task_eager_propagates
        # Eager Celery applies a task's retries at once only when errors do not propagate.
        app.conf.task_eager_propagates = False
        try:
            summary_tasks.import_client_statistics.apply(
                args=(self.world.firm_a.pk, self.client.pk, self.vendor.key, period.isoformat()),
                throw=False,
            )
        finally:
            app.conf.task_eager_propagates = propagates
        with scopes_disabled():
            record = MonthlyImport.objects.filter(client=self.client, period=period).first()
        if record is None:
            return Outcome("missing")
        state = {ImportState.DONE: "done", ImportState.FAILED: "failed"}.get(
            ImportState(record.state), str(record.state)
        )
        return Outcome(state, record.reason)

    def check(self) -> Check:
        return self._compare()


class Reload(Statistics):
    key = "reload"

    def run(self) -> Outcome:
        def start() -> SyncJob:
            with self.world.scope_a():
                return summary_services.reload_work_statistics(
                    company=self.world.firm_a,
                    actor=self.requester,
                    vendor=self.vendor.key,
                    client=self.client,
                )[0]

        return self._job_outcome(run_on_commit(start))

    def check(self) -> Check:
        return self._compare()


class Invoicing(Job):
    """Billing on, products imported (fault-free), one linked client, one draft invoice."""

    def setup(self) -> None:
        super().setup()
        world, vendor = self.world, self.vendor
        with world.scope_a():
            billing_services.activate_billing(
                company=world.firm_a, actor=world.owner, vendor=vendor.key
            )

        def start() -> SyncJob:
            with world.scope_a():
                return billing_services.request_product_import(
                    company=world.firm_a, actor=world.admin, vendor=vendor.key
                )[0]

        imported = self._job_outcome(run_on_commit(start))
        assert imported.state == "done", imported
        with world.scope_a():
            self.client = Client.objects.create(company=world.firm_a, name="Havbris AS")
            ExternalLink.objects.create(
                company=world.firm_a,
                client=self.client,
                vendor=vendor.key,
                remote_id=vendor.customer_for_invoice(),
            )
            product = (
                BillingProduct.objects.filter(
                    company=world.firm_a, vendor=vendor.key, vat_type__isnull=False, active=True
                )
                .order_by("number")
                .first()
            )
            assert product is not None
            self.invoice = invoices.create_draft(
                company=world.firm_a,
                actor=world.billing,
                client=self.client,
                currency="EUR" if vendor.key == "merit" else "NOK",
                lines=[LineInput(product=product, quantity=Decimal(2))],
            )
        self.requester = world.billing

    def issue(self) -> None:
        def start() -> None:
            with self.world.scope_a():
                invoices.issue_invoice(
                    company=self.world.firm_a, actor=self.world.billing, invoice=self.invoice
                )

        run_on_commit(start)
        self.invoice.refresh_from_db()

    def export(self) -> InvoiceExport:
        with scopes_disabled():
            return InvoiceExport.objects.get(invoice=self.invoice)


class InvoiceExportJob(Invoicing):
    key = "invoice_export"
    writes = True
    issued = False

    def run(self) -> Outcome:
        if not self.issued:
            self.issued = True
            self.issue()
        else:  # a later run: the person's Retry (only a failed export can be retried)
            if self.export().state == ExportState.FAILED:

                def start() -> None:
                    with self.world.scope_a():
                        exports.retry_export(
                            company=self.world.firm_a,
                            actor=self.world.billing,
                            invoice=self.invoice,
                        )

                run_on_commit(start)
        export = self.export()
        state = {ExportState.DONE: "done", ExportState.FAILED: "failed"}.get(
            ExportState(export.state), str(export.state)
        )
        return Outcome(state, export.last_error)

    def check(self) -> Check:
        export = self.export()
        remote = self.vendor.remote_invoices(self.invoice.number)
        half = []
        if export.state == ExportState.DONE and not export.remote_id:
            half.append("done without the remote id")
        if export.state != ExportState.DONE and export.remote_id:
            half.append(f"{export.state} with a remote id")
        return Check(
            lost=int(export.state == ExportState.DONE and remote == 0),
            duplicated=max(0, remote - 1),
            half_written=half,
        )


class InvoiceStatus(Invoicing):
    key = "invoice_status"

    def setup(self) -> None:
        super().setup()
        self.issue()
        export = self.export()
        assert export.state == ExportState.DONE, export.last_error
        self.vendor.mark_paid(export)

    def run(self) -> Outcome:
        def start() -> SyncJob:
            with self.world.scope_a():
                return statuses.request_status_refresh(
                    company=self.world.firm_a, actor=self.world.billing
                )[0]

        return self._job_outcome(run_on_commit(start))

    def check(self) -> Check:
        with scopes_disabled():
            invoice = Invoice.objects.get(pk=self.invoice.pk)
        done = getattr(self, "last_job", None) is not None and self.last_job.status == "succeeded"
        half = []
        if invoice.status == "paid" and invoice.outstanding_amount not in (None, Decimal(0)):
            half.append(f"paid with {invoice.outstanding_amount} outstanding")
        return Check(lost=int(done and invoice.status != "paid"), half_written=half)


JOBS: dict[str, type[Job]] = {
    job.key: job
    for job in (
        CustomerPreview,
        CustomerConfirm,
        ProductImport,
        VatImport,
        StatisticsImport,
        Reload,
        InvoiceExportJob,
        InvoiceStatus,
    )
}

assert tuple(JOBS) == JOB_KEYS, "tests/reliability/matrix.py lists the same jobs"
assert {k for k, j in JOBS.items() if j.writes} == WRITE_JOBS
