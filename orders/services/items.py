"""Changes to an order before it ships: cancelling one item, and changing the shipping address."""

import uuid
from typing import Any

from django.db import transaction

from core.exceptions import ApplicationError, ErrorKind, not_found
from orders import locks
from orders.calculations import order_totals
from orders.events import record as events
from orders.models import FulfillmentStatus, Order, OrderItem, OrderStatus, PaymentStatus
from orders.services.lifecycle import history_note, locked_order_transition, order_follows_items
from orders.services.refunds import item_cancellation_refund
from orders.transitions import address_change_refusal, cancel_item_refusal, invalid_transition, staff_cancel_refusal
from products.services import stock_release
from users.models import User

# The order fields an item cancellation changes.
TOTAL_FIELDS = ["subtotal_cents", "shipping_cents", "tax_cents", "total_cents", "item_count"]


@transaction.atomic
def item_cancel(*, order_id: uuid.UUID, item_id: str, actor: User | None, reason: str) -> Order:
    """Cancel one item before any of its units ships (staff with cancel_order): its stock goes back, the
    order's totals are computed again without it (orders/calculations.py; shipping never goes up), a paid
    order gets the difference refunded, and history and events record it. Cancelling the last live item
    cancels the order, as POST cancel does."""
    if (refusal := staff_cancel_refusal(actor)) is not None:
        raise ApplicationError(ErrorKind.FORBIDDEN, refusal)
    order = locks.order_lock(order_id)
    items = list(order.items.all())
    item = order_item_find(items, item_id)
    refusal = cancel_item_refusal(order, item)
    if refusal is not None:
        raise invalid_transition(refusal)
    live = [other for other in items if other is not item and other.fulfillment_status != FulfillmentStatus.CANCELLED]
    note = f"{item.item_id} cancelled: {reason}"
    if not live:
        return locked_order_transition(order, OrderStatus.CANCELLED, actor, note=note, cancel_reason=reason)

    if item.variant_id:
        stock_release({item.variant_id: item.quantity})
    item.fulfillment_status = FulfillmentStatus.CANCELLED
    item.save(update_fields=["fulfillment_status"])
    previous_total = order.total_cents
    totals = order_totals(sum(other.total_cents for other in live), shipping_at_most=order.shipping_cents)
    order.subtotal_cents, order.shipping_cents = totals.subtotal_cents, totals.shipping_cents
    order.tax_cents, order.total_cents = totals.tax_cents, totals.total_cents
    order.item_count = sum(other.quantity for other in live)
    refund = None
    # Money was captured on confirmation: what the item took off the total goes back to the customer.
    if order.payment_status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED) and (
        previous_total > order.total_cents
    ):
        refund = item_cancellation_refund(
            order=order, item=item, amount=previous_total - order.total_cents, actor=actor, reason=note
        )
    history_note(order=order, actor=actor, note=note)
    events.items_fulfillment_recorded(order=order, items=[item])
    events.event_record(
        order=order,
        event_type=events.EventType.ORDER_ITEM_CANCELLED,
        data={
            "item_id": item.item_id,
            "quantity": item.quantity,
            "reason": reason,
            "cancelled_by": None if actor is None else str(actor.pk),
            **{field: getattr(order, field) for field in TOTAL_FIELDS},
            "refund_id": None if refund is None else str(refund.pk),
            "refund_cents": 0 if refund is None else refund.amount_cents,
        },
    )
    order.save(update_fields=[*TOTAL_FIELDS, "payment_status"])
    # What is left may all have shipped (or been delivered) already: the order follows, as after a shipment.
    return order_follows_items(order, items, actor)


@transaction.atomic
def order_shipping_address_change(
    *, order_id: uuid.UUID, actor: User | None, shipping_address: dict[str, Any]
) -> Order:
    """Change some fields of the shipping address before anything ships (staff with
    change_shipping_address; the customer while the order is pending), recorded in history with the old
    address and announced by order.address_changed."""
    order = locks.order_lock(order_id)
    refusal = address_change_refusal(actor, order, list(order.items.all()))
    if refusal is not None:
        raise invalid_transition(refusal)
    previous = order.shipping_address
    order.shipping_address = {**previous, **shipping_address}
    history_note(order=order, actor=actor, note=f"Shipping address changed; it was: {_one_line(previous)}")
    events.event_record(
        order=order,
        event_type=events.EventType.ORDER_ADDRESS_CHANGED,
        data={
            "shipping_address": order.shipping_address,
            "previous_shipping_address": previous,
            "changed_by": None if actor is None else str(actor.pk),
        },
    )
    order.save(update_fields=["shipping_address", "last_event_sequence", "updated_at"])
    return order


def order_item_find(items: list[OrderItem], item_id: str) -> OrderItem:
    """The item of `items` named `item_id` (item_1, ...); a 404 when the order has none such."""
    item = next((item for item in items if item.item_id == item_id), None)
    if item is None:
        raise not_found("No such item on this order.")
    return item


def _one_line(address: dict[str, Any]) -> str:
    return ", ".join(str(value) for value in address.values() if value)
