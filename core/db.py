"""Two small things Django's ORM does not say or do directly."""

from collections.abc import Sequence

from django.db import IntegrityError
from django.db.models import Model


def violated_constraint(exc: IntegrityError) -> str:
    """The name of the constraint PostgreSQL reported for `exc` ('' when it named none): tells which
    unique or check constraint a concurrent write ran into."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


def prefetched_attach(instance: Model, relation: str, rows: Sequence[Model]) -> None:
    """Hand `instance` the rows of `relation` as if prefetched, so rendering it costs no query."""
    # Django's own attribute; other relations already attached stay.
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = list(rows)
