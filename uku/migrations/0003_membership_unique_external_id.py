from django.db import migrations, models


def blank_later_duplicates(apps, schema_editor):
    # The constraint cannot be added over existing duplicates. The member who had the id first
    # keeps it; later claims (the bug this closes) are blanked, to be set again by an admin.
    Membership = apps.get_model("uku", "Membership")
    seen: set[tuple[int, str]] = set()
    for membership in (
        Membership.objects.exclude(external_id="").order_by("created_at", "pk").iterator()
    ):
        key = (membership.company_id, membership.external_id)
        if key in seen:
            Membership.objects.filter(pk=membership.pk).update(external_id="")
        seen.add(key)


class Migration(migrations.Migration):
    dependencies = [("uku", "0002_api_token_expiry")]

    operations = [
        migrations.RunPython(blank_later_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("company", "external_id"),
                name="membership_unique_external_id",
            ),
        ),
    ]
