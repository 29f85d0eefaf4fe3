from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SummaryTasksConfig(AppConfig):
    name = "summarytasks"
    verbose_name = _("Summary tasks")
