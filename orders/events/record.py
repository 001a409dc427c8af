"""The write side of the transactional outbox: every order event is a row in the order's own transaction."""

import logging
import threading
from enum import StrEnum
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from kombu import Producer

from core.circuit import cache_or_fallback, relay_queue_circuit
from core.request_id import current_request_id
from core.timestamps import utc_iso
from orders.models import Order, OutboxEvent

logger = logging.getLogger(__name__)

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


def relay_after_commit() -> None:
    """Have the relay publish what this transaction wrote to the outbox, once it commits."""
    if settings.OUTBOX_RELAY_ON_COMMIT:
        # robust: the order is committed by then, and nothing this callback raises may turn it into an error
        # response (a client would retry and buy twice); Django logs what it catches.
        transaction.on_commit(_relay_soon, robust=True)


# Set while a relay task is queued and not yet started: that relay will publish every event committed
# before it starts, so further commits need not queue another one (one Redis round trip, not a publish).
RELAY_QUEUED_KEY = "outbox:relay-queued"

# Queued by name: event code never imports the tasks module, which imports it (orders/tasks.py).
RELAY_TASK = "orders.tasks.outbox_relay"


def _relay_soon() -> None:
    """Ask a worker to publish shortly after commit. If the broker or the cache is down the order still
    succeeded: the event row waits and the periodic sweep publishes it. After a failure to queue, commits
    skip the broker for OUTBOX_RELAY_CIRCUIT_SECONDS instead of each waiting for its timeout."""
    if relay_queue_circuit.is_open():
        return
    # Without the cache, every commit queues a relay (no debouncing): more tasks, none lost.
    if not cache_or_fallback(
        lambda: cache.add(RELAY_QUEUED_KEY, 1, timeout=settings.OUTBOX_RELAY_QUEUED_TTL_SECONDS), fallback=True
    ):
        return
    try:
        _queue_relay()
    except Exception:
        relay_queue_circuit.trip(seconds=settings.OUTBOX_RELAY_CIRCUIT_SECONDS)
        cache_or_fallback(lambda: cache.delete(RELAY_QUEUED_KEY), fallback=None)
        logger.warning("Could not queue the outbox relay; the periodic sweep will publish the event", exc_info=True)


_relay_connection = threading.local()


def _queue_relay() -> None:
    """Queue outbox_relay on this thread's kept broker connection, which connects with a short timeout and
    never retries: Celery's own producer pool retries a down broker with backoff (~6 s of a request). A kept
    connection that went stale since its last use gets one fresh one."""
    conf = current_app.conf
    for _ in range(2):
        url = conf.broker_write_url or conf.broker_url
        connection: Any = getattr(_relay_connection, "connection", None)  # a kombu Connection (untyped)
        fresh = connection is None or getattr(_relay_connection, "url", None) != url
        if fresh:
            if connection is not None:  # kept for another broker URL (settings changed): close it
                connection.release()
            connection = current_app.connection_for_write(
                url, connect_timeout=settings.OUTBOX_RELAY_CONNECT_TIMEOUT, transport_options={"max_retries": 0}
            )
            _relay_connection.connection, _relay_connection.url = connection, url
        try:
            current_app.send_task(
                RELAY_TASK, countdown=settings.OUTBOX_RELAY_DELAY_SECONDS, retry=False, producer=Producer(connection)
            )
            return
        except Exception:
            _relay_connection.connection = None
            connection.release()
            if fresh:
                raise  # a new connection failed: the broker is down, not just our kept connection


def relay_started() -> None:
    """Called by the relay before it looks for events: commits from now on queue a new relay. Without the
    cache the key is gone in OUTBOX_RELAY_QUEUED_TTL_SECONDS anyway, and the sweep covers the meantime."""
    cache_or_fallback(lambda: cache.delete(RELAY_QUEUED_KEY), fallback=None)
