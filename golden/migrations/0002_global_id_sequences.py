from django.db import migrations


def create_sequences(apps, schema_editor):
    from golden.domains import DOMAINS
    from golden.global_ids import create_sequences

    create_sequences(DOMAINS)


class Migration(migrations.Migration):
    dependencies = [("golden", "0001_initial")]

    operations = [migrations.RunPython(create_sequences, migrations.RunPython.noop)]
