"""Registry numbers get their country: every existing client's number is Norwegian (the only
kind uku accepted until now), so existing rows get "NO"; new rows get their firm's country.

Reversible: going back drops the country and restores the one-number-per-firm constraint, which
fails (and so keeps the data) if a firm has meanwhile the same number in two countries or a
number longer than nine digits.
"""

import clients.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0001_initial'),
        ('uku', '0005_registry_country'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='client',
            name='client_unique_orgnr',
        ),
        migrations.AddField(
            model_name='client',
            name='raw_organisation_number',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='organisation number as imported'),
        ),
        migrations.AddField(
            model_name='client',
            name='registry_country',
            field=clients.models.RegistryCountryField(blank=True, choices=[('NO', 'Norway'), ('EE', 'Estonia'), ('FI', 'Finland'), ('LV', 'Latvia'), ('PL', 'Poland')], default='NO', help_text="The country of the organisation number; by default the firm's.", max_length=2, verbose_name='registry country'),
            # Existing rows are Norwegian; the model's own default ("": the firm's) is for new ones.
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='client',
            name='organisation_number',
            field=models.CharField(blank=True, max_length=11, verbose_name='organisation number'),
        ),
        migrations.AddConstraint(
            model_name='client',
            constraint=models.UniqueConstraint(condition=models.Q(('organisation_number', ''), _negated=True), fields=('company', 'registry_country', 'organisation_number'), name='client_unique_registry_number'),
        ),
        migrations.AddConstraint(
            model_name='client',
            constraint=models.CheckConstraint(condition=models.Q(('registry_country', ''), _negated=True), name='client_registry_country_set'),
        ),
    ]
