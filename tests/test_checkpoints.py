"""WAL checkpoints in a thread of their own during bulk loads (golden.bulk)."""

from __future__ import annotations

import os

import pytest
from django.db import connections

from golden import bulk

ALIAS = "checkpoints"


@pytest.fixture
def wal_database(tmp_path, django_db_blocker):
    """A file SQLite database in WAL mode under its own alias, as a load writes it."""
    path = tmp_path / "load.sqlite3"
    config = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=1000;"},
    }
    default = connections.settings["default"]
    filled = connections.configure_settings({"default": default, ALIAS: config})
    connections.settings[ALIAS] = filled[ALIAS]
    with django_db_blocker.unblock():
        database = connections[ALIAS]
        with database.cursor() as cursor:
            cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        yield database, path
        database.close()
    del connections[ALIAS]
    del connections.settings[ALIAS]


def autocheckpoint(database) -> int:
    with database.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


def write_batches(database, checkpoints, batches: int) -> int:
    """Write ``batches`` transactions of about 1 MB each; returns the largest WAL file."""
    largest = 0
    for batch in range(batches):
        with database.cursor() as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(
                "INSERT INTO t (body) VALUES (%s)",
                [(f"{batch}:{n}:" + "x" * 1000,) for n in range(1000)],
            )
            cursor.execute("COMMIT")
        checkpoints.between_transactions()
        largest = max(largest, os.path.getsize(f"{database.settings_dict['NAME']}-wal"))
    return largest


def test_the_log_is_copied_by_the_thread_and_stays_short(wal_database, monkeypatch):
    database, _ = wal_database
    monkeypatch.setattr(bulk, "RESTART_PAGES", 500)  # about two batches

    with bulk.BackgroundCheckpoints(using=ALIAS, interval=0.01) as checkpoints:
        # The writer would copy the log itself only past the safety net.
        assert autocheckpoint(database) == bulk.WRITER_CHECKPOINT_PAGES
        largest = write_batches(database, checkpoints, 60)

    assert autocheckpoint(database) == 1000  # restored
    # 60 MB written; without the thread (and the restarts it allows) the log would
    # hold all of it, since the writer's own limit is 1 GB meanwhile. How short it
    # stays depends on how often the thread gets a core: about 4 MB on an idle
    # machine, up to 17 MB seen with both cores busy.
    assert largest < 30 * 2**20
    with database.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT body) FROM t")
        assert cursor.fetchone() == (60_000, 60_000)


def test_nothing_happens_outside_wal_mode(wal_database):
    database, _ = wal_database
    with database.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=DELETE")

    with bulk.BackgroundCheckpoints(using=ALIAS) as checkpoints:
        assert checkpoints._thread is None
        assert autocheckpoint(database) == 1000
        checkpoints.between_transactions()  # a no-op


def test_between_transactions_does_nothing_inside_a_transaction(wal_database, monkeypatch):
    database, _ = wal_database
    monkeypatch.setattr(bulk, "RESTART_PAGES", 0)
    from django.db import transaction

    with bulk.BackgroundCheckpoints(using=ALIAS) as checkpoints:
        checkpoints.log_pages = 10
        with transaction.atomic(using=ALIAS):
            checkpoints.between_transactions()
            assert checkpoints.log_pages == 10  # not run
        checkpoints.between_transactions()
        assert checkpoints.log_pages == 0


def test_the_limit_is_restored_after_an_error_broke_the_transaction(wal_database):
    from django.db import DatabaseError, transaction

    database, _ = wal_database
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(using=ALIAS),
        bulk.BackgroundCheckpoints(using=ALIAS),
        database.cursor() as cursor,
    ):
        cursor.execute("INSERT INTO t (id, body) VALUES (1, 'a')")
        try:
            cursor.execute("INSERT INTO t (id, body) VALUES (1, 'b')")  # duplicate id
        finally:
            database.needs_rollback = True  # as atomic() marks it on such an error

    assert autocheckpoint(database) == 1000


def test_array_parameters_are_literals_for_integers_only():
    assert bulk.array_param([3, 1, 2]) == "{3,1,2}"
    assert bulk.array_param(iter([7])) == "{7}"
    assert bulk.array_param(["a", "b"]) == ["a", "b"]
    assert bulk.array_param([1, "1"]) == [1, "1"]
    assert bulk.array_param([True, 2]) == [True, 2]
    assert bulk.array_param([]) == []
