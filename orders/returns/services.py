"""Returns and refunds: a customer asks to send back delivered units, staff approve or reject once.

Every write here locks the order row first (locks.order_lock), the same lock every other order
writer takes, so a return request and a review of the same order never interleave: two concurrent
requests cannot return more units than were delivered, and two concurrent reviews cannot refund more
than was paid. Order status changes go through locked_order_transition (history and events follow);
events go through events.event_record in the same transaction.

The refund cap
--------------
An approval refunds at most what the customer paid for the returned units:

    for each returned line:  unit_price_cents * quantity
                           + tax_cents      * line_subtotal // subtotal_cents   (rounded down)
                           + shipping_cents * line_subtotal // subtotal_cents   (rounded down)

where line_subtotal = unit_price_cents * returned quantity, and nothing else is deducted. The
approval that brings back the order's last units (after it, every unit of every line has been
returned) is capped at the total minus the caps of the returns approved before it: it takes the
cents the per-line rounding left behind, so returning everything can refund exactly the total.

On top of that, and whatever the unit cap says, a refund is never more than the order's total minus
the refunds already made. The database enforces the same rule: Order.refunded_cents is increased
with an atomic `UPDATE ... SET refunded_cents = refunded_cents + n`, and the CHECK constraint
`order_refunded_within_total` (0 <= refunded_cents <= total_cents) refuses any sum above the total.

A staff move of a delivered order to `refunded` refunds the rest of the total the same way
(refunds.order_refund_remaining): a Refund row with the move's note as its reason, and an order.refunded event."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.db import prefetched_attach
from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind, not_found
from order_project.permissions import order_visibility
from orders import locks
from orders.error_codes import OrderErrorCode
from orders.events import record as events
from orders.models import (
    FulfillmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusHistory,
    Refund,
    ReturnItem,
    ReturnRequest,
    ReturnStatus,
)
from orders.numbers import generate_return_number, with_fresh_number
from orders.representation import return_representation
from orders.services.lifecycle import locked_order_transition
from orders.services.refunds import refund_add, refund_event_record
from orders.transitions import review_refusal
from products.services import stock_release
from users.models import User

# Pending and approved returns hold their units: nobody can ask to return them again.
HOLDING_STATUSES = (ReturnStatus.PENDING, ReturnStatus.APPROVED)
# Units of an item in these statuses have reached the customer.
DELIVERED_ITEM_STATUSES = (FulfillmentStatus.DELIVERED, FulfillmentStatus.RETURNED)


@dataclass(frozen=True)
class ReturnLine:
    item_id: str
    quantity: int


@dataclass(frozen=True)
class RefundCap:
    units_cents: int  # what the customer paid for the returned units (the module docstring's rule)
    remaining_cents: int  # the order's total minus refunds already made

    @property
    def cents(self) -> int:
        return max(0, min(self.units_cents, self.remaining_cents))


def order_delivered_at(order: Order) -> datetime | None:
    """When the order was delivered: its (latest) move into `delivered` in the history, or else the
    latest delivery of one of its items."""
    moved = (
        OrderStatusHistory.objects.filter(order=order, to_status=OrderStatus.DELIVERED)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if moved is not None:
        return moved
    return order.items.aggregate(last=Max("delivered_at"))["last"]


def return_window_closes_at(order: Order) -> datetime | None:
    delivered_at = order_delivered_at(order)
    if delivered_at is None:
        return None
    return delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)


# ---- request ---------------------------------------------------------------------------------------


def return_request(
    *,
    order_id: uuid.UUID,
    actor: User,
    reason: str,
    reason_category: str,
    items: Sequence[ReturnLine | Mapping[str, Any]],
    description: str = "",
) -> ReturnRequest:
    """Ask to return delivered units of one order (its owner or staff). The order must be delivered
    and within RETURN_WINDOW_DAYS of delivery (409 otherwise); each line names an item once and at most
    the units delivered and not already held by a pending or approved return (400, all lines at once)."""
    lines = [line if isinstance(line, ReturnLine) else ReturnLine(**line) for line in items]
    return with_fresh_number(
        lambda: _return_request(order_id, actor, reason, reason_category, lines, description),
        number_field="return_number",
    )


def _return_request(
    order_id: uuid.UUID, actor: User, reason: str, reason_category: str, lines: list[ReturnLine], description: str
) -> ReturnRequest:
    order = locks.order_lock(order_id)
    if not order_visibility(actor).allows(order):
        raise not_found()
    if order.status != OrderStatus.DELIVERED:
        raise _not_returnable(f"Only a delivered order can be returned; this one is {order.status}.")
    closes_at = return_window_closes_at(order)
    if closes_at is None or timezone.now() > closes_at:
        raise ApplicationError(
            ErrorKind.CONFLICT,
            f"Items can be returned within {settings.RETURN_WINDOW_DAYS} days of delivery; that time is over.",
            code=OrderErrorCode.RETURN_WINDOW_CLOSED,
        )

    order_items = {item.item_id: item for item in order.items.all()}
    available = returnable_quantities(order, order_items.values())
    errors: list[dict[str, list[ErrorDetail]]] = [{} for _ in lines]
    seen: set[str] = set()
    for index, line in enumerate(lines):
        item = order_items.get(line.item_id)
        if item is None:
            errors[index]["item_id"] = [ErrorDetail("No such item on this order.", code=OrderErrorCode.ITEM_NOT_FOUND)]
        elif line.item_id in seen:
            errors[index]["item_id"] = [
                ErrorDetail("This item is already on another line of the return.", code=OrderErrorCode.DUPLICATE_ITEM)
            ]
        elif line.quantity > available[item.pk]:
            errors[index]["quantity"] = [
                ErrorDetail(
                    f"Only {available[item.pk]} unit(s) of {line.item_id} can still be returned.",
                    code=OrderErrorCode.RETURN_QUANTITY_EXCEEDED,
                )
            ]
        seen.add(line.item_id)
    if any(errors):
        raise ApplicationError(ErrorKind.INVALID, {"items": errors})

    request = ReturnRequest(
        return_number=generate_return_number(),
        order=order,
        reason=reason,
        reason_category=reason_category,
        description=description,
        requested_by=actor,
    )
    request.save(force_insert=True)
    return_items = ReturnItem.objects.bulk_create(
        ReturnItem(return_request=request, order_item=order_items[line.item_id], quantity=line.quantity)
        for line in lines
    )
    request.order = order
    prefetched_attach(request, "items", return_items)
    events.event_record(
        order=order, event_type=events.EventType.ORDER_RETURN_REQUESTED, data=return_representation(request)
    )
    order.save(update_fields=["last_event_sequence", "updated_at"])
    return request


def returnable_quantities(order: Order, items: Iterable[OrderItem]) -> dict[int, int]:
    """Per order item (by pk): delivered units minus units held by pending or approved returns."""
    held = dict(
        ReturnItem.objects.filter(order_item__order=order, return_request__status__in=HOLDING_STATUSES)
        .values("order_item")
        .annotate(units=Sum("quantity"))
        .values_list("order_item", "units")
    )
    return {item.pk: max(0, _delivered_units(item) - held.get(item.pk, 0)) for item in items}


def _delivered_units(item: OrderItem) -> int:
    return item.shipped_quantity if item.fulfillment_status in DELIVERED_ITEM_STATUSES else 0


# ---- review ----------------------------------------------------------------------------------------


@transaction.atomic
def return_review(
    *,
    return_id: uuid.UUID,
    actor: User,
    decision: str,
    notes: str,
    refund_cents: int | None = None,
    restock: bool = False,
    empty_refund_is_cap: bool = False,
) -> ReturnRequest:
    """Approve or reject a pending return, once (a second review is 409). An approval marks the units
    returned on their items, gives them back to stock if `restock`, and refunds `refund_cents`
    (at most refund_cap(), see the module docstring): a Refund row, Order.refunded_cents and
    payment_status move, and the order becomes `refunded` once everything paid has been refunded.
    An approval needs `refund_cents` (0 for none), unless `empty_refund_is_cap` (the admin's empty
    field): then None refunds the cap, computed under the order lock. A rejection takes neither a refund
    nor a restock. Those are checked first, so a malformed review is a 400 whatever the return."""
    _check_review(decision, refund_cents, restock, empty_refund_is_cap=empty_refund_is_cap)
    order_id = ReturnRequest.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise not_found()
    # The order row first, as every order writer does; the return is read again under that lock.
    order = locks.order_lock(order_id)
    request = locks.return_request_lock(return_id)
    if (refusal := review_refusal(request)) is not None:
        raise ApplicationError(ErrorKind.CONFLICT, refusal, code=OrderErrorCode.RETURN_ALREADY_REVIEWED)
    return_items = list(request.items.select_related("order_item").order_by("order_item__line_number", "id"))

    now = timezone.now()
    request.reviewed_at, request.reviewed_by, request.review_notes = now, actor, notes
    refund: Refund | None = None
    changed_items: list[OrderItem] = []
    if decision == ReturnStatus.APPROVED:
        cap = refund_cap(order=order, return_request=request, return_items=return_items)
        if refund_cents is None:
            refund_cents = cap.cents
        if refund_cents and order.status != OrderStatus.DELIVERED:
            raise _not_returnable(f"The order is {order.status}: nothing is left to refund.")
        _check_refund(refund_cents, cap)
        changed_items = _take_back(return_items)
        if restock:
            stock_release(_restock_quantities(return_items))
        if refund_cents:
            refund = refund_add(order, refund_cents, actor, reason=notes, return_request=request)
        request.status, request.refund_cents, request.restock = ReturnStatus.APPROVED, refund_cents, restock
    else:
        request.status = ReturnStatus.REJECTED
    request.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_notes", "refund_cents", "restock"])

    request.order = order
    prefetched_attach(request, "items", return_items)
    events.event_record(
        order=order, event_type=events.EventType.ORDER_RETURN_REVIEWED, data=return_representation(request)
    )
    events.items_fulfillment_recorded(order=order, items=changed_items)
    if refund is not None:
        refund_event_record(order=order, refund=refund)
        if order.refunded_cents == order.total_cents and order.status == OrderStatus.DELIVERED:
            note = f"Fully refunded ({request.return_number})"
            locked_order_transition(order, OrderStatus.REFUNDED, actor, note=note)
    order.save(update_fields=["payment_status", "last_event_sequence", "updated_at"])
    return request


def _check_review(decision: str, refund_cents: int | None, restock: bool, *, empty_refund_is_cap: bool) -> None:
    """The review's rule: an approval names its refund (0 for none), a rejection refunds and restocks nothing."""
    problems: dict[str, list[ErrorDetail]] = {}
    if decision == ReturnStatus.APPROVED:
        if refund_cents is None and not empty_refund_is_cap:
            problems["refund_cents"] = [
                ErrorDetail("An approval needs a refund amount (0 for none).", ErrorCode.REQUIRED)
            ]
    else:
        if refund_cents is not None:
            problems["refund_cents"] = [ErrorDetail("Only an approval refunds.", ErrorCode.INVALID)]
        if restock:
            problems["restock"] = [ErrorDetail("Only an approval restocks.", ErrorCode.INVALID)]
    if problems:
        raise ApplicationError(ErrorKind.INVALID, problems)


