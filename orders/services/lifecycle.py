"""Status moves of an order: the staff transition, cancel, and the expiry of pending orders. Every move
goes through locked_order_transition, which checks it against orders/transitions.py."""

import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.db import prefetched_attach
from core.exceptions import ApplicationError, ErrorKind
from core.timestamps import utc_iso
from orders import locks
from orders.events import record as events
from orders.models import FulfillmentStatus, Order, OrderItem, OrderStatus, OrderStatusHistory
from orders.services.refunds import order_refund_remaining
from orders.services.shipments import shipment_record, shipments_delivered_with
from orders.transitions import (
    STOCK_RELEASING,
    cancel_refusal,
    invalid_transition,
    item_waits_to_ship,
    payment_status_after,
    refunds_on_entry,
    staff_cancel_refusal,
    transition_refusal,
)
from products.locks import variants_lock
from products.services import stock_release
from users.models import User

# Items in these statuses take no further fulfillment step.
CLOSED_ITEM_STATUSES = frozenset({FulfillmentStatus.DELIVERED, FulfillmentStatus.CANCELLED, FulfillmentStatus.RETURNED})


@transaction.atomic
def order_transition(
    *, order_id: uuid.UUID, to_status: str, actor: User | None, note: str = "", cancel_reason: str | None = None
) -> Order:
    """The one way an order's status changes: lock the row, check the move against the transition
    table, release stock on the way out, write history and events, all in one transaction.
    `actor` None means the system (a scheduled task)."""
    if to_status == OrderStatus.CANCELLED and (refusal := staff_cancel_refusal(actor)) is not None:
        raise ApplicationError(ErrorKind.FORBIDDEN, refusal)
    return locked_order_transition(locks.order_lock(order_id), to_status, actor, note, cancel_reason)


HISTORY_NOTE_MAX = OrderStatusHistory._meta.get_field("note").max_length


def history_note(*, order: Order, actor: User | None, note: str) -> OrderStatusHistory:
    """A history row for a change that is not a move (the status stays): `note` says what changed, cut to
    what the column holds."""
    return OrderStatusHistory.objects.create(
        order=order, from_status=order.status, to_status=order.status, changed_by=actor, note=note[:HISTORY_NOTE_MAX]
    )


def locked_order_transition(
    order: Order, to_status: str, actor: User | None, note: str = "", cancel_reason: str | None = None
) -> Order:
    """order_transition on an order row this transaction already holds locked (order_lock)."""
    from_status = order.status
    refusal = transition_refusal(order, to_status)
    if refusal is not None:
        raise invalid_transition(refusal)

    now = timezone.now()
    actor_id = str(actor.pk) if actor is not None else None
    items = list(order.items.all())
    changed_items: list[OrderItem] = []
    if to_status in STOCK_RELEASING:
        # Only units still in the warehouse go back; the status move happens once, so this runs once. A
        # cancelled item gave its units back when it was cancelled (orders/services/items.py).
        stock_release(
            {
                item.variant_id: item.quantity - item.shipped_quantity
                for item in items
                if item.variant_id and item.fulfillment_status != FulfillmentStatus.CANCELLED
            }
        )
        changed_items = _set_items(items, FulfillmentStatus.CANCELLED, when=_is_unshipped_and_live)
    elif to_status == OrderStatus.SHIPPED:
        # A staff move to shipped ships whatever was still waiting, as one shipment without a carrier, so
        # items agree with the order and with their shipments (it records their events itself).
        waiting = [(item, item.quantity - item.shipped_quantity) for item in items if item_waits_to_ship(item)]
        if waiting:
            shipment_record(order=order, lines=waiting, carrier="", tracking_number="", actor=actor, now=now)
    elif to_status == OrderStatus.DELIVERED:
        changed_items = _set_items(items, FulfillmentStatus.DELIVERED, when=_is_open, delivered_at=now)
        shipments_delivered_with(order=order, items=items, now=now)
    events.items_fulfillment_recorded(order=order, items=changed_items)
    reason = cancel_reason if cancel_reason is not None else note
    if refunds_on_entry(to_status, order.payment_status):
        # The money goes back through the refund service (Refund row, order.refunded event), capped by
        # what is left of the total after the refunds of returns.
        order_refund_remaining(order=order, actor=actor, reason=reason or f"Order {to_status}")

    order.status = to_status
    order.payment_status = payment_status_after(to_status, order.payment_status)
    changed = ["status", "payment_status", "last_event_sequence", "updated_at"]
    OrderStatusHistory.objects.create(
        order=order, from_status=from_status, to_status=to_status, changed_by=actor, note=note
    )
    events.event_record(
        order=order,
        event_type=events.EventType.ORDER_STATUS_CHANGED,
        data={"from_status": from_status, "to_status": to_status, "changed_by": actor_id, "note": note},
    )
    if to_status == OrderStatus.CANCELLED:
        order.cancellation = {"reason": reason, "cancelled_at": utc_iso(now), "cancelled_by": actor_id}
        changed.append("cancellation")
        events.event_record(
            order=order,
            event_type=events.EventType.ORDER_CANCELLED,
            data={"order_number": order.order_number, "reason": reason, "cancelled_by": actor_id},
        )
    order.save(update_fields=changed)
    prefetched_attach(order, "items", items)
    return order


