import io

from django.core.management import call_command
from django.db.models import Count

from golden.models import ChangeEvent, GoldenRecord, SourceRecord

from .invariants import assert_invariants


def test_demo_data_loads_links_three_systems_and_reloads_as_unchanged(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path

    first = io.StringIO()
    call_command("load_demo", stdout=first)

    assert " 1 rejected" in first.getvalue()  # the one nameless legacy customer
    three_systems = GoldenRecord.objects.annotate(
        systems=Count("source_records__system", distinct=True)
    ).filter(systems=3)
    assert {golden.domain for golden in three_systems} == {"customer", "material", "supplier"}
    assert SourceRecord.objects.exclude(quality_issues=[]).count() == 5
    assert_invariants()

    events = ChangeEvent.objects.count()
    again = io.StringIO()
    call_command("load_demo", stdout=again)

    assert ChangeEvent.objects.count() == events
    assert " 0 created, 0 attached, 0 updated" in again.getvalue()
    assert again.getvalue().count(" 0 created, 0 attached, 0 updated") == 9
