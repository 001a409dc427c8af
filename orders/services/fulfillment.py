"""Fulfilment: ship units as shipments (one item through the item endpoint, several at once through the
shipments endpoint; partial shipments add up), deliver a shipment or an item; the order follows its
items through the same status move as a staff transition."""

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind, not_found
from orders import locks
from orders.error_codes import OrderErrorCode
from orders.events.record import items_fulfillment_recorded
from orders.models import FulfillmentStatus, Order, OrderItem, Shipment
from orders.services.items import order_item_find
from orders.services.lifecycle import order_follows_items
from orders.services.shipments import shipment_record, shipments_delivered_with
from orders.transitions import (
    deliver_item_refusal,
    deliver_shipment_refusal,
    invalid_transition,
    ship_item_refusal,
)
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
    """Ship some units of one item as a shipment of their own (partial shipments add up) or mark the
    item delivered. When every non-cancelled item is shipped the order becomes shipped, when every one
    is delivered, delivered, through the same transition as a staff move, so history and events follow."""
    order = locks.order_lock(order_id)
    items = list(order.items.all())
    item = order_item_find(items, item_id)
    now = timezone.now()
    if status == FulfillmentStatus.SHIPPED:
        refusal = ship_item_refusal(order, item)
        if refusal is not None:
            raise invalid_transition(refusal)
        remaining = item.quantity - item.shipped_quantity
        units = remaining if quantity is None else quantity
        if units > remaining:
            raise ApplicationError(ErrorKind.INVALID, {"quantity": [_too_many(remaining, ErrorCode.INVALID)]})
        lines = [(item, units)]
        shipment_record(
            order=order, lines=lines, carrier=carrier or "", tracking_number=tracking_number or "", actor=actor, now=now
        )
    else:
        refusal = deliver_item_refusal(order, item)
        if refusal is not None:
            raise invalid_transition(refusal)
        item.fulfillment_status, item.delivered_at = FulfillmentStatus.DELIVERED, now
        item.save(update_fields=["fulfillment_status", "delivered_at"])
        items_fulfillment_recorded(order=order, items=[item])
        shipments_delivered_with(order=order, items=items, now=now)
    return order_follows_items(order, items, actor)


@transaction.atomic
def shipment_create(
    *, order_id: uuid.UUID, actor: User, items: Sequence[dict[str, Any]], carrier: str, tracking_number: str
) -> Order:
    """One parcel of several items of a processing order (`items`: item_id and quantity, each item once),
    with its carrier and tracking number; the order rolls up as with item_fulfill. Unknown or repeated
    items and more units than are left to ship are 400s on the line, all reported at once."""
    order = locks.order_lock(order_id)
    order_items = list(order.items.all())
    by_id = {item.item_id: item for item in order_items}
    problems: dict[int, dict[str, list[ErrorDetail]]] = {}
    lines: list[tuple[OrderItem, int]] = []
    conflict: str | None = None
    for index, line in enumerate(items):
        item = by_id.get(line["item_id"])
        if item is None:
            problems[index] = {"item_id": [ErrorDetail("No such item on this order.", OrderErrorCode.ITEM_NOT_FOUND)]}
        elif any(item is chosen for chosen, _ in lines):
            problems[index] = {"item_id": [ErrorDetail("Each item once per shipment.", OrderErrorCode.DUPLICATE_ITEM)]}
        else:
            refusal = ship_item_refusal(order, item)
            if refusal is not None:
                # A 409, but after the request's own problems: a malformed shipment is a 400 whatever the order.
                conflict = conflict or f"{item.item_id}: {refusal}"
                lines.append((item, 0))  # for the duplicate check; nothing ships once there is a conflict
                continue
            remaining = item.quantity - item.shipped_quantity
            if line["quantity"] > remaining:
                problems[index] = {"quantity": [_too_many(remaining, OrderErrorCode.SHIPMENT_QUANTITY_EXCEEDED)]}
            lines.append((item, line["quantity"]))
    if problems:
        raise ApplicationError(ErrorKind.INVALID, {"items": problems})
    if conflict is not None:
        raise invalid_transition(conflict)
    shipment_record(
        order=order, lines=lines, carrier=carrier, tracking_number=tracking_number, actor=actor, now=timezone.now()
    )
    return order_follows_items(order, order_items, actor)


@transaction.atomic
def shipment_deliver(*, order_id: uuid.UUID, shipment_id: uuid.UUID, actor: User) -> Order:
    """Mark a shipment delivered: each of its items whose units have all shipped and whose every shipment
    is now delivered becomes delivered (an event each), and the order rolls up as with item_fulfill."""
    order = locks.order_lock(order_id)
    shipment = Shipment.objects.filter(order=order, pk=shipment_id).first()
    if shipment is None:
        raise not_found("No such shipment on this order.")
    refusal = deliver_shipment_refusal(order, shipment)
    if refusal is not None:
        raise invalid_transition(refusal)
    now = timezone.now()
    shipment.delivered_at = now
    shipment.save(update_fields=["delivered_at"])
    items = list(order.items.all())
    in_shipment = set(shipment.items.values_list("order_item_id", flat=True))
    still_travelling = set(
        OrderItem.objects.filter(pk__in=in_shipment, shipment_items__shipment__delivered_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    delivered = [
        item
        for item in items
        if item.pk in in_shipment
        and item.pk not in still_travelling
        and item.fulfillment_status == FulfillmentStatus.SHIPPED
    ]
    for item in delivered:
        item.fulfillment_status, item.delivered_at = FulfillmentStatus.DELIVERED, now
    OrderItem.objects.bulk_update(delivered, ["fulfillment_status", "delivered_at"])
    items_fulfillment_recorded(order=order, items=delivered)
    return order_follows_items(order, items, actor)


def _too_many(remaining: int, code: str) -> ErrorDetail:
    return ErrorDetail(f"Only {remaining} unit(s) of this item are left to ship.", code=code)
