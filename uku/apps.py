from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UkuConfig(AppConfig):
    name = "uku"
    verbose_name = _("uku: firms and members")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.db.backends.signals import connection_created

        from uku.lockout import record_lockout
        from uku.nordic import on_connection_created

        user_locked_out.connect(record_lockout, dispatch_uid="uku.audit.locked_out")
        connection_created.connect(on_connection_created, dispatch_uid="uku.nordic")
