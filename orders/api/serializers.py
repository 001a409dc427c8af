from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.error_codes import ErrorCode
from core.fields import StrictCharField, StrictIntegerField, StrictRegexField
from core.serializers import LeanFieldCopiesMixin
from orders import representation
from orders.models import (
    MAX_LINES,
    MAX_QUANTITY,
    FulfillmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusHistory,
    PaymentMethod,
    ReturnReasonCategory,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)

MAX_REFUND_CENTS = 10**15


# ---- input -----------------------------------------------------------------------------------------


class OrderLineInputSerializer(LeanFieldCopiesMixin, serializers.Serializer):
    product_id = serializers.UUIDField()
    variant_id = serializers.UUIDField(required=False, allow_null=True)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    expected_unit_price_cents = StrictIntegerField(min_value=0, required=False, allow_null=True)


class ShippingAddressSerializer(LeanFieldCopiesMixin, serializers.Serializer):
    recipient_name = StrictCharField(max_length=200)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    street_address_1 = StrictCharField(max_length=200)
    street_address_2 = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    city = StrictCharField(max_length=100)
    state = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    zip_code = StrictCharField(max_length=20)
    country = StrictRegexField(
        r"^[A-Z]{2}$", max_length=2, error_messages={ErrorCode.INVALID: "Use an ISO 3166-1 alpha-2 code such as US."}
    )


class LinesInputMixin:
    """A body with `items`, lines of `line_serializer`, whose refusal reports the catalogue's problems of its
    valid lines too (orders.api.views.lines_refused): all problems at once."""

    line_serializer: type[serializers.Serializer] = OrderLineInputSerializer

    def valid_lines(self) -> dict[int, dict]:
        """After is_valid() refused the body: the lines whose own fields are valid, validated, by index
        (none when `items` itself is refused, e.g. too long), for their catalogue checks."""
        item_errors = self.errors.get("items", {})
        lines = self.initial_data.get("items") if isinstance(self.initial_data, dict) else None
        # A list DRF refused for one bad line was never checked against max_length: no catalogue look-up
        # for more lines than an order may have.
        if not isinstance(lines, list) or not isinstance(item_errors, dict) or len(lines) > MAX_LINES:
            return {}
        valid = {}
        for index, line in enumerate(lines):
            parsed = self.line_serializer(data=line)
            if index not in item_errors and parsed.is_valid():
                valid[index] = parsed.validated_data
        return valid

    def errors_with(self, line_problems: dict[int, dict]) -> dict:
        """The field errors plus problems found on other lines, at `items.<index>.<field>`."""
        errors = dict(self.errors)
        if line_problems:
            errors["items"] = {**errors.get("items", {}), **line_problems}
        return errors


class OrderCreateSerializer(LinesInputMixin, LeanFieldCopiesMixin, serializers.Serializer):
    # A ListField, not `many=True`: an empty or too long list is reported at `items`, not `items.non_field_errors`.
    items = serializers.ListField(child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES)
    shipping_address = ShippingAddressSerializer()
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    notes = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class OrderCancelSerializer(serializers.Serializer):
    reason = StrictCharField(min_length=3, max_length=500)


class OrderTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, source="to_status")  # the service's argument
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class ItemFulfillmentSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED])
    quantity = StrictIntegerField(
        min_value=1, max_value=MAX_QUANTITY, required=False, help_text="Units to ship; defaults to all remaining"
    )
    carrier = StrictCharField(max_length=50, required=False, allow_blank=True)
    tracking_number = StrictCharField(max_length=100, required=False, allow_blank=True)


# ---- output ----------------------------------------------------------------------------------------


class CustomerSnapshotSerializer(serializers.Serializer):
    user_id = StrictCharField()
    display_name = StrictCharField()
    email = StrictCharField()
    phone = StrictCharField()


class ProductSnapshotSerializer(serializers.Serializer):
    product_id = StrictCharField()
    variant_id = StrictCharField()
    supplier_id = StrictCharField()
    supplier_name = StrictCharField()
    product_name = StrictCharField()
    variant_name = StrictCharField()
    variant_attributes = serializers.DictField(child=StrictCharField())
    sku = StrictCharField()
    image_url = StrictCharField()


class CancellationSerializer(serializers.Serializer):
    reason = StrictCharField()
    cancelled_at = serializers.DateTimeField()
    cancelled_by = StrictCharField(allow_null=True)


