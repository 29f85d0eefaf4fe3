"""`manage.py createfirm --name "Firm AS" --owner-email a@b.no --plan team [--password X] [--api-token]`"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_scopes import scope

from uku import registry_numbers, services
from uku.models import Plan


class Command(BaseCommand):
    help = "Create a firm with its owner; optionally print a personal API token for the owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--plan", choices=[p.value for p in Plan], default=Plan.FREE)
        parser.add_argument(
            "--password",
            help="The password of a new owner. An existing user's password is never changed.",
        )
        parser.add_argument(
            "--country",
            choices=list(registry_numbers.SCHEMES),
            default=registry_numbers.DEFAULT_COUNTRY,
            help="Where the firm is registered (checks its organisation number).",
        )
        parser.add_argument("--organisation-number", default="")
        parser.add_argument(
            "--api-token",
            action="store_true",
            help="Create a personal API token for the owner and print it (shown only this once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            company, user, created = services.create_company(
                name=options["name"],
                owner_email=options["owner_email"],
                plan=options["plan"],
                password=options["password"],
                organisation_number=options["organisation_number"],
                country=options["country"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Created firm {company.name} ({company.public_id}), plan {company.plan}, "
            f"owner {user.email}{' (new user)' if created else ''}."
        )
        if not created:
            # Saying so matters: an operator who passed --password may expect it to work.
            ignored = " --password was ignored." if options["password"] else ""
            self.stdout.write(
                f"{user.email} already had an account: added as owner of the new firm; "
                f"their password is unchanged.{ignored}"
            )
        if options["api_token"]:
            with scope(company=company):
                _token, raw = services.create_api_token(
                    company=company, actor=user, name="createfirm"
                )
            self.stdout.write(f"API token: {raw}")
