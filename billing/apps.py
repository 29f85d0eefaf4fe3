from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from integrations.base import Capability
        from integrations.jobs import register_job_kind

        def products_tab(job: object) -> str:
            return "/settings/apps/billing/?tab=products"

        register_job_kind(
            "vat_type_import",
            "billing.services.run_vat_type_import",
            _("VAT type import"),
            capability=Capability.VAT_TYPES,
            link=products_tab,
            summary="billing.services.describe_import",
        )
        register_job_kind(
            "product_import",
            "billing.services.run_product_import",
            _("Product import"),
            capability=Capability.PRODUCTS,
            link=products_tab,
            summary="billing.services.describe_import",
        )

        register_job_kind(
            "invoice_status",
            "billing.statuses.run_invoice_status_refresh",
            _("Invoice status update"),
            capability=Capability.INVOICE_STATUS,
            link=lambda job: f"/invoices/?job={job.public_id}",
        )

        from integrations.services import register_enable_option
        from integrations.views import register_app_card

        register_app_card("billing/_app_card.html", "billing.services.billing_card_context")
        register_enable_option(
            "activate_billing",
            _("Also activate billing (recommended)"),
            _(
                "Products, services and VAT types can then be imported from the accounting "
                "system for invoicing."
            ),
            wanted="billing.services.billing_not_active",
            apply="billing.services.activate_billing",
        )