def refund_cap(*, order: Order, return_request: ReturnRequest, return_items: list[ReturnItem]) -> RefundCap:
    """The most an approval of `return_request` may refund (module docstring). Reads the returns
    approved before it; call it with the order row locked for a number that still holds at commit."""
    remaining = order.total_cents - order.refunded_cents
    lines = [(ri.order_item, ri.quantity) for ri in return_items]
    previous = list(
        ReturnItem.objects.filter(return_request__order=order, return_request__status=ReturnStatus.APPROVED)
        .exclude(return_request=return_request)
        .select_related("order_item")
    )
    returned_after: defaultdict[int, int] = defaultdict(int)
    for ri in previous:
        returned_after[ri.order_item_id] += ri.quantity
    for item, quantity in lines:
        returned_after[item.pk] += quantity
    # A cancelled item never shipped and is no longer in the total: it has no units to bring back.
    every_unit_back = all(
        returned_after[item.pk] >= item.quantity
        for item in order.items.all()
        if item.fulfillment_status != FulfillmentStatus.CANCELLED
    )
    if every_unit_back:
        paid_before = sum(_paid_for(order, ri.order_item, ri.quantity) for ri in previous)
        units = order.total_cents - paid_before
    else:
        units = sum(_paid_for(order, item, quantity) for item, quantity in lines)
    return RefundCap(units_cents=units, remaining_cents=remaining)


