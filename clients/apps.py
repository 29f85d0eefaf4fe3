from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from clients.services import forget_responsible
        from uku.models import Membership

        post_delete.connect(forget_responsible, sender=Membership, dispatch_uid="clients-member")
        from integrations.base import Capability
        from integrations.jobs import register_cancellable, register_job_kind
        from integrations.views import register_tab

        register_tab(
            "import",
            _("Import"),
            "clients/_import_panel.html",
            "clients.views.import_context",
            capability=Capability.CUSTOMERS,
        )

        register_job_kind(
            "customer_import_preview",
            "clients.importing.run_preview",
            _("Customer import: preview"),
            capability=Capability.CUSTOMERS,
            link=lambda job: f"/settings/apps/{job.vendor}/?tab=import",
        )
        register_job_kind(
            "customer_import_confirm",
            "clients.importing.run_confirm",
            _("Customer import"),
            capability=Capability.CUSTOMERS,
            link=lambda job: f"/settings/apps/{job.vendor}/?tab=import",
        )
        from integrations.status import register_fact_source

        register_fact_source("clients.linking.integration_facts")
        # Both commit whole pages / batches, so stopping between two progress reports is safe.
        register_cancellable("customer_import_preview")
        register_cancellable("customer_import_confirm")
