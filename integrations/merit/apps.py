from django.apps import AppConfig


class MeritConfig(AppConfig):
    """Merit Aktiva is a Django app of its own, so its static files (the logo), texts and
    management commands (the sandbox) live in its folder."""

    name = "integrations.merit"
    label = "merit"
    verbose_name = "Merit Aktiva"
