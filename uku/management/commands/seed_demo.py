"""`manage.py seed_demo`: the demo firm for `make run`. Idempotent: running it again changes nothing.

It prints the demo password (it is the demo, not a secret) but never resets it: `make run` runs
this on every start, and resetting would undo a password the user chose and log everyone out
(Django ends sessions when the password hash changes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scopes_disabled

from uku import services
from uku.models import Company, Plan, User

DEMO_FIRM = "Demo Regnskap AS"
DEMO_OWNER = "demo@uku.local"
DEMO_PASSWORD = "demo-uku-2026"  # noqa: S105 - a published demo credential, printed on purpose
DEMO_ORGNR = "923609016"


class Command(BaseCommand):
    help = "Create (or refresh) the demo firm and its owner."

    def handle(self, *args: Any, **options: Any) -> None:
        with scopes_disabled(), transaction.atomic():
            company = Company.objects.filter(
                name=DEMO_FIRM, memberships__user__email=DEMO_OWNER
            ).first()
            if company is None:
                company, _user, _created = services.create_company(
                    name=DEMO_FIRM,
                    owner_email=DEMO_OWNER,
                    plan=Plan.TEAM,
                    password=DEMO_PASSWORD,
                    organisation_number=DEMO_ORGNR,
                )
                verb = "Created"
            else:
                verb = "Found"
            unchanged = User.objects.get(email=DEMO_OWNER).check_password(DEMO_PASSWORD)
        self.stdout.write(f"{verb} the demo firm {company.name}.")
        if unchanged:
            self.stdout.write(f"Log in as {DEMO_OWNER} with password {DEMO_PASSWORD}")
        else:
            self.stdout.write(f"Log in as {DEMO_OWNER} with the password you chose.")
