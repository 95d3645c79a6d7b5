"""Fast bulk writes for large imports: prepared statements sent with executemany, and
multi-row INSERT ... RETURNING where the new primary keys are needed.

Django's ``bulk_create`` and ``bulk_update`` spend most of an import's time compiling
expressions per value; these helpers write exactly the same column values (prepared by
each field's own ``get_db_prep_save``) a few times faster, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

# Fields whose Python value is already what the database driver takes.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)
# SQLite allows 32,766 parameters per statement; PostgreSQL 65,535.
MAX_PARAMETERS = 30_000


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
        adapt_json = connection.ops.adapt_json_value
        encoder = field.encoder

        def convert_json(value):
            return adapt_json(value, encoder)

        return convert_json
    if isinstance(field, models.DateTimeField):
        # Most rows of a batch carry the same timestamp: convert each value once.
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


def _values(obj, fields, converters, now) -> list:
    values = []
    for field, convert in zip(fields, converters, strict=True):
        if isinstance(field, models.DateTimeField) and (
            field.auto_now or (field.auto_now_add and getattr(obj, field.attname) is None)
        ):
            setattr(obj, field.attname, now)
        value = getattr(obj, field.attname)
        values.append(value if convert is None or value is None else convert(value))
    return values


def bulk_update_rows(objects: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """UPDATE ``field_names`` of every object, one prepared statement per row."""
    if not objects:
        return
    meta, fields, converters = _plan(type(objects[0]), field_names)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    now = timezone.now()
    rows = [[*_values(obj, fields, converters, now), obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def bulk_insert_rows(objects: Sequence[models.Model]) -> None:
    """INSERT rows whose primary keys the caller does not need back."""
    if not objects:
        return
    meta, fields, converters = _plan(type(objects[0]), None)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    now = timezone.now()
    rows = [_values(obj, fields, converters, now) for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def bulk_insert_returning(objects: Sequence[models.Model]) -> None:
    """INSERT rows and set each object's new primary key (multi-row INSERT RETURNING,
    whose rows come back in insertion order on SQLite and PostgreSQL)."""
    if not objects:
        return
    meta, fields, converters = _plan(type(objects[0]), None)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row_placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, MAX_PARAMETERS // len(fields))
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(objects), per_statement):
            chunk = objects[start : start + per_statement]
            params: list[Any] = []
            for obj in chunk:
                params.extend(_values(obj, fields, converters, now))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
                + ", ".join([row_placeholder] * len(chunk))
                + f" RETURNING {quote(meta.pk.column)}",
                params,
            )
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


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
    stamp = [field.get_db_prep_save(timezone.now(), connection) for field in stamped]
    prepared = [
        [
            value if convert is None or value is None else convert(value)
            for value, convert in zip(row, converters, strict=True)
        ]
        + stamp
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
