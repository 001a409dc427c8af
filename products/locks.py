"""Every row lock on variants. Variants are always locked in primary-key order, the order checkout
takes them in (orders/locks.py), so two stock writers queue instead of deadlocking."""

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from .models import ProductVariant


def variants_lock(variant_ids: Iterable[uuid.UUID] | QuerySet) -> None:
    """Lock these variant rows (ids, or a values("…") subquery of them) in primary-key order, for the
    rest of the caller's transaction; ids of deleted variants are skipped."""
    ids = variant_ids if isinstance(variant_ids, QuerySet) else list(variant_ids)
    list(ProductVariant.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk"))


def variant_lock(variant_id: uuid.UUID) -> ProductVariant:
    """One variant, locked and read afresh."""
    return ProductVariant.objects.select_for_update().get(pk=variant_id)


def variants_lock_read(variant_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ProductVariant]:
    """Lock these variant rows in primary-key order and read them afresh, in one query; by id."""
    rows = ProductVariant.objects.filter(pk__in=list(variant_ids)).order_by("pk").select_for_update()
    return {variant.pk: variant for variant in rows}
