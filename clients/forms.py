from __future__ import annotations

from django import forms

from clients.models import Client


class BillingSettingsForm(forms.ModelForm):
    """Client details → Billing → Settings."""

    class Meta:
        model = Client
        fields = ["invoice_email"]
