# Material blocking also keys a title's codes spelled out in words ("MDR EX32LP/WHI"
# meets "MDREX32LPWHI"), and six distinctive title words instead of four: the blocking
# keys of materials on file are written again with the current rules, as migration
# 0006 did (and ``manage.py reindex_keys --domain material`` does).

import importlib

from django.db import migrations


def reindex_materials(apps, schema_editor):
    earlier = importlib.import_module("matching.migrations.0006_material_code_stems")
    earlier.reindex_materials(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0007_blocking_key_composite_primary_key"),
    ]

    # Backwards: older code finds a few candidates fewer through the extra keys.
    operations = [
        migrations.RunPython(reindex_materials, migrations.RunPython.noop, elidable=True),
    ]
