from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .events import utc_iso
from .models import (
    FulfillmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusHistory,
    PaymentMethod,
)

MAX_LINES = 100
MAX_QUANTITY = 1000


# ---- input -----------------------------------------------------------------------------------------


class OrderLineInputSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    expected_unit_price_cents = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class ShippingAddressSerializer(serializers.Serializer):
    recipient_name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    street_address_1 = serializers.CharField(max_length=200)
    street_address_2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    zip_code = serializers.CharField(max_length=20)
    country = serializers.RegexField(
        r"^[A-Z]{2}$", max_length=2, error_messages={"invalid": "Use an ISO 3166-1 alpha-2 code such as US."}
    )


class OrderCreateSerializer(serializers.Serializer):
    # A ListField, not `many=True`: an empty or too long list is reported at `items`, not `items.non_field_errors`.
    items = serializers.ListField(child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES)
    shipping_address = ShippingAddressSerializer()
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(min_length=3, max_length=500)


class OrderTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ItemFulfillmentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED])
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, required=False, help_text="Units to ship; defaults to all remaining"
    )
    carrier = serializers.CharField(max_length=50, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)


# ---- output ----------------------------------------------------------------------------------------


class CustomerSnapshotSerializer(serializers.Serializer):
    user_id = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class ProductSnapshotSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    variant_id = serializers.CharField()
    supplier_id = serializers.CharField()
    supplier_name = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField()
    variant_attributes = serializers.DictField(child=serializers.CharField())
    sku = serializers.CharField()
    image_url = serializers.CharField()


class CancellationSerializer(serializers.Serializer):
    reason = serializers.CharField()
    cancelled_at = serializers.DateTimeField()
    cancelled_by = serializers.CharField(allow_null=True)


def frozen_json(component) -> serializers.JSONField:
    """A read-only field that returns a stored JSONB snapshot as it is, documented as `component`."""
    name = f"{getattr(component, '__name__', type(component).__name__)}Json"
    return extend_schema_field(component)(type(name, (serializers.JSONField,), {}))(read_only=True)


class OrderItemSerializer(serializers.ModelSerializer):
    item_id = serializers.CharField(read_only=True)
    product_snapshot = frozen_json(ProductSnapshotSerializer)
    fulfillment_status = serializers.ChoiceField(choices=FulfillmentStatus.choices, read_only=True)

    class Meta:
        model = OrderItem
        fields = [
            "item_id",
            "product_snapshot",
            "quantity",
            "unit_price_cents",
            "total_cents",
            "fulfillment_status",
            "shipped_quantity",
            "tracking_number",
            "carrier",
            "shipped_at",
            "delivered_at",
        ]
        read_only_fields = fields

    def to_representation(self, item: OrderItem) -> dict:
        # Written out by hand: the generic field machinery cost more than the database work of a read.
        return {
            "item_id": item.item_id,
            "product_snapshot": item.product_snapshot,
            "quantity": item.quantity,
            "unit_price_cents": item.unit_price_cents,
            "total_cents": item.total_cents,
            "fulfillment_status": item.fulfillment_status,
            "shipped_quantity": item.shipped_quantity,
            "tracking_number": item.tracking_number,
            "carrier": item.carrier,
            "shipped_at": _timestamp(item.shipped_at),
            "delivered_at": _timestamp(item.delivered_at),
        }


class OrderSerializer(serializers.ModelSerializer):
    customer = frozen_json(CustomerSnapshotSerializer)
    shipping_address = frozen_json(ShippingAddressSerializer)
    items = OrderItemSerializer(many=True, read_only=True)
    cancellation = frozen_json(CancellationSerializer(allow_null=True))

    class Meta:
        model = Order
        fields = [
            "id",
            "order_number",
            "status",
            "payment_status",
            "payment_method",
            "currency",
            "customer",
            "shipping_address",
            "items",
            "item_count",
            "subtotal_cents",
            "shipping_cents",
            "tax_cents",
            "total_cents",
            "notes",
            "cancellation",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, order: Order) -> dict:
        item_serializer = OrderItemSerializer()
        return {
            "id": str(order.id),
            "order_number": order.order_number,
            "status": order.status,
            "payment_status": order.payment_status,
            "payment_method": order.payment_method,
            "currency": order.currency,
            "customer": order.customer,
            "shipping_address": order.shipping_address,
            "items": [item_serializer.to_representation(item) for item in order.items.all()],
            "item_count": order.item_count,
            "subtotal_cents": order.subtotal_cents,
            "shipping_cents": order.shipping_cents,
            "tax_cents": order.tax_cents,
            "total_cents": order.total_cents,
            "notes": order.notes,
            "cancellation": order.cancellation,
            "created_at": _timestamp(order.created_at),
            "updated_at": _timestamp(order.updated_at),
        }


def _timestamp(moment) -> str | None:
    return None if moment is None else utc_iso(moment)


class OrderHistorySerializer(serializers.ModelSerializer):
    changed_by = serializers.UUIDField(source="changed_by_id", allow_null=True, read_only=True)

    class Meta:
        model = OrderStatusHistory
        fields = ["from_status", "to_status", "changed_by", "note", "created_at"]
        read_only_fields = fields