def return_refund_cap(*, return_request: ReturnRequest) -> RefundCap:
    """refund_cap() of a return as things stand now (no lock): what a reviewer may refund at most."""
    order = return_request.order
    return_items = list(return_request.items.select_related("order_item"))
    return refund_cap(order=order, return_request=return_request, return_items=return_items)


def _paid_for(order: Order, item: OrderItem, quantity: int) -> int:
    """unit price * quantity plus the line's shares of tax and shipping, each rounded down."""
    line_subtotal = item.unit_price_cents * quantity
    if order.subtotal_cents <= 0:
        return line_subtotal
    tax_share = order.tax_cents * line_subtotal // order.subtotal_cents
    shipping_share = order.shipping_cents * line_subtotal // order.subtotal_cents
    return line_subtotal + tax_share + shipping_share


def _check_refund(refund_cents: int, cap: RefundCap) -> None:
    if refund_cents > cap.units_cents:
        message = f"At most {max(cap.units_cents, 0)} can be refunded for these units."
        raise _refund_refused(message, OrderErrorCode.REFUND_EXCEEDS_PAID)
    if refund_cents > cap.remaining_cents:
        message = f"Only {max(cap.remaining_cents, 0)} of the order's total is left to refund."
        raise _refund_refused(message, OrderErrorCode.REFUND_EXCEEDS_REMAINING)


