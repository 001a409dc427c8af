"""Our own reactions to order events (customer emails). Each runs at most once per event and handler:
the inbox row and the work commit together, so a redelivered event is a no-op."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from . import events
from .calculations import format_money
from .models import Order, ProcessedEvent

Handler = Callable[[dict[str, Any]], None]


def _customer_email(envelope: dict[str, Any]) -> str:
    customer = envelope["data"].get("customer")
    if customer is None:
        customer = Order.objects.filter(pk=envelope["order_id"]).values_list("customer", flat=True).first() or {}
    return customer.get("email", "")


def send_order_confirmation(envelope: dict[str, Any]) -> None:
    order = envelope["data"]
    lines = "\n".join(
        f"  {item['quantity']} x {item['product_snapshot']['product_name']} ({item['product_snapshot']['sku']})"
        for item in order["items"]
    )
    _mail(
        envelope,
        subject=f"Your order {order['order_number']}",
        body=f"Thank you for your order {order['order_number']}.\n\n{lines}\n\n"
        f"Total: {format_money(order['total_cents'], order['currency'])}\n",
    )


def send_cancellation_notice(envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    _mail(
        envelope,
        subject=f"Your order {data['order_number']} was cancelled",
        body=f"Your order {data['order_number']} was cancelled.\nReason: {data['reason']}\n",
    )


def _mail(envelope: dict[str, Any], *, subject: str, body: str) -> None:
    recipient = _customer_email(envelope)
    if recipient:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


HANDLERS: dict[str, dict[str, Handler]] = {
    events.ORDER_CREATED: {"order_confirmation_email": send_order_confirmation},
    events.ORDER_CANCELLED: {"order_cancellation_email": send_cancellation_notice},
}


def handler_names(event_type: str) -> list[str]:
    return list(HANDLERS.get(event_type, {}))


def event_handle(*, handler_name: str, envelope: dict[str, Any]) -> bool:
    """Run one handler for one event unless it already ran; returns whether it ran now."""
    handler = HANDLERS[envelope["event_type"]][handler_name]
    with transaction.atomic():
        try:
            # The unique row is taken first: a concurrent duplicate waits here, then finds it taken.
            with transaction.atomic():
                ProcessedEvent.objects.create(handler=handler_name, event_id=envelope["event_id"])
        except IntegrityError:
            return False
        handler(envelope)
    return True
