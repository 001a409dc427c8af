"""Every write on orders: create, status transitions (cancel included). Views, admin, tasks and
commands call these; nothing else changes an order."""

import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind, not_found
from core.sql import insert_rows, insert_sql
from core.timestamps import utc_iso
from orders import locks, representation
from orders.calculations import order_totals
from orders.error_codes import OrderErrorCode
from orders.events import record as events
from orders.locks import LINE_VARIANT_COLUMNS, LINE_VARIANTS_FILTER, LINE_VARIANTS_FROM
from orders.models import FulfillmentStatus, Order, OrderItem, OrderStatus, OrderStatusHistory, OutboxEvent
from orders.services.refunds import order_refund_remaining
from orders.transitions import (
    STOCK_RELEASING,
    cancel_refusal,
    deliver_item_refusal,
    item_waits_to_ship,
    payment_status_after,
    refunds_on_entry,
    ship_item_refusal,
    staff_cancel_refusal,
    transition_refusal,
)
from products.locks import variants_lock
from products.models import Product, ProductStatus
from products.services import stock_release, stock_take_statement
from users.models import User

ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
ORDER_NUMBER_ATTEMPTS = 5
INACTIVE_USER_MESSAGE = "Inactive users cannot order."
# Items in these statuses take no further fulfillment step.
CLOSED_ITEM_STATUSES = frozenset({FulfillmentStatus.DELIVERED, FulfillmentStatus.CANCELLED, FulfillmentStatus.RETURNED})


@dataclass(frozen=True)
class OrderLine:
    product_id: uuid.UUID
    quantity: int
    variant_id: uuid.UUID | None = None
    expected_unit_price_cents: int | None = None


def generate_order_number() -> str:
    suffix = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    return f"ORD-{timezone.now():%Y%m%d}-{suffix}"


def customer_snapshot(user: User) -> dict[str, str]:
    return {"user_id": str(user.pk), "display_name": user.name_for_orders, "email": user.email, "phone": user.phone}


@dataclass(frozen=True, slots=True)
class LockedVariant:
    """A variant row locked for an order, with what pricing, checks and the snapshot read of its
    product and supplier (one query, no model instances: this runs on every checkout)."""

    id: uuid.UUID
    product_id: uuid.UUID
    name: str
    sku: str
    attributes: dict[str, str]
    price_cents: int
    stock_quantity: int
    product_name: str
    product_status: str
    currency: str
    image_url: str
    supplier_id: uuid.UUID
    supplier_name: str


def product_snapshot(variant: LockedVariant) -> dict[str, Any]:
    return {
        "product_id": str(variant.product_id),
        "variant_id": str(variant.id),
        "supplier_id": str(variant.supplier_id),
        "supplier_name": variant.supplier_name,
        "product_name": variant.product_name,
        "variant_name": variant.name,
        "variant_attributes": variant.attributes,
        "sku": variant.sku,
        "image_url": variant.image_url,
    }


