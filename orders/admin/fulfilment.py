"""The order page's shipments and the form of its shipping address; the actions themselves are OrderAction
entries of orders/admin/orders.py, calling the same services as the API."""

from django import forms
from django.contrib import admin
from django.db.models import Prefetch

from core.admin import ReadOnlyInline
from orders.admin.display import format_time
from orders.api.serializers import ShippingAddressSerializer
from orders.models import Order, Shipment, ShipmentItem
from users.models import User


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    verbose_name_plural = "shipments"
    fields = ["shipped", "carrier", "tracking_number", "lines", "delivered", "created_by"]
    readonly_fields = fields
    ordering = ["shipped_at", "id"]

    def get_queryset(self, request):
        lines = Prefetch("items", queryset=ShipmentItem.objects.select_related("order_item"))
        return super().get_queryset(request).select_related("created_by").prefetch_related(lines)

    @admin.display(description="shipped")
    def shipped(self, obj: Shipment) -> str:
        return format_time(obj.shipped_at)

    @admin.display(description="delivered")
    def delivered(self, obj: Shipment) -> str:
        return format_time(obj.delivered_at) if obj.delivered_at else "-"

    @admin.display(description="items")
    def lines(self, obj: Shipment) -> str:
        lines = sorted(obj.items.all(), key=lambda line: line.order_item.line_number)
        return ", ".join(f"{line.order_item.item_id} x {line.quantity}" for line in lines)


class ShippingAddressForm(forms.Form):
    """The address fields of the API (ShippingAddressSerializer), filled with the order's address and
    checked by the same serializer."""

    title = "Change the shipping address"
    submit_label = "Save the address"
    done = "Order {order}: shipping address changed."

    def __init__(self, *args, orders: list[Order], actor: User, **kwargs):
        (order,) = orders
        super().__init__(*args, initial=order.shipping_address, **kwargs)
        for name, field in ShippingAddressSerializer().fields.items():
            self.fields[name] = forms.CharField(required=field.required, max_length=field.max_length)

    def clean(self):
        cleaned = super().clean()
        checked = ShippingAddressSerializer(data=cleaned)
        if not checked.is_valid():
            for name, problems in checked.errors.items():
                self.add_error(name if name in self.fields else None, [str(problem) for problem in problems])
            return cleaned
        return dict(checked.validated_data)