def frozen_json(component) -> serializers.JSONField:
    """A read-only field that returns a stored JSONB snapshot as it is, documented as `component`."""
    name = f"{getattr(component, '__name__', type(component).__name__)}Json"
    return extend_schema_field(component)(type(name, (serializers.JSONField,), {}))(read_only=True)


# Documents a representation table of orders/representation.py and renders with it; the table's fields
# that are not model fields bring their own schema type. (A comment: a docstring would enter the schema.)
class RepresentationSerializer(serializers.ModelSerializer):
    representation_fields: list[representation.Field]

    def build_field(self, field_name, info, model_class, nested_depth):
        schema = next(field.schema for field in self.representation_fields if field.name == field_name)
        if schema is None:
            return super().build_field(field_name, info, model_class, nested_depth)
        return type(schema), {**schema._kwargs, "read_only": True}

    def to_representation(self, instance) -> dict:
        # Not the generic field machinery: it cost more than the database work of a read.
        return representation.represent(self.representation_fields, instance)


class OrderItemSerializer(RepresentationSerializer):
    item_id = StrictCharField(read_only=True)
    product_snapshot = frozen_json(ProductSnapshotSerializer)
    fulfillment_status = serializers.ChoiceField(choices=FulfillmentStatus.choices, read_only=True)
    representation_fields = representation.ITEM_FIELDS

    class Meta:
        model = OrderItem
        fields = [field.name for field in representation.ITEM_FIELDS]
        read_only_fields = fields


class ShipmentLineSerializer(serializers.Serializer):
    item_id = StrictCharField(read_only=True)
    quantity = serializers.IntegerField(read_only=True)


class ShipmentSerializer(RepresentationSerializer):
    id = serializers.UUIDField(read_only=True)
    items = ShipmentLineSerializer(many=True, read_only=True)
    representation_fields = representation.SHIPMENT_FIELDS

    class Meta:
        model = Shipment
        fields = [field.name for field in representation.SHIPMENT_FIELDS]
        read_only_fields = fields


class OrderSerializer(RepresentationSerializer):
    customer = frozen_json(CustomerSnapshotSerializer)
    shipping_address = frozen_json(ShippingAddressSerializer)
    items = OrderItemSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)
    cancellation = frozen_json(CancellationSerializer(allow_null=True))
    representation_fields = representation.ORDER_FIELDS

    class Meta:
        model = Order
        fields = [field.name for field in representation.ORDER_FIELDS]
        read_only_fields = fields


class OrderHistorySerializer(serializers.ModelSerializer):
    changed_by = serializers.UUIDField(source="changed_by_id", allow_null=True, read_only=True)

    class Meta:
        model = OrderStatusHistory
        fields = ["from_status", "to_status", "changed_by", "note", "created_at"]
        read_only_fields = fields


# ---- returns and refunds (orders/returns/services.py) -------------------------------------------------------

MAX_RETURN_LINES = 100


class ReturnLineInputSerializer(serializers.Serializer):
    item_id = StrictRegexField(
        r"^item_\d{1,4}$",
        max_length=9,
        error_messages={ErrorCode.INVALID: "Use an item_id of the order, such as item_1."},
    )
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class ReturnCreateSerializer(serializers.Serializer):
    reason = StrictCharField(min_length=10, max_length=500)
    reason_category = serializers.ChoiceField(choices=ReturnReasonCategory.choices)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    items = serializers.ListField(child=ReturnLineInputSerializer(), min_length=1, max_length=MAX_RETURN_LINES)


class ReturnReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReturnStatus.APPROVED, ReturnStatus.REJECTED])
    notes = StrictCharField(min_length=10, max_length=500)
    refund_cents = StrictIntegerField(
        min_value=0,
        max_value=MAX_REFUND_CENTS,
        required=False,
        allow_null=True,
        help_text="Required when approving (0 for no refund); not allowed when rejecting.",
    )
    restock = serializers.BooleanField(
        required=False, default=False, help_text="Approval only: put the returned units back in stock."
    )
    # Which fields go with which decision is the service's rule (returns.return_review), not checked here.


class ReturnItemSerializer(serializers.Serializer):
    item_id = StrictCharField()
    quantity = serializers.IntegerField()


