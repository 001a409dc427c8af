"""Every write on carts: add, change, remove and replace lines, and turn the cart into an order. Each
locks the cart's row first (carts/locks.py). Lines are checked against the catalogue by the rules of an
order create (orders.services.create.order_lines_check), so a line the cart took is one an order takes, and
its problems carry the same codes."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ErrorDetail

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind, not_found
from orders.models import MAX_LINES, MAX_QUANTITY, Order
from orders.services.create import OrderLine, order_create, order_lines_check
from orders.snapshots import LockedVariant
from users.models import User

from . import locks
from .error_codes import CartErrorCode
from .models import Cart, CartLine

LineProblems = dict[str, list[ErrorDetail]]


def _cart_lines(cart: Cart) -> list[CartLine]:
    """The cart's lines in their order (what `items.N` of an order from it counts)."""
    return list(cart.lines.select_related("variant").order_by("position"))


def _as_order_line(line: CartLine, *, with_price: bool) -> OrderLine:
    return OrderLine(
        product_id=line.variant.product_id,
        variant_id=line.variant_id,
        quantity=line.quantity,
        expected_unit_price_cents=line.expected_unit_price_cents if with_price else None,
    )


def _check_line(cart_lines: list[CartLine], line: OrderLine) -> tuple[LineProblems, LockedVariant | None]:
    """One line's catalogue problems next to the lines the cart holds (so a currency other than theirs is
    refused as on an order), and the variant it resolves to. A variant already in the cart is not a
    problem here: the caller adds to that line."""
    errors, resolved = order_lines_check(lines=[*(_as_order_line(c, with_price=False) for c in cart_lines), line])
    problems = errors[-1]
    variant = resolved[-1]
    if variant is not None and variant.id in {c.variant_id for c in cart_lines}:
        problems.pop("variant_id", None)  # duplicate_variant: the existing line grows instead
    return problems, variant


def _quantity_over(quantity: int) -> ApplicationError:
    problem = ErrorDetail(
        f"A line holds at most {MAX_QUANTITY} units; this would make {quantity}.", code=ErrorCode.MAX_VALUE
    )
    return ApplicationError(ErrorKind.INVALID, {"quantity": [problem]})


def _touch(cart: Cart) -> Cart:
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic
def cart_line_add(*, user: User, product_id: uuid.UUID, quantity: int, variant_id: uuid.UUID | None = None) -> Cart:
    """Add a product (variant) to the user's cart, or add to its line if the cart has it. The line records
    the price the cart now shows. Quantity over stock is not refused: the cart shows a warning."""
    cart = locks.cart_lock(user_id=user.pk)
    lines = _cart_lines(cart)
    problems, variant = _check_line(lines, OrderLine(product_id=product_id, variant_id=variant_id, quantity=quantity))
    if problems or variant is None:
        raise ApplicationError(ErrorKind.INVALID, problems)
    existing = next((line for line in lines if line.variant_id == variant.id), None)
    if existing is not None:
        if existing.quantity + quantity > MAX_QUANTITY:
            raise _quantity_over(existing.quantity + quantity)
        existing.quantity += quantity
        existing.expected_unit_price_cents = variant.price_cents
        existing.save(update_fields=["quantity", "expected_unit_price_cents", "updated_at"])
        return _touch(cart)
    if len(lines) >= MAX_LINES:
        raise ApplicationError(
            ErrorKind.INVALID,
            f"A cart holds at most {MAX_LINES} lines, as an order does.",
            code=CartErrorCode.CART_FULL,
        )
    CartLine.objects.create(
        cart=cart,
        variant_id=variant.id,
        position=lines[-1].position + 1 if lines else 1,
        quantity=quantity,
        expected_unit_price_cents=variant.price_cents,
    )
    return _touch(cart)


def _own_line(cart: Cart, line_id: uuid.UUID) -> CartLine:
    # Another customer's line is not in this cart: a 404, as for anything of theirs.
    line = cart.lines.select_related("variant").filter(pk=line_id).first()
    if line is None:
        raise not_found("No such line in your cart.")
    return line


@transaction.atomic
def cart_line_update(*, user: User, line_id: uuid.UUID, quantity: int) -> Cart:
    """Set a line's quantity. The line is checked again and records the price the cart now shows: sending
    the same quantity accepts a changed price."""
    cart = locks.cart_lock(user_id=user.pk)
    line = _own_line(cart, line_id)
    others = [other for other in _cart_lines(cart) if other.pk != line.pk]
    problems, variant = _check_line(
        others, OrderLine(product_id=line.variant.product_id, variant_id=line.variant_id, quantity=quantity)
    )
    if problems or variant is None:
        # The body names no product: the line's problems are the request's, at no field (attr null).
        raise ApplicationError(ErrorKind.INVALID, [detail for details in problems.values() for detail in details])
    line.quantity, line.expected_unit_price_cents = quantity, variant.price_cents
    line.save(update_fields=["quantity", "expected_unit_price_cents", "updated_at"])
    return _touch(cart)


@transaction.atomic
def cart_line_remove(*, user: User, line_id: uuid.UUID) -> Cart:
    cart = locks.cart_lock(user_id=user.pk)
    _own_line(cart, line_id).delete()
    return _touch(cart)


@transaction.atomic
def cart_replace(*, user: User, items: Sequence[Mapping[str, Any]]) -> Cart:
    """Replace every line of the cart (none empties it). All lines are checked together, as an order's
    are: every problem is reported at once at `items.N.<field>`, and nothing changes."""
    cart = locks.cart_lock(user_id=user.pk)
    lines = [OrderLine(**item) for item in items]
    errors, resolved = order_lines_check(lines=lines)
    if any(errors):
        raise ApplicationError(ErrorKind.INVALID, {"items": errors})
    cart.lines.all().delete()
    CartLine.objects.bulk_create(
        CartLine(
            cart=cart,
            variant_id=variant.id,
            position=position,
            quantity=line.quantity,
            expected_unit_price_cents=variant.price_cents,
        )
        for position, (line, variant) in enumerate(zip(lines, resolved, strict=True), start=1)
        if variant is not None
    )
    return _touch(cart)


@transaction.atomic
def cart_order_create(
    *, user: User, shipping_address: Mapping[str, str], payment_method: str, notes: str = ""
) -> Order:
    """Turn the user's cart into an order and empty it, in one transaction. The order is made by the same
    create as a direct one (locks, snapshots, stock), each line expecting the price the cart showed, so a
    changed price or a product gone is the same 400 at `items.N` (N: the line's place in the cart). The
    cart's row stays locked to the end: of two orders from one cart at once, the second finds it empty."""
    cart = locks.existing_cart_lock(user_id=user.pk)
    lines = _cart_lines(cart) if cart is not None else []
    if cart is None or not lines:
        problem = ErrorDetail("Your cart is empty: add items to it first.", code=CartErrorCode.CART_EMPTY)
        raise ApplicationError(ErrorKind.INVALID, {"from_cart": [problem]})
    order = order_create(
        user=user,
        items=[_as_order_line(line, with_price=True) for line in lines],
        shipping_address=shipping_address,
        payment_method=payment_method,
        notes=notes,
    )
    CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
    _touch(cart)
    return order
