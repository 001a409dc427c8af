"""The relay side of the transactional outbox: publish committed events to RabbitMQ, in order, once
the broker confirmed them. At-least-once: a crash between the broker's confirm and our commit sends
the event again, with the same event_id, which consumers use to drop duplicates. Events are claimed,
published and marked published in batches of OUTBOX_BATCH_SIZE, each committed before the next is
claimed, so a crash sends again at most the batch in flight."""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from amqp import Message
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from kombu import Producer

from orders.events.broker import BatchPublisher, KeptConnection, events_exchange
from orders.events.handlers import MAX_ITEMS_PER_TASK, HandlerItem, handler_names
from orders.locks import outbox_batch_claim
from orders.models import OutboxEvent, OutboxStatus

logger = logging.getLogger(__name__)

# One relay run publishes at most this many events; the sweep or the next relay takes the rest.
MAX_EVENTS_PER_RUN = 5000
# Queued by name: the relay never imports the tasks module, which imports it (orders/tasks.py).
HANDLE_EVENTS_TASK = "orders.tasks.handle_order_events"
# A batch whose confirms take longer is published again (by the next relay, after its backoff).
CONFIRM_TIMEOUT_SECONDS = 10


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 2 s, 4 s, 8 s, ... capped at OUTBOX_MAX_BACKOFF_SECONDS."""
    return timedelta(seconds=min(2**attempts, settings.OUTBOX_MAX_BACKOFF_SECONDS))


def outbox_publish_pending(*, batch_size: int | None = None, max_events: int = MAX_EVENTS_PER_RUN) -> int:
    """Publish due events batch by batch (OUTBOX_BATCH_SIZE), each batch committed; returns how many were
    published."""
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    published = 0
    for _ in range(-(-max_events // batch_size)):
        count, more = _publish_batch(batch_size)
        published += count
        if not more:
            break
    return published


@dataclass(frozen=True)
class ClaimedEvent:
    """An outbox row as the relay claims it: its payload is the stored JSON text, published as it is."""

    id: uuid.UUID
    order_id: uuid.UUID
    sequence: int
    event_type: str
    request_id: str
    payload_json: str
    first_unpublished: int  # of the event's order


def _publish_batch(batch_size: int) -> tuple[int, bool]:
    with transaction.atomic():
        # An event behind an earlier one of its order that failed or is backing off is not claimed: one
        # stuck order cannot fill every batch and stall the rest (orders/locks.py outbox_batch_claim).
        claimed = [ClaimedEvent(*row) for row in outbox_batch_claim(now=timezone.now(), limit=batch_size)]
        if not claimed:
            return 0, False
        ready = _in_order(claimed)
        if not ready:
            return 0, False
        try:
            _publish(ready)
        except Exception as exc:
            _record_failure([event.id for event in ready], exc)
            return 0, False
        # Every row gets the same two values: one plain UPDATE, not bulk_update's per-row CASE.
        OutboxEvent.objects.filter(pk__in=[event.id for event in ready]).update(
            status=OutboxStatus.PUBLISHED, published_at=timezone.now()
        )
        return len(ready), len(claimed) == batch_size


def _in_order(claimed: list[ClaimedEvent]) -> list[ClaimedEvent]:
    """Keep, per order, only the events that come next: if an earlier event of the same order is still
    unpublished and not in our batch (another relay holds it, or it is backing off), this order waits,
    so one order's events always reach the broker in sequence."""
    by_order: dict[uuid.UUID, list[ClaimedEvent]] = defaultdict(list)
    for event in claimed:
        by_order[event.order_id].append(event)
    ready = []
    for order_events in by_order.values():
        order_events.sort(key=lambda event: event.sequence)
        expected = order_events[0].first_unpublished
        for event in order_events:
            if event.sequence != expected:
                break
            ready.append(event)
            expected += 1
    return ready


