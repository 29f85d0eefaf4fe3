from django.apps import AppConfig


class FakeinvoicesConfig(AppConfig):
    name = "tests.fakeinvoices"
    label = "fakeinvoices"
