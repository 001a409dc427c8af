"""Raw INSERT statements built from a model's own fields, for the hottest write path (order creation):
the ORM compiles an INSERT per model on every call, which cost more CPU than PostgreSQL spent storing
the rows. Values are prepared exactly as Model.save() prepares them (pre_save, get_db_prep_save), so
auto_now fields, JSON and UUID columns behave as they do through the ORM."""

from functools import cache

from django.db import connection
from django.db.models import Field, Model


@cache
def _insert_fields(model: type[Model]) -> tuple[Field, ...]:
    # db_returning fields (auto-increment ids) are left to the database, as bulk_create does.
    return tuple(field for field in model._meta.concrete_fields if not field.db_returning)


@cache
def insert_sql(model: type[Model], rows: int, returning: str = "") -> str:
    """`INSERT INTO <table> (<every column>) VALUES (...), ...` for `rows` rows, with %s placeholders."""
    fields = _insert_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(field.column for field in fields)}) VALUES "
    return sql + ", ".join([row] * rows) + (f" RETURNING {returning}" if returning else "")


def insert_params(objs: list[Model]) -> list:
    """The parameters of insert_sql for `objs`, in order; marks them as saved, as save() would."""
    params = []
    for obj in objs:
        params += [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in _insert_fields(type(obj))]
        obj._state.adding, obj._state.db = False, connection.alias
    return params
