"""Every row lock of the cart. A cart write locks the cart's row first, so writes of one cart queue: two
adds of one variant make one line, the line limit holds, and two orders from one cart make one order.
Only the order from a cart locks more (the variants, after the cart: orders.services.create.order_create), and
nothing locks a cart after a variant, so the two never deadlock."""

import uuid

from .models import Cart


def cart_lock(*, user_id: uuid.UUID) -> Cart:
    """The user's cart, created on first use and locked. Created by INSERT ... ON CONFLICT DO NOTHING on the
    one-cart-per-user constraint, so two first writes at once make one cart and neither fails."""
    Cart.objects.bulk_create([Cart(user_id=user_id)], ignore_conflicts=True)
    return Cart.objects.select_for_update(of=("self",)).get(user_id=user_id)


def existing_cart_lock(*, user_id: uuid.UUID) -> Cart | None:
    """The user's cart, locked, if they have one (an order from a cart creates none)."""
    return Cart.objects.select_for_update(of=("self",)).filter(user_id=user_id).first()
