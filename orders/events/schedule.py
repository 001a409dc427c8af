"""After an order's transaction commits, have a worker relay its events: at most one relay task queued
at a time, and an order never waits on, or fails because of, a broker that is down."""

import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from kombu import Connection, Producer

from core.circuit import cache_or_fallback, relay_queue_circuit
from orders.events.broker import KeptConnection

logger = logging.getLogger(__name__)


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


def _open_for_queueing(url: str) -> Connection:
    # A short connect timeout and no retries: Celery's own producer pool retries a down broker with
    # backoff (~6 s of a request).
    return current_app.connection_for_write(
        url, connect_timeout=settings.OUTBOX_RELAY_CONNECT_TIMEOUT, transport_options={"max_retries": 0}
    )


_queueing_connection = KeptConnection(_open_for_queueing)


def _queue_relay() -> None:
    """Queue outbox_relay on this thread's kept broker connection. A kept connection that went stale since
    its last use gets one fresh one."""
    conf = current_app.conf
    url = conf.broker_write_url or conf.broker_url
    for _ in range(2):
        connection, fresh = _queueing_connection.get(url)
        try:
            current_app.send_task(
                RELAY_TASK, countdown=settings.OUTBOX_RELAY_DELAY_SECONDS, retry=False, producer=Producer(connection)
            )
            return
        except Exception:
            _queueing_connection.forget()
            if fresh:
                raise  # a new connection failed: the broker is down, not just our kept connection


def relay_started() -> None:
    """Called by the relay before it looks for events: commits from now on queue a new relay. Without the
    cache the key is gone in OUTBOX_RELAY_QUEUED_TTL_SECONDS anyway, and the sweep covers the meantime."""
    cache_or_fallback(lambda: cache.delete(RELAY_QUEUED_KEY), fallback=None)
