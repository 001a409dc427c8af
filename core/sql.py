"""Raw INSERT statements built from a model's own fields, for the hottest write path (order creation):
the ORM compiles an INSERT per model on every call, which cost more CPU than PostgreSQL spent storing
the rows. Each table's rows travel as one JSON document that PostgreSQL turns into rows of the table's
own type (jsonb_populate_recordset): one parameter per table instead of one per column, so the
statement's text and its parsing are the same whatever the number of rows. Values are taken as
Model.save() takes them (pre_save), so auto_now fields and defaults behave as through the ORM."""

from collections.abc import Sequence
from functools import cache

import orjson
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Field, Model


@cache
def _insert_fields(model: type[Model]) -> tuple[Field, ...]:
    # db_returning fields (auto-increment ids) are left to the database, as bulk_create does.
    return tuple(field for field in model._meta.concrete_fields if not field.db_returning)


@cache
def insert_sql(model: type[Model], returning: str = "") -> str:
    """`INSERT INTO <table> (<every column>) SELECT ... FROM jsonb_populate_recordset(...)` taking the
    rows as one JSON array (insert_rows), with a %s placeholder for it."""
    table = connection.ops.quote_name(model._meta.db_table)
    # Quoted: a column may be named by a reserved word (the email log's "to").
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _insert_fields(model))
    sql = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
    return sql + (f" RETURNING {returning}" if returning else "")


def insert_rows(objs: Sequence[Model]) -> str:
    """The JSON parameter of insert_sql for `objs`, in order; marks them as saved, as save() would. orjson
    writes UUIDs and timestamps as PostgreSQL reads them, to the microsecond (DjangoJSONEncoder would cut
    timestamps to milliseconds), in a quarter of the json module's time; another type is a TypeError."""
    rows = []
    for obj in objs:
        rows.append({field.column: field.pre_save(obj, True) for field in _insert_fields(type(obj))})
        obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS
    return orjson.dumps(rows).decode()
