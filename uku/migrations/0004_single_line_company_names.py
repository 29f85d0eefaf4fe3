from django.db import migrations


def put_company_names_on_one_line(apps, schema_editor):
    # Company.save now keeps names on one line; names saved before may still hold line breaks,
    # which break every invitation e-mail's subject.
    Company = apps.get_model("uku", "Company")
    for company in Company.objects.all().only("pk", "name").iterator():
        name = " ".join(company.name.split())
        if name != company.name:
            Company.objects.filter(pk=company.pk).update(name=name)


class Migration(migrations.Migration):
    dependencies = [("uku", "0003_membership_unique_external_id")]

    operations = [migrations.RunPython(put_company_names_on_one_line, migrations.RunPython.noop)]
