"""Forms of the invoice pages. Every choice list is the request's firm's own rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.invoices import (
    COMMENT_MAX_LENGTH,
    NEXT_NUMBER_MAX,
    NUMBER_PREFIX_MAX_LENGTH,
    TIME_ZONES,
    LineInput,
)
from billing.models import VAT_CODE_ORDER, BillingProduct, ExportState, InvoiceStatus, VatType
from clients.models import Client
from uku.models import Company, User
from uku.widgets import LocalDateInput


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.email


def _members(company: Company) -> Any:
    return User.objects.filter(memberships__company=company).order_by("email")


class InvoiceFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("All statuses")), *InvoiceStatus.choices]
    EXPORT_CHOICES = [
        ("", _("Any export state")),
        ("none", _("Not exported")),
        (ExportState.PENDING, _("Queued")),
        (ExportState.DONE, _("Exported")),
        (ExportState.FAILED, _("Failed")),
        (ExportState.WAITING, _("Waiting")),
    ]
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), required=False, to_field_name="public_id"
    )
    date_from = forms.DateField(label=_("Issued from"), required=False, widget=LocalDateInput())
    date_to = forms.DateField(label=_("Issued to"), required=False, widget=LocalDateInput())
    export = forms.ChoiceField(label=_("Export"), choices=EXPORT_CHOICES, required=False)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(company=company)  # type: ignore[attr-defined]


class NewInvoiceForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), to_field_name="public_id"
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(company=company, active=True)  # type: ignore[attr-defined]


class InvoiceHeaderForm(forms.Form):
    issue_date = forms.DateField(label=_("Issue date"), widget=LocalDateInput())
    due_date = forms.DateField(label=_("Due date"), widget=LocalDateInput())
    responsible = _UserChoice(
        label=_("Responsible member"), queryset=User.objects.none(), required=False
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = _members(company)  # type: ignore[attr-defined]


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=BillingProduct.objects.none(), required=False,
        to_field_name="public_id",
    )  # fmt: skip
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=4, initial=1)
    unit_price = forms.DecimalField(
        label=_("Unit price excl. VAT"), max_digits=16, decimal_places=4, required=False
    )
    vat_type = forms.ModelChoiceField(
        label=_("VAT type"), queryset=VatType.objects.none(), required=False,
        to_field_name="public_id",
    )  # fmt: skip
    discount_percent = forms.DecimalField(
        label=_("Discount %"), max_digits=5, decimal_places=2, min_value=Decimal(0),
        max_value=Decimal(100), required=False, initial=0,
    )  # fmt: skip

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = BillingProduct.objects.filter(  # type: ignore[attr-defined]
            company=company, active=True
        )
        self.fields["vat_type"].queryset = VatType.objects.filter(  # type: ignore[attr-defined]
            company=company, active=True
        ).order_by(*VAT_CODE_ORDER)

    def line_input(self) -> LineInput:
        data = self.cleaned_data
        return LineInput(
            product=data.get("product"),
            description=data.get("description") or "",
            quantity=data.get("quantity"),
            unit_price=data.get("unit_price"),
            vat_type=data.get("vat_type"),
            discount_percent=data.get("discount_percent"),
        )


class BulkDraftForm(forms.Form):
    clients = forms.ModelMultipleChoiceField(
        label=_("Clients"), queryset=Client.objects.none(), to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    issue_date = forms.DateField(label=_("Issue date"), required=False, widget=LocalDateInput())
    comment = forms.CharField(label=_("Comment"), required=False, max_length=COMMENT_MAX_LENGTH)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = Client.objects.filter(company=company, active=True)  # type: ignore[attr-defined]


class BillingInvoiceSettingsForm(forms.Form):
    export_invoices = forms.BooleanField(label=_("Export issued invoices"), required=False)
    default_due_days = forms.IntegerField(label=_("Default due days"), min_value=0, max_value=365)
    default_vat_type = forms.ModelChoiceField(
        label=_("Default VAT type"), queryset=VatType.objects.none(), required=False,
        to_field_name="public_id",
    )  # fmt: skip
    number_prefix = forms.CharField(
        label=_("Number prefix"), max_length=NUMBER_PREFIX_MAX_LENGTH, required=False
    )
    next_number = forms.IntegerField(
        label=_("Next invoice number"), min_value=1, max_value=NEXT_NUMBER_MAX
    )
    check_status_daily = forms.BooleanField(
        label=_("Check invoice status daily"),
        required=False,
        help_text=_("Reads invoice numbers and paid status from the accounting system."),
    )
    status_check_hour = forms.IntegerField(
        label=_("Hour of the daily check"), min_value=0, max_value=23
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=[(zone, zone) for zone in TIME_ZONES]
    )

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_vat_type"].queryset = VatType.objects.filter(  # type: ignore[attr-defined]
            company=company, active=True
        ).order_by(*VAT_CODE_ORDER)
