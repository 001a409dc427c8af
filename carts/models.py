"""A customer's cart: lines they mean to order, checked against the catalogue as they are added. Nothing
is reserved: stock is taken only when the cart becomes an order (carts/services.py)."""

import uuid

from django.conf import settings
from django.db import models

from orders.models import units_in_range
from products.models import ProductVariant


class Cart(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # One cart per customer: the unique constraint (OneToOne) is what makes creating it on first use
    # race-free (carts/locks.py inserts ON CONFLICT DO NOTHING, then locks the one row).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart of {self.user_id}"


class CartLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    # A variant removed from the catalogue takes its cart lines with it: there is nothing left to order.
    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="cart_lines")
    # The line's place in the cart, from 1: lines are listed (and ordered from the cart, `items.N`) in this order.
    position = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    # The unit price the cart showed when the line was last added or changed: the order made from the cart
    # is refused with `price_changed` if the catalogue's price is no longer this one.
    expected_unit_price_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cart", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_variant_unique"),
            # Also the index a cart's lines are read by, in order.
            models.UniqueConstraint(fields=["cart", "position"], name="cart_line_position_unique"),
            units_in_range("cart_line_quantity_range"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"
