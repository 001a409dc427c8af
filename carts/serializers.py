"""Input and output shapes of the cart API; the rules are the services' (carts/services.py)."""

from rest_framework import serializers

from core.error_codes import ErrorCode
from core.fields import StrictCharField, StrictIntegerField
from orders.api.serializers import LinesInputMixin, OrderCreateSerializer, OrderLineInputSerializer
from orders.models import MAX_LINES, MAX_QUANTITY

# ---- input -----------------------------------------------------------------------------------------


class CartLineInputSerializer(OrderLineInputSerializer):
    # An order's line, minus the price check: the cart records the price it shows instead.
    expected_unit_price_cents = None


class CartReplaceSerializer(LinesInputMixin, serializers.Serializer):
    line_serializer = CartLineInputSerializer
    # Empty is allowed: it empties the cart.
    items = serializers.ListField(child=CartLineInputSerializer(), max_length=MAX_LINES)


class CartLineUpdateSerializer(serializers.Serializer):
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class CartOrderCreateSerializer(OrderCreateSerializer):
    """`POST /api/v1/orders/` with `from_cart`: the order's own fields, the cart instead of `items`."""

    items = None
    from_cart = serializers.BooleanField(help_text="true: order what the cart holds, and empty it.")

    def validate_from_cart(self, value: bool) -> bool:
        if self.initial_data.get("from_cart") is not True:  # JSON true, not "true" or 1
            raise serializers.ValidationError("Send true to order the cart, or send items.", code=ErrorCode.INVALID)
        return value

    def validate(self, attrs: dict) -> dict:
        attrs.pop("from_cart")
        return attrs


# ---- output ----------------------------------------------------------------------------------------


class CartWarningSerializer(serializers.Serializer):
    code = StrictCharField(help_text="insufficient_stock, price_changed or product_unavailable")
    detail = StrictCharField()


class CartLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField()
    product_name = StrictCharField()
    variant_name = StrictCharField()
    sku = StrictCharField()
    image_url = StrictCharField()
    currency = StrictCharField()
    quantity = serializers.IntegerField()
    unit_price_cents = serializers.IntegerField(help_text="The catalogue's price now.")
    expected_unit_price_cents = serializers.IntegerField(
        help_text="The price the cart showed when the line was last added or changed; an order from the cart "
        "is refused with price_changed unless it is still the price."
    )
    total_cents = serializers.IntegerField()
    available = serializers.BooleanField(help_text="Whether the product can be ordered (it is active).")
    warnings = CartWarningSerializer(many=True)


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    currency = StrictCharField(allow_null=True)
    item_count = serializers.IntegerField()
    subtotal_cents = serializers.IntegerField()
    shipping_cents = serializers.IntegerField()
    tax_cents = serializers.IntegerField()
    total_cents = serializers.IntegerField()
