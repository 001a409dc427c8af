"""Shipments as rows: writing one parcel and keeping its items' fulfilment fields equal to what their
shipments add up to. The services that ship (orders/services/fulfillment.py) and the staff move to
shipped (orders/services/lifecycle.py) all write parcels here; the caller holds the order row locked,
has checked the move (orders/transitions.py) and saves the order's advanced event counter."""

from collections.abc import Sequence
from datetime import datetime

from core.db import prefetched_attach
from orders.events import record as events
from orders.models import FulfillmentStatus, Order, OrderItem, Shipment, ShipmentItem
from orders.representation import SHIPMENT_FIELDS, represent
from users.models import User

# The item fields a shipment changes.
SHIPPED_ITEM_FIELDS = ["shipped_quantity", "fulfillment_status", "carrier", "tracking_number", "shipped_at"]


def shipment_record(
    *,
    order: Order,
    lines: Sequence[tuple[OrderItem, int]],
    carrier: str,
    tracking_number: str,
    actor: User | None,
    now: datetime,
) -> Shipment:
    """One parcel of `lines` (item, units): its rows, the items' shipped units and status, an
    order.shipment_created event and an order.item_fulfillment_changed per item, in the caller's
    transaction. The parcel keeps its own carrier and tracking number; an item shows its latest ones."""
    shipment = Shipment(order=order, carrier=carrier, tracking_number=tracking_number, shipped_at=now, created_by=actor)
    shipment.save(force_insert=True)
    rows = [ShipmentItem(shipment=shipment, order_item=item, quantity=quantity) for item, quantity in lines]
    ShipmentItem.objects.bulk_create(rows)
    items = [item for item, _ in lines]
    for item, quantity in lines:
        item.shipped_quantity += quantity
        item.fulfillment_status = (
            FulfillmentStatus.SHIPPED if item.shipped_quantity == item.quantity else FulfillmentStatus.PROCESSING
        )
        item.carrier = carrier or item.carrier
        item.tracking_number = tracking_number or item.tracking_number
        item.shipped_at = now
    OrderItem.objects.bulk_update(items, SHIPPED_ITEM_FIELDS)
    for row, item in zip(rows, items, strict=True):
        row.order_item = item  # the representation names each line by its item
    prefetched_attach(shipment, "items", rows)  # rendered below without a query
    events.event_record(
        order=order, event_type=events.EventType.ORDER_SHIPMENT_CREATED, data=represent(SHIPMENT_FIELDS, shipment)
    )
    events.items_fulfillment_recorded(order=order, items=items)
    return shipment


def shipments_delivered_with(*, order: Order, items: Sequence[OrderItem], now: datetime) -> None:
    """Mark delivered the order's undelivered shipments whose every item is now delivered: an item
    delivered on its own (or by the staff move to delivered) delivers the parcels it was the last of."""
    delivered = {item.pk for item in items if item.fulfillment_status == FulfillmentStatus.DELIVERED}
    open_shipments = Shipment.objects.filter(order=order, delivered_at__isnull=True)
    undelivered_lines = ShipmentItem.objects.filter(shipment__in=open_shipments).exclude(order_item__in=delivered)
    open_shipments.exclude(pk__in=undelivered_lines.values("shipment_id")).update(delivered_at=now)
