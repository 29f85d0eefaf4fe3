"""factory-boy factories. Tenant rows are created with scopes disabled (factories are test setup)."""

from __future__ import annotations

from typing import Any, TypeVar

import factory
from django.db import models
from django_scopes import scopes_disabled

from uku.models import Company, Membership, Plan, Role, User

ModelT = TypeVar("ModelT", bound=models.Model)

PASSWORD = "correct-horse-battery-staple"


class ScopedFactory(factory.django.DjangoModelFactory[ModelT]):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        with scopes_disabled():
            return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.no")
    name = factory.Faker("name", locale="no_NO")
    password = factory.django.Password(PASSWORD)


class CompanyFactory(factory.django.DjangoModelFactory[Company]):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Regnskapsfirma {n} AS")
    plan = Plan.TEAM


class MembershipFactory(ScopedFactory[Membership]):
    class Meta:
        model = Membership

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER
