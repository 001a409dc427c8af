from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.error_codes import ErrorCode
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent, idempotent_action
from core.lookups import UUID_PATTERN
from core.openapi import write_error_responses
from order_project import examples
from order_project.pagination import NewestFirstPagination
from order_project.permissions import VIEW_ORDERS, StaffActionsMixin
from order_project.throttling import OrderCreateThrottle
from orders import selectors, stats
from orders.api.serializers import (
    CustomerOrderSummarySerializer,
    ItemFulfillmentSerializer,
    LinesInputMixin,
    OrderCancelSerializer,
    OrderCreateSerializer,
    OrderHistorySerializer,
    OrderSerializer,
    OrderStatsSerializer,
    OrderTransitionSerializer,
    ReturnCreateSerializer,
    ReturnRequestSerializer,
    ReturnReviewSerializer,
    StatsQuerySerializer,
)
from orders.error_codes import CONFLICT_CODES, UNPROCESSABLE_CODES
from orders.error_codes import OrderErrorCode as Code
from orders.models import Order, ReturnRequest
from orders.returns import services as returns
from orders.services import create, fulfillment, lifecycle
from orders.transitions import (
    CANCEL_PERMISSION,
    REVIEW_PERMISSION,
    SHIP_PERMISSION,
    TRANSITION_PERMISSION,
    VIEW_RETURNS_PERMISSION,
)
from users.models import User

ORDER_WRITE_ERRORS = write_error_responses(conflict_codes=CONFLICT_CODES, unprocessable_codes=UNPROCESSABLE_CODES)


def lines_refused(data: LinesInputMixin) -> ValidationError:
    """The 400 of a body with lines that is_valid() refused: all problems at once, the catalogue's word on
    the lines whose fields are valid joining the field errors (an order create's, a cart's)."""
    lines = {index: create.OrderLine(**line) for index, line in data.valid_lines().items()}
    return ValidationError(data.errors_with(create.order_lines_problems(lines=lines)))


