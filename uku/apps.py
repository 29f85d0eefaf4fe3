from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UkuConfig(AppConfig):
    name = "uku"
    verbose_name = _("uku: firms and members")

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from uku.lockout import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="uku.audit.locked_out")
