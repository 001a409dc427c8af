"""The one table of allowed order status moves and every precondition of a move, as functions of
(actor, order): the services raise when one is false, the admin asks the same ones which buttons,
actions and choices to offer. A `*_refusal` function gives the reason a move is refused (None: allowed)."""

from core.exceptions import ApplicationError, ErrorKind
from order_project.permissions import has_staff_permission
from orders.error_codes import OrderErrorCode
from orders.models import (
    FulfillmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    PaymentStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from users.models import User

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
    # Partially refunded before it ships: an item was cancelled and its price refunded; the rest was paid.
    paid = payment_status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
    return to_status == S.REFUNDED or (to_status == S.CANCELLED and paid)


def status_allows(from_status: str, to_status: str) -> bool:
    """The table alone: whether any actor could move an order from `from_status` to `to_status`."""
    return to_status in ALLOWED_TRANSITIONS.get(from_status, frozenset())


# The Django permission behind each staff move: the API (StaffActionsMixin) and the admin ask for the same.
CANCEL_PERMISSION = "orders.cancel_order"
TRANSITION_PERMISSION = "orders.transition_order"
SHIP_PERMISSION = "orders.ship_order"
ADDRESS_PERMISSION = "orders.change_shipping_address"
VIEW_RETURNS_PERMISSION = "orders.view_returnrequest"
REVIEW_PERMISSION = "orders.review_returnrequest"


def transition_refusal(order: Order, to_status: str) -> str | None:
    if status_allows(order.status, to_status):
        return None
    return f"An order that is {order.status} cannot become {to_status}."


def can_transition(actor: User | None, order: Order, to_status: str) -> bool:
    """Whether `actor` (None: the system) may move `order` to `to_status`; a cancel has its own rule."""
    if to_status == S.CANCELLED:
        return can_cancel(actor, order)
    return transition_refusal(order, to_status) is None


def cancel_refusal(actor: User | None, order: Order) -> str | None:
    """Customers cancel while pending or confirmed; staff with cancel_order (and the system) whenever the
    table allows it."""
    refusal = transition_refusal(order, S.CANCELLED)
    if refusal is not None or order.status in CUSTOMER_CANCELLABLE:
        return refusal
    if actor is None or has_staff_permission(actor, CANCEL_PERMISSION):
        return None
    return f"An order that is {order.status} can no longer be cancelled by the customer."


def staff_cancel_refusal(actor: User | None) -> str | None:
    """A staff move to cancelled through the generic transition needs the cancel permission as well, as the
    admin's cancel action does (the system, actor None, may)."""
    if actor is None or has_staff_permission(actor, CANCEL_PERMISSION):
        return None
    return "Cancelling an order needs the permission to cancel orders."


def can_cancel(actor: User | None, order: Order) -> bool:
    return cancel_refusal(actor, order) is None


def allowed_transitions(actor: User | None, order: Order) -> frozenset[str]:
    """Every status `actor` may move `order` to now."""
    targets = ALLOWED_TRANSITIONS.get(order.status, frozenset())
    return frozenset(to_status for to_status in targets if can_transition(actor, order, to_status))


# ---- items ------------------------------------------------------------------------------------------

# Items in these statuses still have units to ship.
WAITING_ITEM_STATUSES = frozenset({FulfillmentStatus.PENDING, FulfillmentStatus.PROCESSING})


def can_ship(order: Order) -> bool:
    """Whether the order is at the stage where its items ship."""
    return order.status == S.PROCESSING


def item_waits_to_ship(item: OrderItem) -> bool:
    """Whether the item still has units to ship, whatever its order's status."""
    return item.fulfillment_status in WAITING_ITEM_STATUSES


def ship_item_refusal(order: Order, item: OrderItem) -> str | None:
    if not can_ship(order):
        return f"Items ship only while the order is processing; it is {order.status}."
    if not item_waits_to_ship(item):
        return f"This item is {item.fulfillment_status} and cannot ship."
    return None


def deliver_item_refusal(order: Order, item: OrderItem) -> str | None:
    if order.status not in (S.PROCESSING, S.SHIPPED):
        return f"Items are delivered only while the order is processing or shipped; it is {order.status}."
    if item.fulfillment_status != FulfillmentStatus.SHIPPED:
        return f"Only a fully shipped item can be delivered; this one is {item.fulfillment_status}."
    return None


def deliver_shipment_refusal(order: Order, shipment: Shipment) -> str | None:
    if order.status not in (S.PROCESSING, S.SHIPPED):
        return f"Shipments are delivered only while the order is processing or shipped; it is {order.status}."
    if shipment.delivered_at is not None:
        return "This shipment was delivered already."
    return None


# Statuses in which an order's items have not all left yet and its lines may still change.
OPEN_FOR_CHANGES = frozenset({S.PENDING, S.CONFIRMED, S.PROCESSING})


def cancel_item_refusal(order: Order, item: OrderItem) -> str | None:
    """An item is cancelled before any of its units ships, while the order itself could still be cancelled
    (the cancel permission is asked by staff_cancel_refusal, as for a whole order)."""
    if order.status not in OPEN_FOR_CHANGES:
        return f"Items are cancelled only before the order ships; it is {order.status}."
    if item.fulfillment_status == FulfillmentStatus.CANCELLED:
        return "This item is cancelled already."
    if item.shipped_quantity > 0:
        return f"{item.shipped_quantity} unit(s) of this item shipped already; it can no longer be cancelled."
    return None


def address_change_refusal(actor: User | None, order: Order, items: list[OrderItem]) -> str | None:
    """Staff with change_shipping_address (and the system) change the address until anything ships; the
    customer only while the order is pending."""
    if order.status not in OPEN_FOR_CHANGES:
        return f"The shipping address of an order that is {order.status} can no longer change."
    if any(item.shipped_quantity > 0 for item in items):
        return "Part of the order shipped already: its shipping address can no longer change."
    if order.status == S.PENDING or actor is None or has_staff_permission(actor, ADDRESS_PERMISSION):
        return None
    return f"An order that is {order.status} can no longer have its address changed by the customer."


# ---- support tools ------------------------------------------------------------------------------------

ADD_NOTE_PERMISSION = "orders.add_ordernote"
VIEW_NOTES_PERMISSION = "orders.view_ordernote"
RESEND_CONFIRMATION_PERMISSION = "orders.resend_confirmation"
REFRESH_SNAPSHOTS_PERMISSION = "orders.refresh_snapshots"
VIEW_REFUNDS_PERMISSION = "orders.view_refund"


def snapshot_refresh_refusal(order: Order) -> str | None:
    """Snapshots follow the catalogue only while the order is pending: from confirmation on, the order is
    what the customer agreed to."""
    if order.status == S.PENDING:
        return None
    return f"Product snapshots are frozen once an order is confirmed; this one is {order.status}."


def can_refresh_snapshots(order: Order) -> bool:
    return snapshot_refresh_refusal(order) is None


def invalid_transition(refusal: str) -> ApplicationError:
    """The 409 a service raises for a move one of the refusals above forbids."""
    return ApplicationError(ErrorKind.CONFLICT, refusal, code=OrderErrorCode.INVALID_TRANSITION)


# ---- returns -----------------------------------------------------------------------------------------


def review_refusal(return_request: ReturnRequest) -> str | None:
    if return_request.status != ReturnStatus.PENDING:
        return f"Return {return_request.return_number} was already {return_request.status}."
    return None


def can_review(actor: User | None, return_request: ReturnRequest) -> bool:
    """Whether `actor` may approve or reject the return now: the admin's buttons ask this."""
    return has_staff_permission(actor, REVIEW_PERMISSION) and review_refusal(return_request) is None
