"""Fulfilment of single items: ship some units (partial shipments add up) or mark an item delivered; the
order follows its items through the same status move as a staff transition."""

import uuid

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.db import prefetched_attach
from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind, not_found
from orders import locks
from orders.events.record import items_fulfillment_recorded
from orders.models import FulfillmentStatus, Order, OrderItem, OrderStatus
from orders.services.lifecycle import locked_order_transition
from orders.transitions import deliver_item_refusal, invalid_transition, ship_item_refusal
from users.models import User


@transaction.atomic
def item_fulfill(
    *,
    order_id: uuid.UUID,
    item_id: str,
    actor: User,
    status: str,
    quantity: int | None = None,
    carrier: str | None = None,
    tracking_number: str | None = None,
) -> Order:
    """Ship some units of one item (partial shipments add up) or mark it delivered. When every
    non-cancelled item is shipped the order becomes shipped, when every one is delivered, delivered,
    through the same transition as a staff move, so history and events follow."""
    order = locks.order_lock(order_id)
    items = list(order.items.all())
    item = next((item for item in items if item.item_id == item_id), None)
    if item is None:
        raise not_found("No such item on this order.")
    now = timezone.now()
    if status == FulfillmentStatus.SHIPPED:
        _ship(order, item, quantity, carrier, tracking_number, now)
    else:
        refusal = deliver_item_refusal(order, item)
        if refusal is not None:
            raise invalid_transition(refusal)
        item.fulfillment_status, item.delivered_at = FulfillmentStatus.DELIVERED, now
        item.save(update_fields=["fulfillment_status", "delivered_at"])
    items_fulfillment_recorded(order=order, items=[item])
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


def _ship(
    order: Order, item: OrderItem, quantity: int | None, carrier: str | None, tracking_number: str | None, now
) -> None:
    refusal = ship_item_refusal(order, item)
    if refusal is not None:
        raise invalid_transition(refusal)
    remaining = item.quantity - item.shipped_quantity
    quantity = remaining if quantity is None else quantity
    if quantity > remaining:
        problem = ErrorDetail(f"Only {remaining} unit(s) of this item are left to ship.", code=ErrorCode.INVALID)
        raise ApplicationError(ErrorKind.INVALID, {"quantity": [problem]})
    item.shipped_quantity += quantity
    item.fulfillment_status = (
        FulfillmentStatus.SHIPPED if item.shipped_quantity == item.quantity else FulfillmentStatus.PROCESSING
    )
    item.carrier = carrier or item.carrier
    item.tracking_number = tracking_number or item.tracking_number
    item.shipped_at = now
    item.save(update_fields=["shipped_quantity", "fulfillment_status", "carrier", "tracking_number", "shipped_at"])