def order_write(view, request, *, body: type[serializers.Serializer], service, created: bool = False, **arguments):
    """The body of a write on one order: validate the request with `body`, run `service` on the order the URL
    names with the caller as actor (and `arguments`), answer with the order."""
    data = body(data=request.data)
    data.is_valid(raise_exception=True)
    order = service(order_id=view.get_object().pk, actor=request.user, **arguments, **data.validated_data)
    return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_validation_errors(
    [Code.PRODUCT_NOT_FOUND, Code.PRODUCT_UNAVAILABLE, Code.CURRENCY_MISMATCH],
    "items.INDEX.product_id",
    actions=["create"],
)
@extend_validation_errors(
    [Code.VARIANT_REQUIRED, Code.VARIANT_NOT_FOUND, Code.DUPLICATE_VARIANT],
    "items.INDEX.variant_id",
    actions=["create"],
)
@extend_validation_errors([Code.PRICE_CHANGED], "items.INDEX.expected_unit_price_cents", actions=["create"])
@extend_validation_errors(
    [Code.ITEM_NOT_FOUND, Code.DUPLICATE_ITEM], "items.INDEX.item_id", actions=["returns"], methods=["post"]
)
@extend_validation_errors(
    [Code.RETURN_QUANTITY_EXCEEDED], "items.INDEX.quantity", actions=["returns"], methods=["post"]
)
@extend_validation_errors([ErrorCode.INVALID, Code.PERIOD_TOO_LONG], "from", actions=["stats"])
@extend_validation_errors([ErrorCode.INVALID], "to", actions=["stats"])
@extend_validation_errors([ErrorCode.INVALID], "Idempotency-Key", methods=["post"])
@extend_validation_errors([ErrorCode.INVALID], "cursor", actions=["list"])
@extend_validation_errors([ErrorCode.INVALID], "ordering", actions=["list"])  # with a cursor
@extend_schema(tags=["orders"])
@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Your orders, newest first; staff see everyone's and may filter by customer or search.",
    )
)
class OrderViewSet(StaffActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    # Orders: customers see and act on their own; staff with view_order see all, and run the lifecycle
    # with the admin's permission for each action (order_project/permissions.py).

    staff_permissions = {
        "transition": (TRANSITION_PERMISSION,),
        "fulfillment": (SHIP_PERMISSION,),
        "stats": (VIEW_ORDERS,),
    }
    # Anyone's order, not just their own (which they need no permission for).
    staff_permissions_on_others = {
        "cancel": (CANCEL_PERMISSION,),
        "returns": ("orders.add_returnrequest",),
    }

    serializer_class = OrderSerializer
    filterset_class = selectors.OrderFilter
    pagination_class = NewestFirstPagination
    lookup_url_kwarg = "key"
    lookup_value_regex = r"[^/]{1,64}"

    queryset = Order.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.orders_visible_to(self.request.user).order_by("-created_at", "-id")

    def list(self, request):
        # The page is chosen on ids (filters, ordering, count, limit/offset or cursor as usual); its
        # representations are then built by PostgreSQL in one query.
        rows = self.filter_queryset(self.get_queryset()).values_list("id", "created_at", named=True)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(selectors.order_representations(order_ids=[row.id for row in page]))

    def get_throttles(self):
        return [OrderCreateThrottle()] if self.action == "create" else super().get_throttles()

    def get_object(self):
        order = selectors.order_get(user=self.request.user, key=self.kwargs["key"])
        self.check_object_permissions(self.request, order)
        return order

    @extend_schema(
        summary="Place an order",
        description=(
            "Prices every line from the catalogue, reserves the stock and creates the order as `pending` (201, "
            "with a `Location` header). A retry with the same `Idempotency-Key` returns the first response."
        ),
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, **ORDER_WRITE_ERRORS},
        examples=examples.ORDER_CREATE,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        order = self.order_create_from_request(request)
        body = OrderSerializer(order).data
        location = request.build_absolute_uri(f"{request.path}{order.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    def order_create_from_request(self, request) -> Order:
        """The order a create request asks for. A hook: carts/views.py extends it with `from_cart`, inside
        the same idempotency and throttling (orders import nothing of carts)."""
        data = OrderCreateSerializer(data=request.data)
        if not data.is_valid():
            raise lines_refused(data)
        return create.order_create(user=request.user, **data.validated_data)

    @extend_schema(summary="Get an order", description="By id or order number; yours, or anyone's for staff.")
    def retrieve(self, request, key=None):
        return Response(OrderSerializer(self.get_object()).data)

    @idempotent_action(
        summary="Cancel an order",
        description=(
            "Customers while the order is `pending` or `confirmed`, staff also while `processing`; the stock is "
            "released and a paid order refunded. Otherwise 409 `invalid_transition`."
        ),
        examples=examples.ORDER_CANCEL,
        request=OrderCancelSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def cancel(self, request, key=None):
        return order_write(self, request, body=OrderCancelSerializer, service=lifecycle.order_cancel)

    @idempotent_action(
        summary="Move an order along its lifecycle (staff)",
        examples=examples.ORDER_TRANSITION,
        description=(
            "Staff: move the order along the lifecycle. A move to `refunded` refunds what is left of the total "
            '(after refunds of returns) as a refund with the `note` as its reason ("Order refunded" without '
            "one); cancelling a paid order refunds its total the same way."
        ),
        request=OrderTransitionSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def transition(self, request, key=None):
        return order_write(self, request, body=OrderTransitionSerializer, service=lifecycle.order_transition)

    @idempotent_action(
        url_path=r"items/(?P<item_id>item_\d{1,4})/fulfillment",
        operation_id="orders_items_fulfill",
        summary="Ship or deliver an order item (staff)",
        description=(
            "Ship units of an item of a `processing` order (partial shipments add up), or mark a shipped item "
            "delivered. The order follows: shipped once every item is, delivered once every item is."
        ),
        examples=examples.ITEM_FULFILLMENT,
        request=ItemFulfillmentSerializer,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def fulfillment(self, request, key=None, item_id=None):
        return order_write(
            self, request, body=ItemFulfillmentSerializer, service=fulfillment.item_fulfill, item_id=item_id
        )

    @extend_schema(summary="An order's status history", responses=OrderHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, key=None):
        history = selectors.order_history(order=self.get_object())
        return Response(OrderHistorySerializer(history, many=True).data)

    # -- returns (orders/returns.py): the owner or staff; anyone else gets the order's 404

    @extend_schema(
        methods=["GET"], tags=["returns"], summary="An order's returns", responses=ReturnRequestSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        tags=["returns"],
        summary="Ask to return items",
        description=(
            "The owner or staff: ask to return delivered units of a delivered order, within the return window "
            "(30 days from delivery unless configured otherwise). Each item at most once, and at most its "
            "delivered units not already held by a pending or approved return."
        ),
        examples=examples.RETURN_CREATE,
        request=ReturnCreateSerializer,
        responses={201: ReturnRequestSerializer, **ORDER_WRITE_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def returns(self, request, key=None):
        if request.method == "POST":
            return self._return_create(request)
        found = selectors.order_returns(order=self.get_object())
        return Response(ReturnRequestSerializer(found, many=True).data)

    @idempotent
    def _return_create(self, request):
        data = ReturnCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = returns.return_request(order_id=self.get_object().pk, actor=request.user, **data.validated_data)
        location = request.build_absolute_uri(f"/api/v1/returns/{created.pk}/")
        return Response(
            ReturnRequestSerializer(created).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    # -- statistics (orders/stats.py), staff only; a list-level route, matched before {key}

    @extend_schema(
        tags=["stats"],
        summary="Order statistics (staff)",
        description=(
            "Staff: statistics of the orders placed in a period of whole UTC days (default the last 30, at most "
            "366). Revenue counts orders confirmed or later and not cancelled or failed, per currency: gross = "
            "their totals, refunded = refunds made on them, net = gross - refunded. Top products are read from "
            "the items' frozen product snapshots. Return rate = delivered orders with an approved return / "
            "delivered orders."
        ),
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (UTC); default: 29 days before `to`"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (UTC), included; default: today"),
        ],
        responses=OrderStatsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def stats(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = stats.stats_period(date_from=query.validated_data.get("from"), date_to=query.validated_data.get("to"))
        return Response(OrderStatsSerializer(stats.order_stats(period=period)).data)


# Raised by returns.return_review (approval needs an amount, rejection takes none) and the refund cap.
@extend_validation_errors(
    [ErrorCode.REQUIRED, ErrorCode.INVALID, Code.REFUND_EXCEEDS_PAID, Code.REFUND_EXCEEDS_REMAINING],
    "refund_cents",
    actions=["review"],
)
@extend_validation_errors([ErrorCode.INVALID], "restock", actions=["review"])
@extend_validation_errors([ErrorCode.INVALID], "Idempotency-Key", methods=["post"])
@extend_schema(tags=["returns"])
@extend_schema_view(list=extend_schema(summary="List return requests (staff)"))
class ReturnViewSet(StaffActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    # Return requests, for staff: the list of all of them, one by id, and the review.

    # Support may read returns but not review them: the refund is money, as in the admin
    # (orders/migrations/0007_returns_and_refunds.py).
    staff_permissions = {
        "list": (VIEW_RETURNS_PERMISSION,),
        "retrieve": (VIEW_RETURNS_PERMISSION,),
        "review": (REVIEW_PERMISSION,),
    }
    serializer_class = ReturnRequestSerializer
    filterset_class = selectors.ReturnFilter
    lookup_value_regex = UUID_PATTERN
    queryset = ReturnRequest.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.with_return_details(ReturnRequest.objects.order_by("-requested_at", "-id"))

    @extend_schema(summary="Get a return request (staff)", responses=ReturnRequestSerializer)
    def retrieve(self, request, pk=None):
        return Response(ReturnRequestSerializer(selectors.return_get(return_id=pk)).data)

    @idempotent_action(
        summary="Approve or reject a return (staff)",
        examples=examples.RETURN_REVIEW,
        description=(
            "Staff: approve or reject a pending return, once (a second review is 409). An approval refunds at "
            "most what was paid for the returned units: per line unit_price_cents * quantity plus its shares of "
            "tax and shipping (tax_cents * line subtotal // subtotal_cents, the same for shipping), the approval "
            "that brings back the order's last units taking the rounding remainders; and never more than the "
            "order's total minus refunds already made."
        ),
        request=ReturnReviewSerializer,
        responses={200: ReturnRequestSerializer, **ORDER_WRITE_ERRORS},
    )
    def review(self, request, pk=None):
        data = ReturnReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reviewed = returns.return_review(return_id=pk, actor=request.user, **data.validated_data)
        return Response(ReturnRequestSerializer(reviewed).data)


@extend_schema(tags=["stats"])
# GET /api/v1/users/{id}/order-summary/, registered under the users prefix: wired here, in the orders app,
# because it reads orders and the users app never imports orders. The operation keeps the users' name.
class CustomerOrderSummaryViewSet(StaffActionsMixin, viewsets.GenericViewSet):
    staff_permissions = {"order_summary": ("users.view_user", VIEW_ORDERS)}
    queryset = User.objects.none()
    # Ids are UUIDs: anything else is a 404 from the router, never a 500 from the ORM.
    lookup_value_regex = UUID_PATTERN

    @extend_schema(
        summary="A customer's order summary (staff)",
        operation_id="users_order_summary",
        responses=CustomerOrderSummarySerializer,
    )
    @action(detail=True, methods=["get"], url_path="order-summary")
    def order_summary(self, request, pk=None):
        user = get_object_or_404(User, pk=pk)
        return Response(CustomerOrderSummarySerializer(stats.customer_order_summary(user_id=user.pk)).data)
