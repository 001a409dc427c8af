"""Order endpoints of shipments and of changes before shipping, under /api/v1/orders/{key}/: a shipment of
several items, a shipment's delivery, cancelling one item, and changing the shipping address. Each view
parses its input, calls one service and answers with the order."""

from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import viewsets
from rest_framework.response import Response

from core.error_codes import ErrorCode
from core.idempotency import idempotent_action
from core.lookups import UUID_PATTERN
from order_project import examples
from order_project.permissions import StaffActionsMixin
from orders import selectors
from orders.api.serializers import (
    OrderCancelSerializer,
    OrderSerializer,
    ShipmentCreateSerializer,
    ShippingAddressChangeSerializer,
)
from orders.api.views import ORDER_WRITE_ERRORS, order_write
from orders.error_codes import OrderErrorCode as Code
from orders.models import Order
from orders.services import fulfillment, items
from orders.transitions import ADDRESS_PERMISSION, CANCEL_PERMISSION, SHIP_PERMISSION


@extend_validation_errors(
    [Code.ITEM_NOT_FOUND, Code.DUPLICATE_ITEM], "items.INDEX.item_id", actions=["shipments"], methods=["post"]
)
@extend_validation_errors(
    [Code.SHIPMENT_QUANTITY_EXCEEDED], "items.INDEX.quantity", actions=["shipments"], methods=["post"]
)
@extend_validation_errors([ErrorCode.INVALID], "Idempotency-Key", methods=["post", "patch"])
@extend_schema(tags=["orders"])
class OrderFulfilmentViewSet(StaffActionsMixin, viewsets.GenericViewSet):
    staff_permissions = {
        "shipments": (SHIP_PERMISSION,),
        "shipment_delivery": (SHIP_PERMISSION,),
        "item_cancel": (CANCEL_PERMISSION,),
    }
    # The owner changes their own order's address (while pending: the service's rule); staff anyone's.
    staff_permissions_on_others = {"shipping_address": (ADDRESS_PERMISSION,)}
    serializer_class = OrderSerializer
    lookup_url_kwarg = "key"
    lookup_value_regex = r"[^/]{1,64}"
    queryset = Order.objects.none()  # for the schema generator; requests use get_object()

    def get_object(self):
        order = selectors.order_get(user=self.request.user, key=self.kwargs["key"])
        self.check_object_permissions(self.request, order)
        return order

    @idempotent_action(
        operation_id="orders_shipments_create",
        summary="Ship several items as one shipment (staff)",
        description=(
            "Staff: one parcel of units of one or more items of a `processing` order, with its own carrier and "
            "tracking number (each item at most once, at most its units left to ship). Items and the order roll "
            "up as with the item fulfillment endpoint; the order lists its shipments."
        ),
        examples=examples.SHIPMENT_CREATE,
        request=ShipmentCreateSerializer,
        responses={201: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def shipments(self, request, key=None):
        return order_write(
            self, request, body=ShipmentCreateSerializer, service=fulfillment.shipment_create, created=True
        )

    @idempotent_action(
        url_path=rf"shipments/(?P<shipment_id>{UUID_PATTERN})/delivery",
        operation_id="orders_shipments_deliver",
        summary="Mark a shipment delivered (staff)",
        description=(
            "Staff: the shipment arrived. Each of its items whose units have all shipped and whose every shipment "
            "is delivered becomes `delivered`; the order becomes `delivered` once every live item is. A second "
            "delivery of the same shipment → 409."
        ),
        request=None,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def shipment_delivery(self, request, key=None, shipment_id=None):
        order = fulfillment.shipment_deliver(order_id=self.get_object().pk, shipment_id=shipment_id, actor=request.user)
        return Response(OrderSerializer(order).data)

    @idempotent_action(
        url_path=r"items/(?P<item_id>item_\d{1,4})/cancel",
        operation_id="orders_items_cancel",
        summary="Cancel one item before it ships (staff)",
        description=(
            "Staff with the cancel permission: cancel an item of a `pending`, `confirmed` or `processing` order "
            "before any of its units ships. Its stock is released, the totals are computed again without it "
            "(shipping never goes up) and, on a paid order, the difference is refunded. Cancelling the last "
            "item cancels the order."
        ),
        examples=examples.ITEM_CANCEL,
        request=OrderCancelSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def item_cancel(self, request, key=None, item_id=None):
        return order_write(self, request, body=OrderCancelSerializer, service=items.item_cancel, item_id=item_id)

    @idempotent_action(
        methods=("patch",),
        url_path="shipping-address",
        operation_id="orders_shipping_address_update",
        summary="Change the shipping address before anything ships",
        description=(
            "The fields sent replace those of the address. The owner while the order is `pending`; staff until "
            "any unit ships. Recorded in the history with the old address. Otherwise 409 `invalid_transition`."
        ),
        examples=examples.SHIPPING_ADDRESS_CHANGE,
        request=ShippingAddressChangeSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def shipping_address(self, request, key=None):
        data = ShippingAddressChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        order = items.order_shipping_address_change(
            order_id=self.get_object().pk, actor=request.user, shipping_address=data.validated_data
        )
        return Response(OrderSerializer(order).data)
