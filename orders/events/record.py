"""The write side of the transactional outbox: every order event is a row in the order's own transaction."""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from django.utils import timezone

from core.request_id import current_request_id
from core.timestamps import utc_iso
from orders.events.schedule import relay_after_commit
from orders.models import Order, OrderItem, OutboxEvent

SCHEMA_VERSION = 1


class EventType(StrEnum):
    """Every event type: the one list the services, handlers and admin filter use."""

    ORDER_CREATED = "order.created"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_ITEM_FULFILLMENT_CHANGED = "order.item_fulfillment_changed"
    ORDER_RETURN_REQUESTED = "order.return_requested"
    ORDER_RETURN_REVIEWED = "order.return_reviewed"
    ORDER_REFUNDED = "order.refunded"
    ORDER_CONFIRMATION_RESEND_REQUESTED = "order.confirmation_resend_requested"
    ORDER_SHIPMENT_CREATED = "order.shipment_created"
    ORDER_ITEM_CANCELLED = "order.item_cancelled"
    ORDER_ADDRESS_CHANGED = "order.address_changed"


def event_record(*, order: Order, event_type: EventType, data: dict[str, Any]) -> OutboxEvent:
    """Write one event for `order` in the caller's transaction. The caller holds the order row locked and
    saves the advanced `last_event_sequence` with the rest of its change, so one order's events are
    numbered without gaps."""
    order.last_event_sequence += 1
    event = event_build(order=order, event_type=event_type, data=data, sequence=order.last_event_sequence)
    event.save(force_insert=True)
    relay_after_commit()
    return event


def event_build(*, order: Order, event_type: EventType, data: dict[str, Any], sequence: int) -> OutboxEvent:
    """The unsaved outbox row of one event; order creation inserts it with the order, in one statement."""
    event = OutboxEvent(
        order=order, event_type=event_type, sequence=sequence, request_id=current_request_id.get() or ""
    )
    event.payload = {
        "event_id": str(event.id),
        "event_type": event_type,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": utc_iso(timezone.now()),
        "order_id": str(order.id),
        "order_number": order.order_number,
        "data": data,
    }
    return event


def items_fulfillment_recorded(*, order: Order, items: Sequence[OrderItem]) -> None:
    """An order.item_fulfillment_changed event per item, in line order, in the caller's transaction:
    numbered on from the order's last event and inserted in one statement, however many items moved."""
    if not items:
        return
    recorded = []
    for item in sorted(items, key=lambda item: item.line_number):
        order.last_event_sequence += 1
        data = {
            "item_id": item.item_id,
            "fulfillment_status": item.fulfillment_status,
            "shipped_quantity": item.shipped_quantity,
            "carrier": item.carrier,
            "tracking_number": item.tracking_number,
        }
        recorded.append(
            event_build(
                order=order,
                event_type=EventType.ORDER_ITEM_FULFILLMENT_CHANGED,
                data=data,
                sequence=order.last_event_sequence,
            )
        )
    OutboxEvent.objects.bulk_create(recorded)
    relay_after_commit()
