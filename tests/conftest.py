import pytest
from django.db import connection

from golden.models import SourceSystem


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need a PostgreSQL DATABASE_URL; skip them elsewhere."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); run by .ci/run")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def erp(db):
    return SourceSystem.objects.create(
        code="ERP", name="ERP", priority={"customer": 30, "supplier": 30, "material": 30}
    )


@pytest.fixture
def crm(db):
    return SourceSystem.objects.create(
        code="CRM", name="CRM", priority={"customer": 20, "supplier": 10, "material": 10}
    )


@pytest.fixture
def legacy(db):
    return SourceSystem.objects.create(code="LEGACY", name="Legacy", priority={})
