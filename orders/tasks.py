"""Celery tasks: thin interfaces that call the service layer."""

from celery import shared_task

from .outbox import outbox_publish_pending


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def outbox_relay() -> int:
    """Queued after each commit that wrote events, and run by beat as a sweep for anything left behind."""
    return outbox_publish_pending()
