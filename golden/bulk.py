"""Fast bulk writes for large imports: prepared statements sent with executemany, with
primary keys reserved beforehand where the caller needs them.

Django's ``bulk_create`` and ``bulk_update`` spend most of an import's time compiling
expressions per value; these helpers write exactly the same column values (prepared by
each field's own ``get_db_prep_save``) a few times faster, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connection, connections, models
from django.db.models.base import ModelState
from django.utils import timezone

# Fields whose Python value is already what the database driver takes.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


@functools.cache
def _blank(model: type[models.Model]) -> tuple[dict[str, Any], tuple[tuple[str, Callable], ...]]:
    """Each concrete field's default by attname: constants, and factories (``dict``)."""
    constants: dict[str, Any] = {}
    factories: list[tuple[str, Callable]] = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            factories.append((field.attname, field.default))
        else:
            constants[field.attname] = field.get_default()
    return constants, tuple(factories)


def new_instance(model: type[models.Model], **values: Any) -> models.Model:
    """An unsaved instance equal to ``model(**values)`` (values by attname, e.g.
    ``system_id``), without ``Model.__init__``'s per-field machinery, which dominates
    when an import builds hundreds of thousands of rows. Sends no pre/post_init
    signals: use it only for models that have no receivers."""
    constants, factories = _blank(model)
    obj = model.__new__(model)
    state = obj.__dict__
    state.update(constants)
    for attname, factory in factories:
        state[attname] = factory()
    state.update(values)
    obj._state = ModelState()
    return obj


def link(obj: models.Model, name: str, target: models.Model) -> None:
    """``obj.<name> = target`` for a foreign key, without the descriptor's checks."""
    field = obj._meta.get_field(name)
    obj.__dict__[field.attname] = target.pk
    obj._state.fields_cache[name] = target


def _plan(model: type[models.Model], field_names: Sequence[str] | None):
    meta = model._meta
    if field_names is None:
        fields = [field for field in meta.concrete_fields if not field.primary_key]
    else:
        fields = [meta.get_field(name) for name in field_names]
    converters: list[Callable[[Any], Any] | None] = []
    for field in fields:
        plain = isinstance(field, _PLAIN) and not isinstance(field, models.DateTimeField)
        converters.append(None if plain else _converter(field))
    return meta, fields, converters


def _converter(field):
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    if isinstance(field, models.DateTimeField | models.UUIDField):
        # Most rows of a batch carry the same timestamp or operation: convert once.
        memo: dict[Any, Any] = {}

        def convert_datetime(value):
            if value not in memo:
                if len(memo) > 1000:
                    memo.clear()
                memo[value] = field.get_db_prep_save(value, connection)
            return memo[value]

        return convert_datetime

    def convert(value):
        return field.get_db_prep_save(value, connection)

    return convert


def array_param(values: Sequence[Any]) -> str | list:
    """An array parameter for PostgreSQL: integers as one array literal ("{1,2,3}"),
    which the driver quotes in a single call instead of value by value (16,000
    blocking codes: 13 ms against 40 ms, most of it in Python); other values as a
    list. The server reads the literal as an array of the type the query needs."""
    values = list(values)
    if values and all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return values


#: Values per IN list where there is no array parameter (SQLite).
SQL_IN_CHUNK = 500


def select_in(sql: str, values: list, params: Sequence = ()) -> list[tuple]:
    """Run ``sql`` whose ``{match}`` compares with ``values``: one query with an
    array parameter on PostgreSQL (cheap to plan whatever the number of values);
    chunks of an IN list elsewhere."""
    if not values:
        return []
    found: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(match="= ANY(%s)"), [*params, array_param(values)])
            found.extend(cursor.fetchall())
        elif connection.vendor == "sqlite":
            base = sql.replace("%s", "?")  # these statements hold no other percent sign
            for chunk in chunks(values):
                statement = base.format(match=f"IN ({', '.join('?' * len(chunk))})")
                found.extend(driver_rows(cursor, statement, [*params, *chunk]))
        else:
            for chunk in chunks(values):
                match = "IN (" + ", ".join(["%s"] * len(chunk)) + ")"
                cursor.execute(sql.format(match=match), [*params, *chunk])
                found.extend(cursor.fetchall())
    return found


def driver_rows(cursor, sql: str, params: Sequence):
    """Rows of ``sql`` (``?`` placeholders) run by the SQLite driver itself under
    Django's ``cursor``: Django's rewriting of ``%s`` placeholders costs a quarter
    of a lookup on statements as long as the candidate queries."""
    return sqlite3.Cursor.execute(cursor.cursor, sql, params)


