"""Merit Aktiva's entry in uku's registry of accounting systems (see `integrations.base.VendorInfo`).

One Merit product per country, each a separate instance with its own companies and API IDs:
the "environment" of a Merit connection is its country.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from integrations.base import Capability, CredentialField, FieldKind, VendorInfo
from integrations.merit.statistics import STATISTICS

#: Where an admin finds the API ID and key in Merit (the same menu in all three products).
API_SETTINGS_PATH = _("Settings → API settings")

INFO = VendorInfo(
    key="merit",
    adapter_path="integrations.merit.adapter.MeritAdapter",
    label="Merit Aktiva",
    description=_(
        "Accounting system for Estonia (Merit Aktiva), Finland (Passeli Merit) and Poland "
        "(360 Księgowość). Imports clients, products (items) and VAT types (tax rates), sends "
        "invoices and reads their paid status back."
    ),
    logo="integrations/merit/logo.svg",
    required_plan="team",
    credential_fields=(
        CredentialField(
            "api_id",
            _("API ID"),
            kind=FieldKind.TEXT,
            help_text=_(
                "In Merit under Settings → API settings. It looks like "
                "1a2b3c4d-0000-4000-8000-123456789abc."
            ),
        ),
        CredentialField(
            "api_key",
            _("API key"),
            kind=FieldKind.SECRET,
            help_text=_(
                "Shown next to the API ID in Merit. The company's creator needs a PRO or "
                "PREMIUM licence for the API."
            ),
        ),
    ),
    capabilities=frozenset(
        {
            Capability.CUSTOMERS,
            Capability.PRODUCTS,
            Capability.VAT_TYPES,
            Capability.STATISTICS,
            Capability.INVOICE_EXPORT,
            Capability.INVOICE_STATUS,
            # Merit has no accountant access: each client's books need its own API ID and key.
            Capability.CLIENT_CREDENTIALS,
        }
    ),
    environments=(("ee", _("Estonia")), ("fi", _("Finland")), ("pl", _("Poland"))),
    environment_label=_("Country"),
    environment_help=_(
        "Each country is a separate Merit system: an API ID from Estonia does not work in "
        "Finland or Poland."
    ),
    credentials_expire=False,
    syncs=(
        (_("Clients (Merit customers)"), "in"),
        (_("Products (Merit items)"), "in"),
        (_("VAT types (Merit tax rates)"), "in"),
        (_("Work statistics (summary tasks)"), "in"),
        (_("Invoices (as Merit sales invoices)"), "out"),
        (_("Paid status of invoices"), "in"),
    ),
    statistics=STATISTICS,
)
