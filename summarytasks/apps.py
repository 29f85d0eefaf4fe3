from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SummaryTasksConfig(AppConfig):
    name = "summarytasks"
    verbose_name = _("Summary tasks")

    def ready(self) -> None:
        from integrations.base import Capability
        from integrations.jobs import register_job_kind
        from integrations.status import register_fact_source
        from integrations.views import register_tab

        register_fact_source("summarytasks.services.integration_facts")

        register_tab(
            "settings",
            _("Settings"),
            "summarytasks/_settings_tab.html",
            "summarytasks.views.settings_context",
            capability=Capability.STATISTICS,
        )
        register_job_kind(
            "statistics_reload",
            "summarytasks.reload.run_reload",
            _("Reload data"),
            capability=Capability.STATISTICS,
            link=lambda job: "/summary-tasks/",
            summary="summarytasks.reload.describe_counts",
        )