def chunks(items: Sequence, size: int = SQL_IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _orjson_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_converter(field):
    """JSON values encoded with orjson (several times faster than json.dumps; the
    stored document is the same, only without optional white space)."""
    if field.encoder is not None:
        adapt_json = connection.ops.adapt_json_value
        return lambda value: adapt_json(value, field.encoder)
    # JSON text also on PostgreSQL: psycopg sends a str as an untyped literal, which
    # the server reads as jsonb (cheaper than wrapping every value in Jsonb).
    return _orjson_text


@functools.cache
def _stamps(fields: tuple) -> tuple[tuple[str, int], ...]:
    """(attname, 0 plain / 1 auto_now_add / 2 auto_now) per field."""
    result = []
    for field in fields:
        stamp = 0
        if isinstance(field, models.DateTimeField):
            stamp = 2 if field.auto_now else 1 if field.auto_now_add else 0
        result.append((field.attname, stamp))
    return tuple(result)


def _values(obj, stamps, converters, now) -> list:
    """Column values of ``obj`` (``stamps`` from :func:`_stamps`), stamping
    auto_now(_add) timestamps."""
    state = obj.__dict__  # concrete field values live here, under their attname
    values = []
    for (attname, stamp), convert in zip(stamps, converters, strict=True):
        if stamp == 2 or (stamp == 1 and state.get(attname) is None):
            state[attname] = now
        value = state[attname] if attname in state else getattr(obj, attname)
        values.append(value if convert is None or value is None else convert(value))
    return values


def bulk_update_rows(objects: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """UPDATE ``field_names`` of every object, one prepared statement per row."""
    if not objects:
        return
    meta, fields, converters = _plan(type(objects[0]), field_names)
    stamps = _stamps(tuple(fields))
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    now = timezone.now()
    rows = [[*_values(obj, stamps, converters, now), obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def bulk_insert_rows(objects: Sequence[models.Model]) -> None:
    """INSERT rows with executemany; primary keys already set (see :func:`reserve_ids`)
    are written as they are, otherwise the database assigns them (not read back)."""
    if not objects:
        return
    meta, fields, converters = _plan(type(objects[0]), None)
    stamps = _stamps(tuple(fields))
    with_pk = objects[0].pk is not None
    quote = connection.ops.quote_name
    names = ([meta.pk] if with_pk else []) + list(fields)
    columns = ", ".join(quote(field.column) for field in names)
    placeholders = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    now = timezone.now()
    if with_pk:
        rows = [[obj.pk, *_values(obj, stamps, converters, now)] for obj in objects]
    else:
        rows = [_values(obj, stamps, converters, now) for obj in objects]
    _insert_many(meta.db_table, [field.column for field in names], sql, rows)
    alias = connection.alias
    for obj in objects:
        obj._state.adding = False
        obj._state.db = alias


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys of ``model`` that no other insert will take.

    PostgreSQL: from the table's identity sequence. SQLite: by advancing the table's
    AUTOINCREMENT counter, which is safe because every transaction here holds the
    write lock from its start (``transaction_mode`` IMMEDIATE).
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotSupportedError(
                f"bulk writes run on SQLite and PostgreSQL, not on {connection.vendor}"
            )
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq",
            [count, table],
        )
        row = cursor.fetchone()
        if row is not None:
            last = row[0]
        else:
            cursor.execute(f"SELECT COALESCE(MAX({quote(column)}), 0) FROM {quote(table)}")
            last = cursor.fetchone()[0] + count
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last])
        return list(range(last - count + 1, last + 1))


def assign_reserved_ids(objects: Sequence[models.Model]) -> None:
    """Give each (unsaved) object a primary key from :func:`reserve_ids`."""
    if not objects:
        return
    for obj, pk in zip(objects, reserve_ids(type(objects[0]), len(objects)), strict=True):
        obj.pk = pk


def bulk_insert_with_ids(objects: Sequence[models.Model]) -> None:
    """Give each object a reserved primary key, then INSERT them all."""
    assign_reserved_ids(objects)
    bulk_insert_rows(objects)


def insert_values(
    model: type[models.Model], field_names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT plain value rows (in ``field_names`` order) without building model
    instances; ``auto_now_add`` timestamps are filled in when left out."""
    if not rows:
        return
    meta, fields, converters = _plan(model, field_names)
    stamped = [
        field
        for field in meta.concrete_fields
        if isinstance(field, models.DateTimeField)
        and (field.auto_now or field.auto_now_add)
        and field.name not in field_names
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [*fields, *stamped])
    placeholders = ", ".join(["%s"] * (len(fields) + len(stamped)))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    if stamped or any(convert is not None for convert in converters):
        stamp = [field.get_db_prep_save(timezone.now(), connection) for field in stamped]
        prepared = [
            [
                value if convert is None or value is None else convert(value)
                for value, convert in zip(row, converters, strict=True)
            ]
            + stamp
            for row in rows
        ]
    else:  # plain values only (keys, ids): the rows are the parameters as they are
        prepared = rows
    _insert_many(meta.db_table, [field.column for field in [*fields, *stamped]], sql, prepared)


def _insert_many(table: str, columns: list[str], sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """executemany, or COPY on PostgreSQL (several times faster for many rows)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1:
            quote = connection.ops.quote_name
            statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, rows)


#: Seconds between two checkpoints of the background thread.
CHECKPOINT_INTERVAL = 0.2
#: Past this many pages in the write-ahead log, the writer lets the log start over.
RESTART_PAGES = 65_536
#: While the thread runs, the writer checkpoints by itself only past this many pages (a
#: safety net: without the thread the log would grow until the load ends).
WRITER_CHECKPOINT_PAGES = 250_000


class BackgroundCheckpoints:
    """On SQLite in WAL mode, copy the write-ahead log into the database file from a
    thread of its own while a bulk load writes, rather than in the writer's commits.

    A commit that crosses the log's size limit (``wal_autocheckpoint``) copies the
    whole log into the database before it returns: about half of an import's time
    spent committing. A passive checkpoint on another connection does that work
    without taking the write lock, and SQLite releases the GIL while it runs, so it
    uses the other core. While the writer's transaction runs, the thread copies
    everything committed before it. The log can only start over from its beginning
    once it is copied completely when a write transaction begins, so every
    :data:`RESTART_PAGES` pages the writer itself copies what is left between two
    transactions (:meth:`between_transactions`): the last batch. Nothing changes for
    readers, durability or other writers. On PostgreSQL and in-memory databases the
    object does nothing.

    Use as a context manager around the load.
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS, interval: float = CHECKPOINT_INTERVAL):
        self.database = connections[using]
        self.interval = interval
        self.log_pages = 0  # the log's length at the thread's last checkpoint
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous_limit = 0

    def __enter__(self) -> BackgroundCheckpoints:
        path = _wal_database_path(self.database)
        if path is None:
            return self
        with self.database.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            self._previous_limit = int(cursor.fetchone()[0])
            limit = max(self._previous_limit, WRITER_CHECKPOINT_PAGES)
            cursor.execute(f"PRAGMA wal_autocheckpoint={limit}")
        self._thread = threading.Thread(
            target=self._checkpoint_until_stopped, args=(path,), name="wal-checkpoint", daemon=True
        )
        self._thread.start()
        return self

    def between_transactions(self) -> None:
        """Call after each commit: lets a long log start over (outside a transaction
        only; inside one it does nothing)."""
        database = self.database
        if self._thread is None or self.log_pages < RESTART_PAGES or database.in_atomic_block:
            return
        with database.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.fetchall()
        self.log_pages = 0

    def __exit__(self, *exc_info) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        raw = self.database.connection  # None once closed: a new one has the default
        if raw is not None:
            # On the driver's connection: works in a transaction broken by an error too,
            # which Django would refuse to run a query in (and hide the error with it).
            raw.execute(f"PRAGMA wal_autocheckpoint={self._previous_limit}")

    def _checkpoint_until_stopped(self, path: str) -> None:
        try:
            database = sqlite3.connect(path, timeout=0, isolation_level=None)
        except sqlite3.Error:
            return  # the writer checkpoints by itself past WRITER_CHECKPOINT_PAGES
        try:
            while not self._stop.wait(self.interval):
                _, self.log_pages, _ = database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            pass  # as above; a failed checkpoint loses nothing
        finally:
            database.close()


def _wal_database_path(database) -> str | None:
    """The file of ``database`` (a connection) when it is SQLite in WAL mode, else None."""
    if database.vendor != "sqlite":
        return None
    with database.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() != "wal":
            return None
        cursor.execute("PRAGMA database_list")
        for _, name, file in cursor.fetchall():
            if name == "main" and file:
                return file
    return None
