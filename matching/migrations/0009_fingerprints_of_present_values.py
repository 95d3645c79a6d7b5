# Review items' fingerprints now digest only the compared attributes a record has a
# value for (``matching.services.fingerprint``), so that adding a comparison (the
# material domain's list price) keeps every not-a-match binding whose records have
# not changed. Each stored fingerprint that equals the former digest of the record's
# current values, over the attributes compared now or before the list price was
# compared, is written again in the new form; any other (the record changed since
# the pair was scored or decided) is left as it is, and the pair is offered again as
# it would have been.

import hashlib
import json

from django.db import migrations

# Compared since this migration; fingerprints written before did not cover them.
ADDED = {"material": {"list_price"}}


def _former(attributes, canonical):
    text = json.dumps([canonical.get(name) for name in sorted(attributes)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _present(attributes, canonical):
    present = [
        [name, canonical[name]] for name in sorted(attributes) if canonical.get(name) is not None
    ]
    return hashlib.sha256(json.dumps(present, default=str).encode()).hexdigest()


def _compared(domain_name):
    from golden.domains import get_domain

    try:
        spec = get_domain(domain_name).matching
    except LookupError:
        return None
    return None if spec is None else spec.model().attributes


def rewrite(apps, schema_editor):
    ReviewItem = apps.get_model("matching", "ReviewItem")
    SourceRecord = apps.get_model("golden", "SourceRecord")
    attributes_of = {}
    for item in ReviewItem.objects.iterator(chunk_size=2_000):
        if item.domain not in attributes_of:
            attributes_of[item.domain] = _compared(item.domain)
        compared = attributes_of[item.domain]
        changed = []
        for side in ("a", "b"):
            canonical = SourceRecord.objects.filter(pk=getattr(item, f"record_{side}_id")).values_list(
                "canonical", flat=True
            ).first() or {}
            attributes = compared if compared is not None else set(canonical)
            stored = getattr(item, f"fingerprint_{side}")
            earlier = set(attributes) - ADDED.get(item.domain, set())
            if stored in (_former(attributes, canonical), _former(earlier, canonical)):
                setattr(item, f"fingerprint_{side}", _present(attributes, canonical))
                changed.append(f"fingerprint_{side}")
        if changed:
            item.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0008_material_spelled_codes"),
        ("golden", "0009_member_lookup_indexes"),
    ]

    # Backwards: older code reads the new fingerprints as changed records, and offers
    # decided pairs again; nothing is lost.
    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop, elidable=True)]