def _refund_refused(message: str, code: OrderErrorCode) -> ApplicationError:
    return ApplicationError(ErrorKind.INVALID, {"refund_cents": [ErrorDetail(message, code=code)]})


def _not_returnable(message: str) -> ApplicationError:
    return ApplicationError(ErrorKind.CONFLICT, message, code=OrderErrorCode.ORDER_NOT_RETURNABLE)


def _take_back(return_items: list[ReturnItem]) -> list[OrderItem]:
    """Count the units as returned on their items; an item whose delivered units are all back becomes
    `returned`. Returns the items whose fulfillment status changed."""
    changed = []
    for ri in return_items:
        item = ri.order_item
        item.returned_quantity += ri.quantity
        if item.returned_quantity >= item.shipped_quantity and item.fulfillment_status != FulfillmentStatus.RETURNED:
            item.fulfillment_status = FulfillmentStatus.RETURNED
            changed.append(item)
    OrderItem.objects.bulk_update([ri.order_item for ri in return_items], ["returned_quantity", "fulfillment_status"])
    return changed


def _restock_quantities(return_items: list[ReturnItem]) -> dict[Any, int]:
    """Variants deleted since the order are skipped (their item keeps no live variant)."""
    quantities: dict[Any, int] = defaultdict(int)
    for ri in return_items:
        if ri.order_item.variant_id:
            quantities[ri.order_item.variant_id] += ri.quantity
    return dict(quantities)


# ---- shared ----------------------------------------------------------------------------------------
