from django.apps import AppConfig


class TripletexConfig(AppConfig):
    """Tripletex is a Django app of its own, so its templates, static files, texts and
    management commands (the sandbox) live in its folder."""

    name = "integrations.tripletex"
    label = "tripletex"
    verbose_name = "Tripletex"
