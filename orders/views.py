from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from order_project.openapi import ORDER_WRITE_ERRORS
from order_project.permissions import IsStaff
from order_project.throttling import OrderCreateThrottle

from . import selectors, services
from .idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from .models import Order
from .serializers import (
    ItemFulfillmentSerializer,
    OrderCancelSerializer,
    OrderCreateSerializer,
    OrderHistorySerializer,
    OrderSerializer,
    OrderTransitionSerializer,
)


@extend_validation_errors(
    ["product_not_found", "product_unavailable", "currency_mismatch"], "items.INDEX.product_id", actions=["create"]
)
@extend_validation_errors(
    ["variant_required", "variant_not_found", "duplicate_variant"], "items.INDEX.variant_id", actions=["create"]
)
@extend_validation_errors(["price_changed"], "items.INDEX.expected_unit_price_cents", actions=["create"])
@extend_validation_errors(["invalid"], "Idempotency-Key", methods=["post"])
class OrderViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Orders: customers see and act on their own; staff see all and run the lifecycle."""

    serializer_class = OrderSerializer
    filterset_class = selectors.OrderFilter
    lookup_url_kwarg = "key"
    lookup_value_regex = r"[^/]{1,64}"

    queryset = Order.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.with_items(selectors.orders_visible_to(self.request.user).order_by("-created_at", "-id"))

    def get_throttles(self):
        return [OrderCreateThrottle()] if self.action == "create" else super().get_throttles()

    def get_permissions(self):
        if self.action in ("transition", "fulfillment"):
            return [IsStaff()]
        return super().get_permissions()

    def get_object(self):
        return selectors.order_get(user=self.request.user, key=self.kwargs["key"])

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, **ORDER_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_create(user=request.user, **data.validated_data)
        body = OrderSerializer(order).data
        location = request.build_absolute_uri(f"{request.path}{order.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(responses=OrderSerializer)
    def retrieve(self, request, key=None):
        return Response(OrderSerializer(self.get_object()).data)

    @extend_schema(
        request=OrderCancelSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, key=None):
        data = OrderCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_cancel(order_id=self.get_object().pk, actor=request.user, **data.validated_data)
        return Response(OrderSerializer(order).data)

    @extend_schema(
        request=OrderTransitionSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def transition(self, request, key=None):
        data = OrderTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_transition(
            order_id=self.get_object().pk,
            to_status=data.validated_data["status"],
            note=data.validated_data["note"],
            actor=request.user,
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(
        request=ItemFulfillmentSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>item_\d{1,4})/fulfillment")
    @idempotent
    def fulfillment(self, request, key=None, item_id=None):
        data = ItemFulfillmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.item_fulfill(
            order_id=self.get_object().pk, item_id=item_id, actor=request.user, **data.validated_data
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(responses=OrderHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, key=None):
        history = selectors.order_history(order=self.get_object())
        return Response(OrderHistorySerializer(history, many=True).data)
