"""Support staff's tools on an order: internal notes, resending the confirmation email, and refreshing a
pending order's product snapshots from the catalogue. The API (orders/api/support.py) and the admin call
these; the timeline that shows their trail is orders/timeline.py."""

import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.db import prefetched_attach
from core.exceptions import ApplicationError, ErrorKind, not_found
from orders import locks, representation
from orders.error_codes import OrderErrorCode
from orders.events import record as events
from orders.models import Order, OrderItem, OrderNote, OutboxEvent
from orders.services.lifecycle import history_note
from orders.snapshots import snapshot_descriptions
from orders.transitions import snapshot_refresh_refusal
from users.models import User

# A customer's inbox is not a support tool's to flood: at most this many resends of one order per hour.
MAX_CONFIRMATION_RESENDS_PER_HOUR = 3
RESEND_WINDOW = timedelta(hours=1)


def order_note_add(*, order_id: uuid.UUID, actor: User, body: str) -> OrderNote:
    """An internal note of `actor` on the order: no lock (the order does not change) and no event (notes
    are staff's own, never published)."""
    if not Order.objects.filter(pk=order_id).exists():
        raise not_found()
    return OrderNote.objects.create(order_id=order_id, author=actor, body=body)


@transaction.atomic
def order_confirmation_resend(*, order_id: uuid.UUID, actor: User) -> OutboxEvent:
    """Queue the confirmation email again: an order.confirmation_resend_requested event, whose handler
    (orders/events/handlers.py) sends it after commit through Celery and logs it like the first one. The
    count of recent requests is read under the order's lock, so concurrent requests cannot pass the limit."""
    order = locks.order_lock(order_id)
    recent = order.events.filter(
        event_type=events.EventType.ORDER_CONFIRMATION_RESEND_REQUESTED, created_at__gte=timezone.now() - RESEND_WINDOW
    ).count()
    if recent >= MAX_CONFIRMATION_RESENDS_PER_HOUR:
        raise ApplicationError(
            ErrorKind.CONFLICT,
            f"The confirmation of this order was resent {recent} times in the last hour; try again later.",
            code=OrderErrorCode.RESEND_LIMIT_REACHED,
        )
    prefetched_attach(order, "items", list(order.items.all()))
    event = events.event_record(
        order=order,
        event_type=events.EventType.ORDER_CONFIRMATION_RESEND_REQUESTED,
        data={"requested_by": str(actor.pk), "order": representation.order_representation(order)},
    )
    order.save(update_fields=["last_event_sequence", "updated_at"])
    return event


@transaction.atomic
def order_snapshots_refresh(*, order_id: uuid.UUID, actor: User) -> Order:
    """Re-read a pending order's product names and images from the catalogue (never prices: the order
    keeps what it charges) and record what changed in its history. Under the order's lock, the lock a
    confirmation takes too: a refresh either completes before a racing confirm or is refused after it."""
    order = locks.order_lock(order_id)
    refusal = snapshot_refresh_refusal(order)
    if refusal is not None:
        raise ApplicationError(ErrorKind.CONFLICT, refusal, code=OrderErrorCode.SNAPSHOTS_FROZEN)
    items = list(order.items.all())
    current = snapshot_descriptions([item.variant_id for item in items if item.variant_id])
    changes = []
    for item in items:
        # A variant gone from the catalogue (variant_id NULL) leaves its item's snapshot as it was.
        description = current.get(item.variant_id, {}) if item.variant_id else {}
        changed = [
            f"{key} {item.product_snapshot.get(key)!r} -> {value!r}"
            for key, value in description.items()
            if value != item.product_snapshot.get(key)
        ]
        if changed:
            item.product_snapshot = {**item.product_snapshot, **description}
            changes.append((item, f"{item.item_id}: {', '.join(changed)}"))
    OrderItem.objects.bulk_update([item for item, _ in changes], ["product_snapshot"])
    summary = "; ".join(change for _, change in changes) or "nothing changed"
    history_note(order=order, actor=actor, note=f"Product snapshots refreshed from the catalogue: {summary}")
    order.save(update_fields=["updated_at"])
    prefetched_attach(order, "items", items)
    return order