def _is_unshipped_and_live(item: OrderItem) -> bool:
    return item.shipped_quantity == 0 and item.fulfillment_status != FulfillmentStatus.CANCELLED


def _is_open(item: OrderItem) -> bool:
    return item.fulfillment_status not in CLOSED_ITEM_STATUSES


def _set_items(items: list[OrderItem], status: str, *, when, **values) -> list[OrderItem]:
    """Move the items `when` selects to `status` (a callable value is computed per item); returns them."""
    chosen = [item for item in items if when(item)]
    for item in chosen:
        item.fulfillment_status = status
        for field, value in values.items():
            setattr(item, field, value(item) if callable(value) else value)
    if chosen:
        OrderItem.objects.bulk_update(chosen, ["fulfillment_status", *values])
    return chosen


@transaction.atomic
def order_cancel(*, order_id: uuid.UUID, actor: User, reason: str) -> Order:
    """Customers cancel their own orders while pending or confirmed; staff with cancel_order also while
    processing. The order row lock in order_transition makes a second, concurrent cancel a 409."""
    order = locks.order_lock(order_id)
    refusal = cancel_refusal(actor, order)
    if refusal is not None:
        raise invalid_transition(refusal)
    return locked_order_transition(order, OrderStatus.CANCELLED, actor, note=reason, cancel_reason=reason)


def orders_expire_pending(*, batch_size: int = 100) -> int:
    """Fail pending orders older than ORDER_PENDING_TTL, giving their stock back. Rows a customer is
    working on right now are skipped (SKIP LOCKED) and picked up by the next run."""
    ttl = settings.ORDER_PENDING_TTL
    if not ttl:
        return 0
    expired = 0
    while True:
        with transaction.atomic():
            pending = Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=timezone.now() - ttl)
            batch = locks.unlocked_rows_claim(pending.order_by("created_at"), limit=batch_size)
            # Lock the batch's variants up front in primary-key order, the order every stock writer uses:
            # releasing them order by order would take them in created_at order and deadlock a checkout.
            variants_lock(OrderItem.objects.filter(order__in=batch).values("variant_id"))
            for order in batch:
                locked_order_transition(order, OrderStatus.FAILED, None, note="Expired: not confirmed in time")
        expired += len(batch)
        if len(batch) < batch_size:
            return expired


def order_follows_items(order: Order, items: list[OrderItem], actor: User | None) -> Order:
    """The roll-up of a locked order after its items changed (shipped, delivered, one cancelled): shipped
    once every live item is, delivered once every live item is; then save the order's event counter and
    hand it back with its items attached."""
    live = [item for item in items if item.fulfillment_status != FulfillmentStatus.CANCELLED]
    if order.status == OrderStatus.PROCESSING and all(
        i.fulfillment_status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED) for i in live
    ):
        locked_order_transition(order, OrderStatus.SHIPPED, actor, note="Every item shipped")
    if order.status == OrderStatus.SHIPPED and all(i.fulfillment_status == FulfillmentStatus.DELIVERED for i in live):
        locked_order_transition(order, OrderStatus.DELIVERED, actor, note="Every item delivered")
    order.save(update_fields=["last_event_sequence", "updated_at"])
    prefetched_attach(order, "items", items)
    return order