def _publish(events: list[ClaimedEvent]) -> None:
    """Publish to the exchange for downstream services, and queue our own handlers (emails) as one Celery
    task for the batch (more only past MAX_ITEMS_PER_TASK items): per-task overhead, not the handlers,
    was most of the worker's CPU with a task per event. Everything is sent on one channel, and the
    broker's confirms are awaited once, for the whole batch, before the rows are marked published. Any
    failure fails the batch: it is retried whole, and duplicates are dropped by event_id (the handlers'
    inbox for ours)."""
    publisher, opened = _publishing_connection.get(settings.EVENTS_BROKER_URL)
    items: list[HandlerItem] = []
    try:
        if opened:
            events_exchange()(publisher.channel).declare()  # once per connection, as kombu's maybe_declare
        for event in events:
            publisher.channel.basic_publish(
                _event_message(event), exchange=settings.EVENTS_EXCHANGE, routing_key=event.event_type
            )
            # The handlers read the event from the outbox by its id: the task carries no payload to encode,
            # send through the broker and decode again.
            items.extend([name, str(event.id), event.request_id or None] for name in handler_names(event.event_type))
        # Queued after every event of the batch was sent, confirmed with them, before the rows are marked
        # published: if queueing fails, the whole batch is published again.
        for start in range(0, len(items), MAX_ITEMS_PER_TASK):
            _handlers_queue(items[start : start + MAX_ITEMS_PER_TASK], publisher=publisher)
        publisher.confirms_wait(timeout=CONFIRM_TIMEOUT_SECONDS)
    except Exception:
        _publishing_connection.forget()
        raise


def _event_message(event: ClaimedEvent) -> Message:
    """The AMQP message of an event (docs/API.md "Events"), built for py-amqp's channel directly: kombu's
    Producer.publish, which would build the same message, cost a seventh of the relay's CPU per event."""
    return Message(
        event.payload_json.encode(),  # the stored JSON as it is: not parsed and serialized again
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,  # persistent
        message_id=str(event.id),
        application_headers={
            "event_type": event.event_type,
            "order_id": str(event.order_id),
            "request_id": event.request_id or None,
        },
    )


def _handlers_queue(items: list[HandlerItem], *, publisher: BatchPublisher) -> None:
    """Queue one handler task, on the events' channel (confirmed with the batch) when Celery's broker is
    the events' one, else through Celery's own producer (which waits for its confirm)."""
    conf = current_app.conf
    if (conf.broker_write_url or conf.broker_url) != settings.EVENTS_BROKER_URL:
        current_app.send_task(HANDLE_EVENTS_TASK, args=[items], retry=False, argsrepr=_argsrepr(items))
        return
    producer = Producer(publisher.channel)
    current_app.send_task(HANDLE_EVENTS_TASK, args=[items], retry=False, producer=producer, argsrepr=_argsrepr(items))


def _argsrepr(items: list[HandlerItem]) -> str:
    """The task's arguments as logs and monitoring show them: each item's handler and event id, without
    Celery's saferepr of the whole list."""
    return f"[{len(items)} items: " + ", ".join(f"{item[0]} {item[1]}" for item in items) + "]"


_publishing_connection = KeptConnection(BatchPublisher)


def _record_failure(event_ids: list[uuid.UUID], exc: Exception) -> None:
    now = timezone.now()
    events = list(OutboxEvent.objects.filter(pk__in=event_ids))  # locked by our claim
    for event in events:
        event.attempts += 1
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        event.next_attempt_at = now + retry_delay(event.attempts)
        if event.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            event.status = OutboxStatus.FAILED
    OutboxEvent.objects.bulk_update(events, ["attempts", "last_error", "next_attempt_at", "status"])
    logger.warning("Publishing %d order events failed: %s", len(events), exc)


def outbox_lag() -> dict[str, int | float | None]:
    """How far the relay is behind: pending events and the age in seconds of the oldest one.
    Served by the partial index on pending rows, so it is cheap enough for /health/."""
    pending = OutboxEvent.objects.filter(status=OutboxStatus.PENDING).aggregate(n=Count("pk"), oldest=Min("created_at"))
    oldest = pending["oldest"]
    return {
        "pending": pending["n"],
        "oldest_pending_age_seconds": round((timezone.now() - oldest).total_seconds(), 3) if oldest else None,
    }


def outbox_stats() -> dict[str, int | float | None]:
    """outbox_lag plus failed and published counts (published scans the table: for operators, not probes)."""
    counts = dict(
        OutboxEvent.objects.exclude(status=OutboxStatus.PENDING)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        **outbox_lag(),
        **{status: counts.get(status, 0) for status in (OutboxStatus.FAILED, OutboxStatus.PUBLISHED)},
    }


def outbox_retry(*, event_ids) -> int:
    """Put failed events back in the queue (admin action); returns how many."""
    return OutboxEvent.objects.filter(pk__in=event_ids, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
