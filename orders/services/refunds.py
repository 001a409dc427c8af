"""Refunds: money back on an order, whether for a return (returns.py) or a staff move to `refunded`
(services.py), each a Refund row and an order.refunded event in the caller's transaction."""

from django.db import IntegrityError, transaction
from django.db.models import F

from core.db import violated_constraint
from core.exceptions import ApplicationError, ErrorKind
from orders.error_codes import OrderErrorCode
from orders.events import record as events
from orders.models import Order, OrderItem, PaymentStatus, Refund, ReturnRequest
from users.models import User


def order_refund_remaining(*, order: Order, actor: User | None, reason: str) -> Refund | None:
    """Refund what is left of a locked order's total (the total minus the refunds already made), with
    its Refund row and order.refunded event: what a staff move to `refunded` gives back. None when
    nothing is left (the last return's approval refunded the rest)."""
    remaining = order.total_cents - order.refunded_cents
    if remaining <= 0:
        return None
    refund = refund_add(order, remaining, actor, reason=reason)
    refund_event_record(order=order, refund=refund)
    return refund


def item_cancellation_refund(*, order: Order, item: OrderItem, amount: int, actor: User | None, reason: str) -> Refund:
    """Pay back what a cancelled item took off a paid order's total, with its Refund row and order.refunded
    event, in the caller's transaction. Not added to refunded_cents: the total itself went down by it, and
    refunded_cents counts refunds against the total that is left (the cap of later refunds)."""
    order.payment_status = PaymentStatus.PARTIALLY_REFUNDED
    refund = Refund(
        order=order, cancelled_item=item, amount_cents=amount, currency=order.currency, reason=reason, created_by=actor
    )
    refund.save(force_insert=True)
    refund_event_record(order=order, refund=refund)
    return refund


def refund_event_record(*, order: Order, refund: Refund) -> None:
    """The order.refunded event of `refund`, in the caller's transaction."""
    request = refund.return_request
    events.event_record(
        order=order,
        event_type=events.EventType.ORDER_REFUNDED,
        data={
            "refund_id": str(refund.pk),
            "return_id": None if request is None else str(request.pk),
            "return_number": None if request is None else request.return_number,
            "item_id": None if refund.cancelled_item is None else refund.cancelled_item.item_id,
            "amount_cents": refund.amount_cents,
            "currency": refund.currency,
            "reason": refund.reason,
            "refunded_cents": order.refunded_cents,
            "total_cents": order.total_cents,
            "payment_status": order.payment_status,
            "refunded_by": None if refund.created_by_id is None else str(refund.created_by_id),
        },
    )


def refund_add(
    order: Order, amount: int, actor: User | None, *, reason: str, return_request: ReturnRequest | None = None
) -> Refund:
    """Record the refund and add it to Order.refunded_cents in one atomic UPDATE; the CHECK constraint
    turns any sum above the total into a 409, even if a caller skipped refund_cap()."""
    try:
        with transaction.atomic():
            Order.objects.filter(pk=order.pk).update(refunded_cents=F("refunded_cents") + amount)
    except IntegrityError as exc:
        if violated_constraint(exc) == "order_refunded_within_total":
            raise ApplicationError(
                ErrorKind.CONFLICT,
                f"A refund of {amount} would take the refunds past the order's total.",
                code=OrderErrorCode.REFUND_EXCEEDS_TOTAL,
            )
        raise
    order.refunded_cents = Order.objects.values_list("refunded_cents", flat=True).get(pk=order.pk)
    order.payment_status = (
        PaymentStatus.REFUNDED if order.refunded_cents >= order.total_cents else PaymentStatus.PARTIALLY_REFUNDED
    )
    refund = Refund(
        order=order,
        return_request=return_request,
        amount_cents=amount,
        currency=order.currency,
        reason=reason,
        created_by=actor,
    )
    refund.save(force_insert=True)
    return refund
