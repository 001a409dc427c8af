"""Celery tasks: thin interfaces that call the service layer."""

from typing import Any

from celery import shared_task

from .events import relay_started
from .handlers import event_handle
from .idempotency import idempotency_keys_purge
from .outbox import outbox_publish_pending
from .services import orders_expire_pending


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def outbox_relay() -> int:
    """Queued after commits that wrote events, and run by beat as a sweep for anything left behind."""
    relay_started()
    return outbox_publish_pending()


@shared_task(
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=10,
    soft_time_limit=50,
    time_limit=60,
)
def handle_order_event(handler_name: str, envelope: dict[str, Any]) -> bool:
    """One of our own handlers (e.g. the confirmation email) for one event; a redelivery is a no-op."""
    return event_handle(handler_name=handler_name, envelope=envelope)


@shared_task(ignore_result=True, soft_time_limit=250, time_limit=300)
def expire_pending_orders() -> int:
    """Beat: fail pending orders older than ORDER_PENDING_TTL and give their stock back."""
    return orders_expire_pending()


@shared_task(ignore_result=True, soft_time_limit=250, time_limit=300)
def purge_idempotency_keys() -> int:
    """Beat: forget Idempotency-Keys older than 24 hours."""
    return idempotency_keys_purge()
