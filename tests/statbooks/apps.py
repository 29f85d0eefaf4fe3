from django.apps import AppConfig


class StatbooksConfig(AppConfig):
    name = "tests.statbooks"
    label = "statbooks"
