# Material blocking gained a rule (model codes without their letter suffix) and reads
# codes separated by a slash as alternatives: the blocking keys of materials on file
# are written again with the current rules, so that new records find them by these
# (as ``manage.py reindex_keys --domain material``).

import hashlib

from django.db import migrations

DOMAIN = "material"


def code(domain, key):
    # As matching.services.blocking_code.
    digest = hashlib.blake2b(f"{domain}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def reindex_materials(apps, schema_editor):
    from golden.domains import get_domain
    from matching.engine.blocking import blocking_keys

    BlockingKey = apps.get_model("matching", "BlockingKey")
    SourceRecord = apps.get_model("golden", "SourceRecord")
    rules = get_domain(DOMAIN).matching.blocking
    records = SourceRecord.objects.filter(domain=DOMAIN, retired=False).order_by("pk")
    ids, rows = [], []

    def flush():
        BlockingKey.objects.filter(source_record_id__in=ids).delete()
        BlockingKey.objects.bulk_create(rows)
        ids.clear()
        rows.clear()

    for pk, canonical in records.values_list("pk", "canonical").iterator(chunk_size=2_000):
        ids.append(pk)
        for key in sorted(blocking_keys(rules, canonical)):
            rows.append(BlockingKey(code=code(DOMAIN, key), source_record_id=pk))
        if len(ids) >= 500:
            flush()
    flush()


class Migration(migrations.Migration):
    dependencies = [
        ("golden", "0008_covering_lookup_indexes"),
        ("matching", "0005_blocking_key_hashes"),
    ]

    # Backwards: older code finds a few more candidates through the extra keys.
    operations = [
        migrations.RunPython(reindex_materials, migrations.RunPython.noop, elidable=True),
    ]
