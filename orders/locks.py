"""Every row lock the order service takes (variants go through products/locks.py, but checkout's lock is
one query with its reads, so it lives here). Rows are locked in primary-key order, the order every
writer uses, so writers queue instead of deadlocking; a SKIP LOCKED claim never waits, so its order
(oldest first) only decides which rows it gets."""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

from core.exceptions import not_found
from orders.models import Order, OutboxEvent, OutboxStatus, ReturnRequest
from products.models import Product, ProductVariant, Supplier
from users.models import User

RowT = TypeVar("RowT", bound=Model)

# A checkout line's variant with what pricing, checks and the snapshot read of its product and supplier.
LINE_VARIANT_COLUMNS = (
    "v.id, v.product_id, v.name, v.sku, v.attributes, v.price_cents, v.stock_quantity,"
    " p.name, p.status, p.currency, p.image_url, p.supplier_id, s.name"
)
LINE_VARIANTS_FROM = f"""
      FROM {ProductVariant._meta.db_table} v
      JOIN {Product._meta.db_table} p ON p.id = v.product_id
      JOIN {Supplier._meta.db_table} s ON s.id = p.supplier_id
"""
# Parameters: the variants named, and the products of lines naming none.
LINE_VARIANTS_FILTER = "(v.id = ANY(%s) OR v.product_id = ANY(%s))"

# The user's row comes FOR SHARE in the same statement (no extra round trip): user_deactivate takes it FOR
# UPDATE, so a deactivation either waits for this order to commit or has committed and is read here.
_LOCK_LINE_VARIANTS_SQL = f"""
    SELECT {LINE_VARIANT_COLUMNS}, u.is_active
    {LINE_VARIANTS_FROM}
      JOIN {User._meta.db_table} u ON u.id = %s
     WHERE {LINE_VARIANTS_FILTER}
     ORDER BY v.id
       FOR UPDATE OF v FOR SHARE OF u
"""


def line_variants_lock(*, user_id: uuid.UUID, line_keys: Sequence[list[uuid.UUID]]) -> list[tuple[Any, ...]]:
    """Checkout's one lock query: the lines' variant rows FOR UPDATE in primary-key order and the buyer's
    row FOR SHARE; rows of LINE_VARIANT_COLUMNS followed by the buyer's is_active."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_LINE_VARIANTS_SQL, [user_id, *line_keys])
        return cursor.fetchall()


def order_lock(order_id: uuid.UUID) -> Order:
    """One order row, locked and read afresh: every write on an order takes this lock first."""
    try:
        return Order.objects.select_for_update(of=("self",)).get(pk=order_id)
    except Order.DoesNotExist:
        raise not_found()


def return_request_lock(return_id: uuid.UUID) -> ReturnRequest:
    """One return request, locked (after its order's row: order_lock first)."""
    return ReturnRequest.objects.select_for_update(of=("self",)).get(pk=return_id)


# Due events not held back by an earlier event of their order (failed, or backing off), oldest first, each
# with the first unpublished sequence of its order: the relay's claim and its in-order check in one round
# trip, and the payload as the stored JSON text, which the relay publishes as it is.
_OUTBOX_BATCH_CLAIM_SQL = f"""
    WITH claimed AS (
        SELECT e.id, e.order_id, e.sequence, e.event_type, e.request_id, e.payload, e.created_at
          FROM {OutboxEvent._meta.db_table} e
         WHERE e.status = %(pending)s AND e.next_attempt_at <= %(now)s
           AND NOT EXISTS (
               SELECT 1 FROM {OutboxEvent._meta.db_table} b
                WHERE b.order_id = e.order_id AND b.sequence < e.sequence
                  AND (b.status = %(failed)s OR (b.status = %(pending)s AND b.next_attempt_at > %(now)s)))
         ORDER BY e.created_at, e.sequence
         LIMIT %(limit)s
           FOR UPDATE OF e SKIP LOCKED
    )
    SELECT c.id, c.order_id, c.sequence, c.event_type, c.request_id, c.payload::text,
           (SELECT min(u.sequence) FROM {OutboxEvent._meta.db_table} u
             WHERE u.order_id = c.order_id AND u.status <> %(published)s)
      FROM claimed c
     ORDER BY c.created_at, c.sequence
"""


def outbox_batch_claim(*, now: Any, limit: int) -> list[tuple[Any, ...]]:
    """Lock up to `limit` due outbox events that no other relay holds (SKIP LOCKED: relays side by side take
    different rows). Rows: id, order_id, sequence, event_type, request_id, payload (JSON text), and the
    first sequence of the event's order not yet published."""
    params = {
        "now": now,
        "limit": limit,
        "pending": OutboxStatus.PENDING.value,
        "failed": OutboxStatus.FAILED.value,
        "published": OutboxStatus.PUBLISHED.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_OUTBOX_BATCH_CLAIM_SQL, params)
        return cursor.fetchall()


def unlocked_rows_claim(rows: QuerySet[RowT], *, limit: int) -> list[RowT]:
    """Lock and return the first `limit` rows of this ordered query that no one else holds: workers side
    by side (outbox relays, expiry runs) each take different rows instead of waiting."""
    return list(rows.select_for_update(skip_locked=True)[:limit])
