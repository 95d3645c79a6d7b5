"""Global IDs: ``<domain prefix><serial number><check character>``, e.g. ``CUS000000042K``.

The serial number comes from a concurrency-safe, monotonic allocator that never hands
out a value twice (a PostgreSQL sequence, or a counter row on SQLite, whose writers are
serialised by the database lock). The check character is ISO 7064 MOD 37-36 over the
prefix and the serial number, so a mistyped or transposed character is detected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.utils import DatabaseError
from stdnum.iso7064 import mod_37_36

SERIAL_DIGITS = 9
_SHAPE = re.compile(rf"^([A-Z]{{3}})([0-9]{{{SERIAL_DIGITS},}})([0-9A-Z])$")
_SEPARATORS = re.compile(r"[\s\-_.]+")


class GlobalIdError(ValueError):
    """A text that is not a well-formed global ID; ``reason`` is a plain sentence."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class GlobalId:
    prefix: str
    serial: int

    def __str__(self) -> str:
        return format_global_id(self.prefix, self.serial)


def format_global_id(prefix: str, serial: int) -> str:
    body = f"{prefix}{serial:0{SERIAL_DIGITS}d}"
    return body + mod_37_36.calc_check_digit(body)


def parse_global_id(text: str, *, known_prefixes: set[str] | None = None) -> GlobalId:
    """Parse a global ID typed by a person: case, spaces and hyphens do not matter."""
    if known_prefixes is None:
        from .domains import DOMAINS

        known_prefixes = {domain.id_prefix for domain in DOMAINS.values()}
    compact = _SEPARATORS.sub("", text or "").upper()
    match = _SHAPE.match(compact)
    if not match:
        raise GlobalIdError(
            f"'{text}' is not a global ID (expected a prefix such as CUS, "
            f"{SERIAL_DIGITS} digits and a check character)",
            code="malformed",
        )
    prefix, serial, check = match.groups()
    if prefix not in known_prefixes:
        raise GlobalIdError(
            f"'{text}' has the unknown prefix {prefix} "
            f"(known: {', '.join(sorted(known_prefixes))})",
            code="unknown_prefix",
        )
    if mod_37_36.calc_check_digit(prefix + serial) != check:
        raise GlobalIdError(
            f"'{text}': check character does not match (is a character mistyped?)",
            code="check_character",
        )
    return GlobalId(prefix=prefix, serial=int(serial))


def normalise_global_id(text: str) -> str:
    return str(parse_global_id(text))


def allocate_serials(domain: str, count: int = 1) -> list[int]:
    """Reserve ``count`` new serial numbers for ``domain``; never returns a value twice.

    Values are increasing within one call; a rolled-back transaction may leave a gap
    on PostgreSQL, never a reuse.
    """
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        return _allocate_postgresql(domain, count)
    return _allocate_counter(domain, count)


def _sequence_name(domain: str) -> str:
    if not domain.isidentifier():
        raise ValueError(f"bad domain name {domain!r}")
    return f"golden_global_id_{domain}"


def _allocate_postgresql(domain: str, count: int) -> list[int]:
    name = _sequence_name(domain)
    query = "SELECT nextval(%s) FROM generate_series(1, %s)"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(query, [name, count])
            return sorted(row[0] for row in cursor.fetchall())
    except DatabaseError:
        # First use of a domain declared after the last migration.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{name}"')
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(query, [name, count])
            return sorted(row[0] for row in cursor.fetchall())


def _allocate_counter(domain: str, count: int) -> list[int]:
    from .models import GlobalIdCounter

    with transaction.atomic(), connection.cursor() as cursor:
        table = connection.ops.quote_name(GlobalIdCounter._meta.db_table)
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + %s WHERE domain = %s "
            "RETURNING last_value",
            [count, domain],
        )
        row = cursor.fetchone()
        if row is None:
            GlobalIdCounter.objects.create(domain=domain, last_value=count)
            last = count
        else:
            last = row[0]
    return list(range(last - count + 1, last + 1))


def create_sequences(domains) -> None:
    """Create the PostgreSQL sequences of ``domains`` (no-op on other databases)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for domain in domains:
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{_sequence_name(domain)}"')