def order_create(
    *,
    user: User,
    items: Sequence[OrderLine | Mapping[str, Any]],
    shipping_address: Mapping[str, str],
    payment_method: str,
    notes: str = "",
) -> Order:
    """Price every line from the catalogue, reserve stock, freeze the snapshots and create a pending
    order, all in one transaction. Problems with the request are all reported in one 400; lines that
    lack stock in one 409."""
    if not user.is_active:
        raise ApplicationError(ErrorKind.FORBIDDEN, INACTIVE_USER_MESSAGE)
    lines = [line if isinstance(line, OrderLine) else OrderLine(**line) for line in items]
    for attempt in range(ORDER_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                return _order_create(user, lines, dict(shipping_address), payment_method, notes)
        except IntegrityError as exc:
            # Random numbers collide about once in a billion orders a day; draw again.
            if attempt + 1 == ORDER_NUMBER_ATTEMPTS or not _is_order_number_clash(exc):
                raise
    raise AssertionError("unreachable")


def _is_order_number_clash(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return "order_number" in (getattr(diag, "constraint_name", "") or "")


def _order_create(user: User, lines: list[OrderLine], shipping_address: dict, payment_method: str, notes: str) -> Order:
    variants = _lock_line_variants(user, lines)
    _check_stock(lines, variants)
    order_items = [
        OrderItem(
            line_number=number,
            variant_id=variant.id,
            product_snapshot=product_snapshot(variant),
            quantity=line.quantity,
            unit_price_cents=variant.price_cents,
            total_cents=variant.price_cents * line.quantity,
        )
        for number, (line, variant) in enumerate(zip(lines, variants, strict=True), start=1)
    ]
    totals = order_totals(sum(item.total_cents for item in order_items))
    order = Order(
        order_number=generate_order_number(),
        user=user,
        payment_method=payment_method,
        currency=variants[0].currency,
        customer=customer_snapshot(user),
        shipping_address=shipping_address,
        subtotal_cents=totals.subtotal_cents,
        shipping_cents=totals.shipping_cents,
        tax_cents=totals.tax_cents,
        total_cents=totals.total_cents,
        item_count=sum(line.quantity for line in lines),
        notes=notes,
        last_event_sequence=1,  # counts the order.created event _order_insert writes
    )
    for item in order_items:
        item.order = order
    _attach_items(order, order_items)
    _order_insert(
        order,
        order_items,
        stock_taken={variant.id: line.quantity for line, variant in zip(lines, variants, strict=True)},
        history=OrderStatusHistory(order=order, from_status=None, to_status=OrderStatus.PENDING, changed_by=user),
    )
    events.relay_after_commit()
    return order


def _order_insert(
    order: Order, items: list[OrderItem], *, stock_taken: dict[uuid.UUID, int], history: OrderStatusHistory
) -> None:
    """Every write of a new order in one statement, so one round trip while the variant rows are locked:
    take the stock, insert the order, its items, its first history row and its order.created event."""
    stock_sql, stock_params = stock_take_statement(stock_taken)
    order_row, history_row = insert_rows([order]), insert_rows([history])  # stamps created_at
    event = events.event_build(
        order=order,
        event_type=events.EventType.ORDER_CREATED,
        data=representation.order_representation(order),
        sequence=1,
    )
    params = [*stock_params, order_row, history_row, insert_rows([event]), insert_rows(items)]
    # Data-modifying CTEs all run to completion; foreign keys are checked at the end of the statement.
    sql = (
        f"WITH stock AS ({stock_sql}), "
        f"new_order AS ({insert_sql(Order)}), "
        f"history AS ({insert_sql(OrderStatusHistory)}), "
        f"event AS ({insert_sql(OutboxEvent)}), "
        f"items AS ({insert_sql(OrderItem, returning='id, line_number')}) "
        "SELECT id FROM items ORDER BY line_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for item, (item_pk,) in zip(items, cursor.fetchall(), strict=True):
            item.pk = item_pk


def _attach_items(order: Order, order_items: list[OrderItem]) -> None:
    """Hand the order its items as if prefetched, so rendering costs no query."""
    order._prefetched_objects_cache = {"items": order_items}  # type: ignore[attr-defined]  # Django's own attribute


_READ_VARIANTS_SQL = f"SELECT {LINE_VARIANT_COLUMNS} {LINE_VARIANTS_FROM} WHERE {LINE_VARIANTS_FILTER}"


def _line_keys(lines: Sequence[OrderLine]) -> list[list[uuid.UUID]]:
    """The parameters of LINE_VARIANTS_FILTER: the variants named, and the products of lines naming none."""
    return [
        list({line.variant_id for line in lines if line.variant_id}),
        list({line.product_id for line in lines if not line.variant_id}),
    ]


def _variant_of_row(row: Sequence[Any]) -> LockedVariant:
    # Django has psycopg return jsonb as text (JSONField parses it); so does this raw query.
    values = list(row)
    values[4] = json.loads(values[4])
    return LockedVariant(*values)


def _lock_line_variants(user: User, lines: list[OrderLine]) -> list[LockedVariant]:
    """Resolve each line to its variant, locking the variant rows in primary-key order (the order every
    stock writer uses, so concurrent checkouts queue instead of deadlocking) and the user's row shared.
    Raises 403 for a user deactivated meanwhile, else one 400 with every problem of the request."""
    rows = locks.line_variants_lock(user_id=user.pk, line_keys=_line_keys(lines))
    if rows and not rows[0][-1]:  # u.is_active, read under the lock
        raise ApplicationError(ErrorKind.FORBIDDEN, INACTIVE_USER_MESSAGE)
    errors, resolved = _line_problems(lines, [_variant_of_row(row[:-1]) for row in rows])
    if any(errors):
        raise ApplicationError(ErrorKind.INVALID, {"items": errors})
    return resolved  # type: ignore[return-value]  # no None left once there are no errors


def order_lines_problems(*, lines: Mapping[int, OrderLine]) -> dict[int, dict[str, list[ErrorDetail]]]:
    """The catalogue problems of some lines of a request, by their index in it, read without locks: a
    request refused for other fields reports these in the same 400 (all problems at once)."""
    if not lines:
        return {}
    chosen = list(lines.values())
    with connection.cursor() as cursor:
        cursor.execute(_READ_VARIANTS_SQL, _line_keys(chosen))
        variants = [_variant_of_row(row) for row in cursor.fetchall()]
    errors, _ = _line_problems(chosen, variants)
    return {index: problems for index, problems in zip(lines, errors, strict=True) if problems}


def _line_problems(
    lines: Sequence[OrderLine], found: list[LockedVariant]
) -> tuple[list[dict[str, list[ErrorDetail]]], list[LockedVariant | None]]:
    """Per line: its problems with the catalogue (unknown, unavailable, other currency, repeated, price
    changed) and the variant it resolves to (None for a line with problems)."""
    by_id = {variant.id: variant for variant in found}
    by_product: dict[uuid.UUID, list[LockedVariant]] = {}
    for found_variant in found:
        by_product.setdefault(found_variant.product_id, []).append(found_variant)

    errors: list[dict[str, list[ErrorDetail]]] = [{} for _ in lines]
    resolved: list[LockedVariant | None] = []
    unknown_variant_lines = []
    for index, line in enumerate(lines):
        if line.variant_id:
            variant = by_id.get(line.variant_id)
            if variant is None or variant.product_id != line.product_id:
                unknown_variant_lines.append(index)
        else:
            candidates = by_product.get(line.product_id, [])
            variant = candidates[0] if len(candidates) == 1 else None
            if not candidates:
                errors[index]["product_id"] = [ErrorDetail("No such product.", code=OrderErrorCode.PRODUCT_NOT_FOUND)]
            elif len(candidates) > 1:
                errors[index]["variant_id"] = [
                    ErrorDetail("This product has several variants: choose one.", code=OrderErrorCode.VARIANT_REQUIRED)
                ]
        resolved.append(variant if not errors[index] and index not in unknown_variant_lines else None)

    if unknown_variant_lines:
        existing = set(
            Product.objects.filter(pk__in={lines[i].product_id for i in unknown_variant_lines}).values_list(
                "pk", flat=True
            )
        )
        for index in unknown_variant_lines:
            if lines[index].product_id in existing:
                errors[index]["variant_id"] = [
                    ErrorDetail("No such variant of this product.", code=OrderErrorCode.VARIANT_NOT_FOUND)
                ]
            else:
                errors[index]["product_id"] = [ErrorDetail("No such product.", code=OrderErrorCode.PRODUCT_NOT_FOUND)]

    currency = next((v.currency for v in resolved if v is not None and v.product_status == ProductStatus.ACTIVE), None)
    seen_variants: set[uuid.UUID] = set()
    for index, (line, variant) in enumerate(zip(lines, resolved, strict=True)):
        if variant is None:
            continue
        if variant.product_status != ProductStatus.ACTIVE:
            errors[index]["product_id"] = [
                ErrorDetail(
                    f"{variant.product_name} is not available for ordering.", code=OrderErrorCode.PRODUCT_UNAVAILABLE
                )
            ]
        elif variant.currency != currency:
            errors[index]["product_id"] = [
                ErrorDetail(
                    f"{variant.product_name} is priced in {variant.currency}, other lines in {currency}.",
                    code=OrderErrorCode.CURRENCY_MISMATCH,
                )
            ]
        if variant.id in seen_variants:
            errors[index]["variant_id"] = [
                ErrorDetail(
                    "This variant is already on another line of the order.", code=OrderErrorCode.DUPLICATE_VARIANT
                )
            ]
        seen_variants.add(variant.id)
        expected = line.expected_unit_price_cents
        if expected is not None and expected != variant.price_cents:
            errors[index]["expected_unit_price_cents"] = [
                ErrorDetail(
                    f"The price of {variant.sku} is now {variant.price_cents}, not {expected}.",
                    code=OrderErrorCode.PRICE_CHANGED,
                )
            ]
    return errors, resolved


def _check_stock(lines: list[OrderLine], variants: list[LockedVariant]) -> None:
    errors = [
        {
            "quantity": [
                ErrorDetail(
                    f"Only {variant.stock_quantity} left of {variant.sku}.", code=OrderErrorCode.INSUFFICIENT_STOCK
                )
            ]
        }
        if variant.stock_quantity < line.quantity
        else {}
        for line, variant in zip(lines, variants, strict=True)
    ]
    if any(errors):
        raise ApplicationError(ErrorKind.CONFLICT, {"items": errors}, code=OrderErrorCode.INSUFFICIENT_STOCK)


def _invalid_transition(message: str) -> ApplicationError:
    return ApplicationError(ErrorKind.CONFLICT, message, code=OrderErrorCode.INVALID_TRANSITION)


@transaction.atomic
def order_transition(
    *, order_id: uuid.UUID, to_status: str, actor: User | None, note: str = "", cancel_reason: str | None = None
) -> Order:
    """The one way an order's status changes: lock the row, check the move against the transition
    table, release stock on the way out, write history and events, all in one transaction.
    `actor` None means the system (a scheduled task)."""
    if to_status == OrderStatus.CANCELLED and (refusal := staff_cancel_refusal(actor)) is not None:
        raise ApplicationError(ErrorKind.FORBIDDEN, refusal)
    return _transition(locks.order_lock(order_id), to_status, actor, note, cancel_reason)


def _transition(
    order: Order, to_status: str, actor: User | None, note: str = "", cancel_reason: str | None = None
) -> Order:
    """order_transition on an order row this transaction already holds locked."""
    from_status = order.status
    refusal = transition_refusal(order, to_status)
    if refusal is not None:
        raise _invalid_transition(refusal)

    now = timezone.now()
    actor_id = str(actor.pk) if actor is not None else None
    items = list(order.items.all())
    changed_items: list[OrderItem] = []
    if to_status in STOCK_RELEASING:
        # Only units still in the warehouse go back; the status move happens once, so this runs once.
        stock_release({item.variant_id: item.quantity - item.shipped_quantity for item in items if item.variant_id})
        changed_items = _set_items(items, FulfillmentStatus.CANCELLED, when=lambda item: item.shipped_quantity == 0)
    elif to_status == OrderStatus.SHIPPED:
        # A staff move to shipped ships whatever was still waiting, so items agree with the order.
        changed_items = _set_items(
            items, FulfillmentStatus.SHIPPED, when=item_waits_to_ship, shipped_quantity=_all_units, shipped_at=now
        )
    elif to_status == OrderStatus.DELIVERED:
        changed_items = _set_items(items, FulfillmentStatus.DELIVERED, when=_is_open, delivered_at=now)
    items_fulfillment_recorded(order=order, items=changed_items)
    reason = cancel_reason if cancel_reason is not None else note
    if refunds_on_entry(to_status, order.payment_status):
        # The money goes back through the refund service (Refund row, order.refunded event), capped by
        # what is left of the total after the refunds of returns.
        order_refund_remaining(order=order, actor=actor, reason=reason or f"Order {to_status}")

    order.status = to_status
    order.payment_status = payment_status_after(to_status, order.payment_status)
    changed = ["status", "payment_status", "last_event_sequence", "updated_at"]
    OrderStatusHistory.objects.create(
        order=order, from_status=from_status, to_status=to_status, changed_by=actor, note=note
    )
    events.event_record(
        order=order,
        event_type=events.EventType.ORDER_STATUS_CHANGED,
        data={"from_status": from_status, "to_status": to_status, "changed_by": actor_id, "note": note},
    )
    if to_status == OrderStatus.CANCELLED:
        order.cancellation = {"reason": reason, "cancelled_at": utc_iso(now), "cancelled_by": actor_id}
        changed.append("cancellation")
        events.event_record(
            order=order,
            event_type=events.EventType.ORDER_CANCELLED,
            data={"order_number": order.order_number, "reason": reason, "cancelled_by": actor_id},
        )
    order.save(update_fields=changed)
    _attach_items(order, items)
    return order


def _is_open(item: OrderItem) -> bool:
    return item.fulfillment_status not in CLOSED_ITEM_STATUSES


def _all_units(item: OrderItem) -> int:
    return item.quantity


def _set_items(items: list[OrderItem], status: str, *, when, **values) -> list[OrderItem]:
    """Move the items `when` selects to `status` (a callable value is computed per item); returns them."""
    chosen = [item for item in items if when(item)]
    for item in chosen:
        item.fulfillment_status = status
        for field, value in values.items():
            setattr(item, field, value(item) if callable(value) else value)
    if chosen:
        OrderItem.objects.bulk_update(chosen, ["fulfillment_status", *values])
    return chosen


@transaction.atomic
def order_cancel(*, order_id: uuid.UUID, actor: User, reason: str) -> Order:
    """Customers cancel their own orders while pending or confirmed; staff with cancel_order also while
    processing. The order row lock in order_transition makes a second, concurrent cancel a 409."""
    order = locks.order_lock(order_id)
    refusal = cancel_refusal(actor, order)
    if refusal is not None:
        raise _invalid_transition(refusal)
    return _transition(order, OrderStatus.CANCELLED, actor, note=reason, cancel_reason=reason)


@transaction.atomic
def item_fulfill(
    *,
    order_id: uuid.UUID,
    item_id: str,
    actor: User,
    status: str,
    quantity: int | None = None,
    carrier: str | None = None,
    tracking_number: str | None = None,
) -> Order:
    """Ship some units of one item (partial shipments add up) or mark it delivered. When every
    non-cancelled item is shipped the order becomes shipped, when every one is delivered, delivered,
    through the same transition as a staff move, so history and events follow."""
    order = locks.order_lock(order_id)
    items = list(order.items.all())
    item = next((item for item in items if item.item_id == item_id), None)
    if item is None:
        raise not_found("No such item on this order.")
    now = timezone.now()
    if status == FulfillmentStatus.SHIPPED:
        _ship(order, item, quantity, carrier, tracking_number, now)
    else:
        refusal = deliver_item_refusal(order, item)
        if refusal is not None:
            raise _invalid_transition(refusal)
        item.fulfillment_status, item.delivered_at = FulfillmentStatus.DELIVERED, now
        item.save(update_fields=["fulfillment_status", "delivered_at"])
    items_fulfillment_recorded(order=order, items=[item])
    live = [item for item in items if item.fulfillment_status != FulfillmentStatus.CANCELLED]
    if order.status == OrderStatus.PROCESSING and all(
        i.fulfillment_status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED) for i in live
    ):
        _transition(order, OrderStatus.SHIPPED, actor, note="Every item shipped")
    if order.status == OrderStatus.SHIPPED and all(i.fulfillment_status == FulfillmentStatus.DELIVERED for i in live):
        _transition(order, OrderStatus.DELIVERED, actor, note="Every item delivered")
    order.save(update_fields=["last_event_sequence", "updated_at"])
    _attach_items(order, items)
    return order


def items_fulfillment_recorded(*, order: Order, items: Sequence[OrderItem]) -> None:
    """An order.item_fulfillment_changed event per item, in line order, in the caller's transaction:
    numbered on from the order's last event and inserted in one statement, however many items moved."""
    if not items:
        return
    recorded = []
    for item in sorted(items, key=lambda item: item.line_number):
        order.last_event_sequence += 1
        data = {
            "item_id": item.item_id,
            "fulfillment_status": item.fulfillment_status,
            "shipped_quantity": item.shipped_quantity,
            "carrier": item.carrier,
            "tracking_number": item.tracking_number,
        }
        recorded.append(
            events.event_build(
                order=order,
                event_type=events.EventType.ORDER_ITEM_FULFILLMENT_CHANGED,
                data=data,
                sequence=order.last_event_sequence,
            )
        )
    OutboxEvent.objects.bulk_create(recorded)
    events.relay_after_commit()


def _ship(
    order: Order, item: OrderItem, quantity: int | None, carrier: str | None, tracking_number: str | None, now
) -> None:
    refusal = ship_item_refusal(order, item)
    if refusal is not None:
        raise _invalid_transition(refusal)
    remaining = item.quantity - item.shipped_quantity
    quantity = remaining if quantity is None else quantity
    if quantity > remaining:
        problem = ErrorDetail(f"Only {remaining} unit(s) of this item are left to ship.", code=ErrorCode.INVALID)
        raise ApplicationError(ErrorKind.INVALID, {"quantity": [problem]})
    item.shipped_quantity += quantity
    item.fulfillment_status = (
        FulfillmentStatus.SHIPPED if item.shipped_quantity == item.quantity else FulfillmentStatus.PROCESSING
    )
    item.carrier = carrier or item.carrier
    item.tracking_number = tracking_number or item.tracking_number
    item.shipped_at = now
    item.save(update_fields=["shipped_quantity", "fulfillment_status", "carrier", "tracking_number", "shipped_at"])


def orders_expire_pending(*, batch_size: int = 100) -> int:
    """Fail pending orders older than ORDER_PENDING_TTL, giving their stock back. Rows a customer is
    working on right now are skipped (SKIP LOCKED) and picked up by the next run."""
    ttl = settings.ORDER_PENDING_TTL
    if not ttl:
        return 0
    expired = 0
    while True:
        with transaction.atomic():
            pending = Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=timezone.now() - ttl)
            batch = locks.unlocked_rows_claim(pending.order_by("created_at"), limit=batch_size)
            # Lock the batch's variants up front in primary-key order, the order every stock writer uses:
            # releasing them order by order would take them in created_at order and deadlock a checkout.
            variants_lock(OrderItem.objects.filter(order__in=batch).values("variant_id"))
            for order in batch:
                _transition(order, OrderStatus.FAILED, None, note="Expired: not confirmed in time")
        expired += len(batch)
        if len(batch) < batch_size:
            return expired
