from django.apps import AppConfig


class FakebooksConfig(AppConfig):
    name = "tests.fakebooks"
    label = "fakebooks"
