from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from uku.models import ApiToken, Company, Invitation, Membership, User
from uku.registry_numbers import display_number


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "registry_number", "plan", "created_at"]
    list_filter = ["plan", "country"]
    search_fields = ["name", "organisation_number"]
    inlines = [MembershipInline]

    @admin.display(description=_("organisation number"), ordering="organisation_number")
    def registry_number(self, company: Company) -> str:
        """Grouped as people read it ("923 609 016"), as on every page."""
        return display_number(company.country, company.organisation_number)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "company", "role", "expires_at", "accepted_at"]
    exclude = ["token_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "company", "prefix", "created_at", "revoked_at"]
    exclude = ["token_hash"]
