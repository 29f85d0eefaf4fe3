"""Tripletex's entry in uku's registry of accounting systems (see `integrations.base.VendorInfo`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from integrations.base import Capability, CredentialField, FieldKind, VendorInfo
from integrations.tripletex.statistics import STATISTICS

INFO = VendorInfo(
    key="tripletex",
    adapter_path="integrations.tripletex.adapter.TripletexAdapter",
    label="Tripletex",
    description=_(
        "Norwegian accounting system. Imports clients, products and VAT types, fills monthly "
        "summary tasks from work statistics, and exports invoices as orders."
    ),
    logo="integrations/tripletex/logo.svg",
    required_plan="team",
    credential_fields=(
        CredentialField(
            "employee_token",
            _("Employee token"),
            kind=FieldKind.SECRET,
            help_text=_(
                "Created in Tripletex under Company → API access. Tripletex shows it once."
            ),
        ),
    ),
    capabilities=frozenset(
        {
            Capability.CUSTOMERS,
            Capability.PRODUCTS,
            Capability.VAT_TYPES,
            Capability.BOOKS_ACCESS,
            Capability.STATISTICS,
            Capability.INVOICE_EXPORT,
            Capability.INVOICE_STATUS,
        }
    ),
    environments=(("production", _("Production")), ("test", _("Test"))),
    environment_help=_("Test tokens only work against the Test environment, and vice versa."),
    credentials_expire=True,
    # Tripletex receives an order (a preliminary invoice), so the invoice page names it so.
    exported_as=_("Exported as order #%(number)s"),
    syncs=(
        (_("Clients (Tripletex customers)"), "in"),
        (_("Products"), "in"),
        (_("VAT types"), "in"),
        (_("Work statistics (summary tasks)"), "in"),
        (_("Invoices (exported as orders)"), "out"),
        (_("Invoice numbers and paid status"), "in"),
    ),
    statistics=STATISTICS,
)
