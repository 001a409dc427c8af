"""Order creation: price every line from the catalogue, take the stock, freeze the snapshots, and write
the order, its items, its history and its order.created event in one statement."""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from rest_framework.exceptions import ErrorDetail

from core.db import prefetched_attach
from core.exceptions import ApplicationError, ErrorKind
from core.sql import insert_rows, insert_sql
from orders import locks, representation
from orders.calculations import order_totals
from orders.error_codes import OrderErrorCode
from orders.events import record as events
from orders.events.schedule import relay_after_commit
from orders.locks import LINE_VARIANT_COLUMNS, LINE_VARIANTS_FILTER, LINE_VARIANTS_FROM
from orders.models import Order, OrderItem, OrderStatus, OrderStatusHistory, OutboxEvent
from orders.numbers import generate_order_number, with_fresh_number
from orders.snapshots import LockedVariant, customer_snapshot, product_snapshot
from products.models import Product, ProductStatus
from products.services import stock_take_statement
from users.models import User

INACTIVE_USER_MESSAGE = "Inactive users cannot order."


@dataclass(frozen=True)
class OrderLine:
    product_id: uuid.UUID
    quantity: int
    variant_id: uuid.UUID | None = None
    expected_unit_price_cents: int | None = None


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
    return with_fresh_number(
        lambda: _order_create(user, lines, dict(shipping_address), payment_method, notes), number_field="order_number"
    )


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
    prefetched_attach(order, "items", order_items)
    prefetched_attach(order, "shipments", [])  # none yet: order.created renders without a query for them
    _order_insert(
        order,
        order_items,
        stock_taken={variant.id: line.quantity for line, variant in zip(lines, variants, strict=True)},
        history=OrderStatusHistory(order=order, from_status=None, to_status=OrderStatus.PENDING, changed_by=user),
    )
    relay_after_commit()
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
    errors, _ = order_lines_check(lines=list(lines.values()))
    return {index: problems for index, problems in zip(lines, errors, strict=True) if problems}


def order_lines_check(
    *, lines: Sequence[OrderLine]
) -> tuple[list[dict[str, list[ErrorDetail]]], list[LockedVariant | None]]:
    """The catalogue's word on lines, read without locks, by the rules of a create: per line its problems
    and the variant it resolves to (None for a line with problems). A cart checks its lines with it."""
    with connection.cursor() as cursor:
        cursor.execute(_READ_VARIANTS_SQL, _line_keys(lines))
        variants = [_variant_of_row(row) for row in cursor.fetchall()]
    return _line_problems(lines, variants)


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
