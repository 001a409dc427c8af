"""The error codes the cart raises itself; a line's catalogue problems keep the codes of an order's line
(orders.error_codes), since they are the same problems."""

from enum import StrEnum


class CartErrorCode(StrEnum):
    # 400: an order from an empty cart
    CART_EMPTY = "cart_empty"
    # 400: a line more than a cart (and an order) may hold
    CART_FULL = "cart_full"