class ReturnRequestSerializer(serializers.ModelSerializer):
    order_id = serializers.UUIDField(read_only=True)
    order_number = StrictCharField(read_only=True)
    status = serializers.ChoiceField(choices=ReturnStatus.choices, read_only=True)
    reason_category = serializers.ChoiceField(choices=ReturnReasonCategory.choices, read_only=True)
    items = ReturnItemSerializer(many=True, read_only=True)
    requested_by = serializers.UUIDField(allow_null=True, read_only=True)
    reviewed_by = serializers.UUIDField(allow_null=True, read_only=True)
    refund_cents = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "return_number",
            "order_id",
            "order_number",
            "status",
            "items",
            "reason",
            "reason_category",
            "description",
            "requested_at",
            "requested_by",
            "reviewed_at",
            "reviewed_by",
            "review_notes",
            "refund_cents",
            "restock",
        ]
        read_only_fields = fields

    def to_representation(self, request: ReturnRequest) -> dict:
        return representation.return_representation(request)


# ---- statistics (orders/stats.py) ------------------------------------------------------------------


class CurrencyAmountSerializer(serializers.Serializer):
    currency = StrictCharField()
    amount_cents = serializers.IntegerField()


class DailyStatsSerializer(serializers.Serializer):
    date = serializers.DateField()
    orders = serializers.IntegerField(help_text="Orders placed that day, any status")
    revenue = CurrencyAmountSerializer(many=True, help_text="Gross revenue of that day's orders, per currency")


class CurrencyRevenueSerializer(serializers.Serializer):
    currency = StrictCharField()
    orders = serializers.IntegerField(help_text="Orders that count as revenue (confirmed or later, not cancelled)")
    gross_cents = serializers.IntegerField()
    refunded_cents = serializers.IntegerField()
    net_cents = serializers.IntegerField()
    average_order_value_cents = serializers.IntegerField()


class TopProductSerializer(serializers.Serializer):
    product_id = StrictCharField()
    product_name = StrictCharField()
    currency = StrictCharField()
    units = serializers.IntegerField()
    revenue_cents = serializers.IntegerField()


OrderStatusCountsSerializer = type(
    "OrderStatusCountsSerializer",
    (serializers.Serializer,),
    {status: serializers.IntegerField() for status in OrderStatus.values},
)


class StatsQuerySerializer(serializers.Serializer):
    """The query string of the statistics: `from` and `to`, dates (a Python keyword, hence get_fields)."""

    def get_fields(self):
        return {"from": serializers.DateField(required=False), "to": serializers.DateField(required=False)}


# Built with type(): the period's keys are `from` and `to`, like the query parameters.
OrderStatsSerializer = type(
    "OrderStatsSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(help_text="First day of the period (UTC), included"),
        "to": serializers.DateField(help_text="Last day of the period (UTC), included"),
        "orders": serializers.IntegerField(help_text="Orders placed in the period, any status"),
        "by_status": OrderStatusCountsSerializer(help_text="Orders placed in the period, by current status"),
        "daily": DailyStatsSerializer(many=True),
        "revenue": CurrencyRevenueSerializer(many=True),
        "top_products_by_units": TopProductSerializer(many=True),
        "top_products_by_revenue": TopProductSerializer(many=True, help_text="The top 10 of each currency"),
        "cancelled_orders": serializers.IntegerField(),
        "cancellation_rate": serializers.FloatField(help_text="cancelled_orders / orders, 0 to 1"),
        "delivered_orders": serializers.IntegerField(help_text="Orders delivered (now delivered or refunded)"),
        "returned_orders": serializers.IntegerField(help_text="Delivered orders with at least one approved return"),
        "return_rate": serializers.FloatField(help_text="returned_orders / delivered_orders, 0 to 1"),
    },
)


class CustomerOrderSummarySerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    order_count = serializers.IntegerField()
    total_spent = CurrencyAmountSerializer(many=True, help_text="Per currency, net of refunds")
    last_order_at = serializers.DateTimeField(allow_null=True)


# ---- shipments and changes before shipping (orders/services/fulfillment.py, items.py) ----------------


class ShipmentLineInputSerializer(ReturnLineInputSerializer):
    pass  # the same line as a return's, under its own name in the schema


class ShipmentCreateSerializer(serializers.Serializer):
    items = serializers.ListField(child=ShipmentLineInputSerializer(), min_length=1, max_length=MAX_LINES)
    carrier = StrictCharField(min_length=1, max_length=50)
    tracking_number = StrictCharField(min_length=1, max_length=100)


# PATCH: the fields sent replace those of the order's address; at least one. (A comment: a docstring would
# enter the schema.)
class ShippingAddressChangeSerializer(ShippingAddressSerializer):
    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one field of the shipping address.")
        return attrs
