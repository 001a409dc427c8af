"""Celery tasks: thin interfaces that call the service layer."""

import logging
import time

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from core.idempotency import idempotency_keys_purge
from orders.events.handlers import HandlerItem, events_handle, item_key
from orders.events.relay import HANDLE_EVENTS_TASK, outbox_publish_pending
from orders.events.schedule import RELAY_TASK, relay_started
from orders.services.lifecycle import orders_expire_pending

logger = logging.getLogger(__name__)


@shared_task(name=RELAY_TASK, ignore_result=True, soft_time_limit=50, time_limit=60)
def outbox_relay() -> int:
    """Queued after commits that wrote events, and run by beat as a sweep for anything left behind."""
    relay_started()
    return outbox_publish_pending()


# Leave the items not started by then to a retry, well before the soft time limit interrupts one.
HANDLE_EVENTS_DEADLINE_SECONDS = 30  # + one send stalled for EMAIL_TIMEOUT (10 s) < the 50 s soft limit
# The handlers' retry policy, for the autoretry below and the retry of failed items alike.
HANDLE_EVENTS_MAX_RETRIES = 10
HANDLE_EVENTS_BACKOFF_MAX_SECONDS = 600


@shared_task(
    name=HANDLE_EVENTS_TASK,
    bind=True,
    ignore_result=True,
    # Anything raised outside the per-item handling retries the whole batch: items already done are
    # no-ops then, through the inbox.
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=HANDLE_EVENTS_BACKOFF_MAX_SECONDS,
    max_retries=HANDLE_EVENTS_MAX_RETRIES,
    soft_time_limit=50,
    time_limit=60,
)
def handle_order_events(self, items: list[HandlerItem]) -> int:
    """Our own handlers (e.g. confirmation emails) for one relay batch: items are [handler_name, event_id,
    request_id], at most handlers.MAX_ITEMS_PER_TASK. One task per batch instead of one per event and handler saves
    the per-task overhead; each item is still at most once (inbox), and only the items that failed are
    retried, with the backoff the autoretry policy above gives (1, 2, 4, ... s with jitter, at most 600 s,
    10 retries). Returns how many items were done or had been done before."""
    failed, error = events_handle(items=items, deadline=time.monotonic() + HANDLE_EVENTS_DEADLINE_SECONDS)
    if failed:
        if self.request.retries >= self.max_retries:
            logger.error(
                "Giving up on %d handler items after %d retries: %s",
                len(failed),
                self.request.retries,
                [item_key(item) for item in failed],
            )
        # What autoretry_for computes: 0..2**retries s (full jitter), at most the backoff maximum.
        countdown = get_exponential_backoff_interval(
            factor=1, retries=self.request.retries, maximum=HANDLE_EVENTS_BACKOFF_MAX_SECONDS, full_jitter=True
        )
        raise self.retry(args=[failed], exc=error, countdown=countdown)
    return len(items)


@shared_task(ignore_result=True)
def handle_order_event(handler_name: str, envelope: dict) -> None:
    """The per-event task of the previous release, kept for one release so the messages it left queued
    (and its scheduled retries) are not dropped as unknown during a rolling deploy: each becomes a
    one-item batch. Nothing queues it any more."""
    handle_order_events.delay([[handler_name, envelope]])


@shared_task(ignore_result=True, soft_time_limit=250, time_limit=300)
def expire_pending_orders() -> int:
    """Beat: fail pending orders older than ORDER_PENDING_TTL and give their stock back."""
    return orders_expire_pending()


@shared_task(ignore_result=True, soft_time_limit=250, time_limit=300)
def purge_idempotency_keys() -> int:
    """Beat: forget Idempotency-Keys older than 24 hours."""
    return idempotency_keys_purge()
