"""Firms get a country; every existing firm is Norwegian (the default)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('uku', '0004_single_line_company_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='company',
            name='country',
            field=models.CharField(choices=[('NO', 'Norway'), ('EE', 'Estonia'), ('FI', 'Finland'), ('LV', 'Latvia'), ('PL', 'Poland')], default='NO', help_text="Where the firm is registered; its clients' registry numbers default to it.", max_length=2, verbose_name='country'),
        ),
        migrations.AlterField(
            model_name='company',
            name='organisation_number',
            field=models.CharField(blank=True, help_text="The firm's registry number, checked by the rule of its country.", max_length=11, verbose_name='organisation number'),
        ),
    ]
