from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UkuConfig(AppConfig):
    name = "uku"
    verbose_name = _("uku: firms and members")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from uku.nordic import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="uku.nordic")
