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


@pytest.fixture
def celery_in_process(settings):
    """Tasks run in the test's process, as without a broker, even where CI configures
    one (the worker-based tests use the broker on purpose)."""
    from mdm.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def roles(db):
    """The roles the migrations create, also in transactional tests, which start from
    tables an earlier transactional test emptied."""
    from django.contrib.auth.models import Group

    from golden.policy import ROLES

    return [Group.objects.get_or_create(name=name)[0] for name in ROLES]
