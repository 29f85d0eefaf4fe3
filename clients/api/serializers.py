from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clients.models import Client, CustomerImportRow, ExternalLink
from integrations.api.serializers import SyncJobSerializer
from uku import registry_numbers
from uku.models import User


class BooksSerializer(serializers.Serializer):
    """Where the client's own books are: `state` linked | not_found | ambiguous | no_access |
    access_lost (they were readable, then the access was removed: `error` says why, `since`
    when it was first seen)."""

    state = serializers.CharField(source="books_state")
    company_id = serializers.CharField(source="books_company_id", allow_null=True)
    name = serializers.CharField(source="books_company_name")
    error = serializers.CharField(source="books_error", allow_blank=True)
    since = serializers.DateTimeField(source="books_error_at", allow_null=True)


class StaleSerializer(serializers.Serializer):
    """The linked customer is deleted or inactive in the accounting system."""

    reason = serializers.CharField()
    since = serializers.DateTimeField()


class ExternalLinkSerializer(serializers.ModelSerializer):
    books = serializers.SerializerMethodField(
        help_text="The client's company (its books) in the vendor; null for vendors without "
        "accountant access."
    )

    stale = serializers.SerializerMethodField(
        help_text="Set when the customer was found deleted or inactive in the accounting "
        "system (by a customer import or a link check); relink or unlink the client."
    )

    class Meta:
        model = ExternalLink
        fields = [
            "vendor", "remote_id", "remote_name", "remote_number", "books", "stale", "linked_at",
        ]  # fmt: skip

    @extend_schema_field(BooksSerializer(allow_null=True))
    def get_books(self, link: ExternalLink) -> dict[str, Any] | None:
        if not link.books_state:
            return None
        return {
            "state": link.books_state,
            "company_id": link.books_company_id or None,
            "name": link.books_company_name,
            "error": link.books_error,
            "since": link.books_error_at.isoformat() if link.books_error_at else None,
        }

    @extend_schema_field(StaleSerializer(allow_null=True))
    def get_stale(self, link: ExternalLink) -> dict[str, Any] | None:
        if link.stale_at is None:
            return None
        return {"reason": link.stale_reason, "since": link.stale_at.isoformat()}


class ClientSerializer(serializers.ModelSerializer[Client]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    responsible: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="email", read_only=True, allow_null=True
    )
    responsible_email = serializers.EmailField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="The responsible accountant: a member's e-mail, or null.",
    )
    # Wider than the column: people write "NO 923 609 016 MVA"; `validate` compacts it.
    organisation_number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Checked by the rule of registry_country; stored compact (digits only).",
    )
    registry_number_display = serializers.CharField(read_only=True)
    links = ExternalLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "organisation_number",
            "registry_country",
            "registry_number_display",
            "raw_organisation_number",
            "customer_number",
            "email",
            "phone",
            "address_line",
            "postal_code",
            "city",
            "invoice_email",
            "responsible",
            "responsible_email",
            "active",
            "links",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "raw_organisation_number",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs: dict) -> dict:
        """The number compacted and checked by the client's country (the one given, else the
        client's, else, for a new client, the firm's): changing only the country re-checks the
        number already there. Errors are on `organisation_number`."""
        if "organisation_number" not in attrs and "registry_country" not in attrs:
            return attrs
        client: Client | None = self.instance
        company = client.company if client else self.context.get("company")
        country = (
            attrs.get("registry_country")
            or (client.registry_country if client else "")
            or (company.country if company else registry_numbers.DEFAULT_COUNTRY)
        )
        number = attrs.get("organisation_number", client.organisation_number if client else "")
        number = registry_numbers.normalise(country, number)
        try:
            registry_numbers.validate(country, number)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"organisation_number": exc.messages}) from exc
        attrs.update(organisation_number=number, registry_country=country)
        return attrs


class ImportRowSerializer(serializers.ModelSerializer):
    remote_id = serializers.CharField()
    tripletex_id = serializers.CharField(
        source="remote_id", help_text="Deprecated alias of remote_id (Tripletex only)."
    )
    client = serializers.UUIDField(source="client.public_id", allow_null=True, default=None)
    organisation_number = serializers.CharField(source="data.organisation_number")
    registry_country = serializers.CharField(source="data.registry_country", default="")
    raw_organisation_number = serializers.CharField(
        source="data.raw_organisation_number",
        default="",
        help_text="The number as the accounting system has it, valid or not.",
    )
    registry_warning = serializers.CharField(
        read_only=True,
        help_text="Why the number is not used (not valid for its country), or empty.",
    )
    email = serializers.CharField(source="data.email")

    class Meta:
        model = CustomerImportRow
        fields = [
            "remote_id",
            "tripletex_id",
            "name",
            "organisation_number",
            "registry_country",
            "raw_organisation_number",
            "registry_warning",
            "email",
            "inactive",
            "classification",
            "match_rule",
            "client",
            "changes",
            "selected",
            "outcome",
            "error",
            "conflict",
            "conflict_client",
            "conflict_with",
            "resolution",
        ]

    conflict_client = serializers.UUIDField(
        source="conflict_client.public_id",
        allow_null=True,
        default=None,
        help_text="The client that already has this registry number (conflict number_taken), "
        "or the one the other customer goes to (duplicate).",
    )


class CustomerImportSerializer(SyncJobSerializer):
    """A customer import: the preview job, its summary, and the confirm job if any."""

    confirm = serializers.SerializerMethodField()

    class Meta(SyncJobSerializer.Meta):
        fields = [*SyncJobSerializer.Meta.fields, "confirm"]

    def get_confirm(self, job) -> dict | None:
        confirm = self.context.get("confirm")
        return SyncJobSerializer(confirm).data if confirm else None


class ConfirmSerializer(serializers.Serializer):
    """`{"remote_ids": [...]}` or `{"select": "all_new"|"all"}` (`tripletex_ids` is the
    deprecated name of `remote_ids`)."""

    remote_ids = serializers.ListField(child=serializers.CharField(), required=False)
    tripletex_ids = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Deprecated: use remote_ids."
    )
    select = serializers.ChoiceField(
        choices=["selected", "all_new", "all"],
        required=False,
        help_text="selected: the selection stored with `selection`; all_new / all: every "
        "selectable new (or every selectable) customer. Conflicts not resolved are never "
        "imported.",
    )

    def validate(self, attrs: dict) -> dict:
        ids = [*(attrs.pop("remote_ids", None) or []), *(attrs.pop("tripletex_ids", None) or [])]
        if bool(ids) == bool(attrs.get("select")):
            raise serializers.ValidationError(_("Give either remote_ids or select."))
        attrs["remote_ids"] = ids or None
        return attrs


class SelectionSerializer(serializers.Serializer):
    """A change to the preview's stored selection, applied in this order: `clear`, then every
    selectable customer matching `classification` / `q` when `select_matching` (all pages),
    then `add`, then `remove` (remote ids)."""

    add = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    remove = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    select_matching = serializers.BooleanField(required=False, default=False)
    classification = serializers.CharField(required=False, default="", allow_blank=True)
    q = serializers.CharField(required=False, default="", allow_blank=True)
    clear = serializers.BooleanField(required=False, default=False)


class ResolveSerializer(serializers.Serializer):
    """The choice for a customer whose registry number conflicts."""

    remote_id = serializers.CharField()
    resolution = serializers.ChoiceField(
        choices=["link", "without_number", "skip", ""],
        help_text="link: this customer goes to the client with the number; without_number: "
        "import it without the number; skip: do not import it; empty: undo.",
    )


class StartImportSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=False,
        help_text="List every customer, not only those changed since the last import.",
    )
