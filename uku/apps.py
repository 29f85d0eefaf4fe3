from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UkuConfig(AppConfig):
    name = "uku"
    verbose_name = _("uku: firms and members")
