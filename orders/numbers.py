"""Order and return numbers: the day and six random Crockford base32 characters, unique by a constraint.
Numbers are drawn independently of anything else (Oscar's basket-derived numbers clashed after failed
payments); two draws collide about once in a billion a day, and a clash draws again."""

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.db import violated_constraint

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
ATTEMPTS = 5

Created = TypeVar("Created")


def _number(prefix: str) -> str:
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{prefix}-{timezone.now():%Y%m%d}-{suffix}"


def generate_order_number() -> str:
    return _number("ORD")


def generate_return_number() -> str:
    return _number("RET")


def with_fresh_number(create: Callable[[], Created], *, number_field: str) -> Created:
    """Run `create` in its own transaction (a savepoint inside the caller's) and run it again, drawing a
    new number, when its insert clashes on the unique constraint of `number_field`."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return create()
        except IntegrityError as exc:
            if attempt + 1 == ATTEMPTS or number_field not in violated_constraint(exc):
                raise
    raise AssertionError("unreachable")
