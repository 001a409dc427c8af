"""The one table of allowed order status moves. Every status change is checked against it."""

from .models import OrderStatus, PaymentStatus

S = OrderStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.CANCELLED, S.FAILED}),
    S.CONFIRMED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
    S.FAILED: frozenset(),
}

# Statuses a customer may still cancel from; staff may also cancel while processing.
CUSTOMER_CANCELLABLE = frozenset({S.PENDING, S.CONFIRMED})

# Moving into these gives the order's reserved stock back.
STOCK_RELEASING = frozenset({S.CANCELLED, S.FAILED})


# Payment follows the order: confirming captures the payment, failing voids it, a refund refunds it.
PAYMENT_ON_ENTRY: dict[str, str] = {
    S.CONFIRMED: PaymentStatus.PAID,
    S.FAILED: PaymentStatus.FAILED,
    S.REFUNDED: PaymentStatus.REFUNDED,
}


def payment_status_after(to_status: str, payment_status: str) -> str:
    return PAYMENT_ON_ENTRY.get(to_status, payment_status)


def refunds_on_entry(to_status: str, payment_status: str) -> bool:
    """Whether moving into `to_status` gives money back (through the refund service, with its Refund row and
    order.refunded event): a move to refunded, and cancelling an order that was paid."""
    return to_status == S.REFUNDED or (to_status == S.CANCELLED and payment_status == PaymentStatus.PAID)


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())
