from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone


def give_existing_tokens_an_expiry(apps, schema_editor):
    # Tokens made before expiry existed get the default lifetime from today, not from their
    # creation: scripts using an old token keep working for a while and are not cut off at once.
    ApiToken = apps.get_model("uku", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + timedelta(days=90)
    )


class Migration(migrations.Migration):
    dependencies = [("uku", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires"),
        ),
        migrations.RunPython(give_existing_tokens_an_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(verbose_name="expires"),
        ),
    ]
