"""Model fields of the golden app."""

from __future__ import annotations

from django.db import models


class DocumentJSONField(models.JSONField):
    """JSON that is written and read whole, never searched, grouped or compared
    (journal snapshots). On PostgreSQL it is stored as ``json`` rather than ``jsonb``:
    the server checks the text but does not convert it, which makes bulk writes of
    these large documents markedly cheaper. ``json`` has no equality operator, so a
    model with such a column cannot be used in GROUP BY or DISTINCT queries.
    Elsewhere it is a plain ``JSONField``."""

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        # psycopg decodes ``json`` columns itself (``jsonb`` arrives as text).
        if value is not None and not isinstance(value, str | bytes | bytearray):
            return value
        return super().from_db_value(value, expression, connection)
