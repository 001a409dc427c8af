"""The cart as the customer sees it: each line at the catalogue's current price, with what would stop or
change it as an order (warnings, never errors: nothing is reserved), and totals by the orders' own
calculation (orders.calculations.order_totals)."""

from typing import Any

from orders.calculations import order_totals
from orders.error_codes import OrderErrorCode
from products.models import ProductStatus
from users.models import User

from .models import CartLine


def _warning(code: OrderErrorCode, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


def _line_view(line: CartLine) -> dict[str, Any]:
    variant = line.variant
    product = variant.product
    available = product.status == ProductStatus.ACTIVE
    warnings = []
    if not available:
        warnings.append(_warning(OrderErrorCode.PRODUCT_UNAVAILABLE, f"{product.name} is not available for ordering."))
    if variant.price_cents != line.expected_unit_price_cents:
        warnings.append(
            _warning(
                OrderErrorCode.PRICE_CHANGED,
                f"The price of {variant.sku} is now {variant.price_cents}, not {line.expected_unit_price_cents}: "
                "update the line to accept it.",
            )
        )
    if variant.stock_quantity < line.quantity:
        warnings.append(
            _warning(OrderErrorCode.INSUFFICIENT_STOCK, f"Only {max(variant.stock_quantity, 0)} left of {variant.sku}.")
        )
    return {
        "id": line.pk,
        "product_id": product.pk,
        "variant_id": variant.pk,
        "product_name": product.name,
        "variant_name": variant.name,
        "sku": variant.sku,
        "image_url": product.image_url,
        "currency": product.currency,
        "quantity": line.quantity,
        "unit_price_cents": variant.price_cents,
        "expected_unit_price_cents": line.expected_unit_price_cents,
        "total_cents": variant.price_cents * line.quantity,
        "available": available,
        "warnings": warnings,
    }


def cart_detail(*, user: User) -> dict[str, Any]:
    """The user's cart, in one query (empty if they have none yet: reading creates nothing)."""
    lines = [
        _line_view(line)
        for line in CartLine.objects.filter(cart__user=user).select_related("variant__product").order_by("position")
    ]
    # The totals are what the order would cost: the lines that can be ordered, priced by the orders' rules.
    orderable = [line for line in lines if line["available"]]
    subtotal = sum(line["total_cents"] for line in orderable)
    totals = order_totals(subtotal) if orderable else None
    return {
        "lines": lines,
        "currency": orderable[0]["currency"] if orderable else None,
        "item_count": sum(line["quantity"] for line in orderable),
        "subtotal_cents": subtotal,
        "shipping_cents": totals.shipping_cents if totals else 0,
        "tax_cents": totals.tax_cents if totals else 0,
        "total_cents": totals.total_cents if totals else 0,
    }
