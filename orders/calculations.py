"""Money rules for an order, in integer minor units. Rates and thresholds are settings; formatting and
parsing amounts is core/money.py."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class OrderTotals:
    subtotal_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int


def order_totals(subtotal_cents: int, *, shipping_at_most: int | None = None) -> OrderTotals:
    """`shipping_at_most`: the shipping an order was charged, when its lines shrink (an item cancelled):
    giving up an item never costs the customer shipping they did not pay before."""
    shipping = 0 if subtotal_cents >= settings.ORDER_FREE_SHIPPING_FROM_CENTS else settings.ORDER_SHIPPING_CENTS
    if shipping_at_most is not None:
        shipping = min(shipping, shipping_at_most)
    # Tax on the subtotal, rounded half up in integer arithmetic (no floats anywhere in money).
    tax = (subtotal_cents * settings.ORDER_TAX_RATE_BASIS_POINTS + 5000) // 10000
    return OrderTotals(subtotal_cents, shipping, tax, subtotal_cents + shipping + tax)
