"""The cart API (`/api/v1/cart/`), and `POST /api/v1/orders/` taking `from_cart`. Thin: an input
serializer, one service, the cart as carts/selectors.py reads it."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.error_codes import ErrorCode
from order_project import examples
from orders.api import views as order_views
from orders.api.serializers import OrderCreateSerializer
from orders.error_codes import OrderErrorCode as Code
from orders.models import Order

from . import selectors, services
from .error_codes import CartErrorCode
from .serializers import (
    CartLineInputSerializer,
    CartLineUpdateSerializer,
    CartOrderCreateSerializer,
    CartReplaceSerializer,
    CartSerializer,
)

LINE_PRODUCT_CODES = [Code.PRODUCT_NOT_FOUND, Code.PRODUCT_UNAVAILABLE, Code.CURRENCY_MISMATCH]
LINE_VARIANT_CODES = [Code.VARIANT_REQUIRED, Code.VARIANT_NOT_FOUND]


def _cart(request, response_status: int = status.HTTP_200_OK) -> Response:
    return Response(CartSerializer(selectors.cart_detail(user=request.user)).data, status=response_status)


@extend_validation_errors(LINE_PRODUCT_CODES, "items.INDEX.product_id", methods=["put"])
@extend_validation_errors([*LINE_VARIANT_CODES, Code.DUPLICATE_VARIANT], "items.INDEX.variant_id", methods=["put"])
@extend_schema(tags=["cart"])
class CartViewSet(viewsets.ViewSet):
    # The caller's own cart: there is no cart id in the path, so no one reaches another's.

    @extend_schema(
        operation_id="cart_retrieve",
        summary="Your cart",
        description=(
            "Each line at the catalogue's current price, with warnings (never errors: nothing is reserved) when "
            "the quantity is over the stock, the price differs from the one the line recorded, or the product "
            "can no longer be ordered. Totals are those of an order of the lines that can be ordered, by the "
            "same tax and shipping rules. Empty until something is added."
        ),
        responses=CartSerializer,
    )
    def retrieve(self, request):
        return _cart(request)

    @extend_schema(
        operation_id="cart_replace",
        summary="Replace your cart's lines",
        description=(
            "Every line at once (an empty list empties the cart), checked against the catalogue as an order's "
            "lines are: all problems in one 400 at `items.N.<field>`, and nothing changes. Each line records "
            "the price it is shown at."
        ),
        request=CartReplaceSerializer,
        responses=CartSerializer,
        examples=examples.CART_REPLACE,
    )
    def replace(self, request):
        data = CartReplaceSerializer(data=request.data)
        if not data.is_valid():
            raise order_views.lines_refused(data)
        services.cart_replace(user=request.user, **data.validated_data)
        return _cart(request)


@extend_validation_errors(LINE_PRODUCT_CODES, "product_id", actions=["create"])
@extend_validation_errors(LINE_VARIANT_CODES, "variant_id", actions=["create"])
@extend_validation_errors([ErrorCode.MAX_VALUE], "quantity", actions=["create"])
@extend_validation_errors([CartErrorCode.CART_FULL], None, actions=["create"])
@extend_validation_errors([Code.PRODUCT_UNAVAILABLE, Code.CURRENCY_MISMATCH], None, actions=["partial_update"])
@extend_schema(tags=["cart"])
class CartLineViewSet(viewsets.ViewSet):
    # Lines of the caller's own cart: another customer's line id is a 404 (carts/services.py _own_line).

    @extend_schema(
        operation_id="cart_items_add",
        summary="Add to your cart",
        description=(
            "Adds a line, or adds the quantity to the line of the same variant (at most 1000 units a line, 100 "
            "lines a cart, as an order). `variant_id` may be left out for a product with one variant. The "
            "line records the price the cart now shows. Answers with the whole cart (201)."
        ),
        request=CartLineInputSerializer,
        responses={201: CartSerializer},
        examples=examples.CART_ITEM_ADD,
    )
    def create(self, request):
        data = CartLineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_add(user=request.user, **data.validated_data)
        return _cart(request, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="cart_items_update",
        summary="Change a line's quantity",
        description=(
            "Sets the quantity; the line records the price the cart now shows (send the same quantity to accept "
            "a changed price). Answers with the whole cart."
        ),
        request=CartLineUpdateSerializer,
        responses=CartSerializer,
        examples=examples.CART_ITEM_UPDATE,
    )
    def partial_update(self, request, pk=None):
        data = CartLineUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_update(user=request.user, line_id=pk, **data.validated_data)
        return _cart(request)

    @extend_schema(
        operation_id="cart_items_remove",
        summary="Remove a line",
        description="Answers with the whole cart.",
        responses=CartSerializer,
    )
    def destroy(self, request, pk=None):
        services.cart_line_remove(user=request.user, line_id=pk)
        return _cart(request)


ORDER_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="OrderCreateRequest",
    serializers=[OrderCreateSerializer, CartOrderCreateSerializer],
    resource_type_field_name=None,
)


@extend_validation_errors([CartErrorCode.CART_EMPTY, ErrorCode.INVALID], "from_cart", actions=["create"])
@extend_validation_errors([ErrorCode.INVALID], "items", actions=["create"])
@extend_schema_view(
    create=extend_schema(
        request=ORDER_CREATE_REQUEST,
        description=(
            "Prices every line from the catalogue, reserves the stock and creates the order as `pending` (201, "
            "with a `Location` header). Send `items`, or `from_cart: true` to order what your cart holds: the "
            "same create, each line expecting the price the cart showed (a line's problems are reported at "
            "`items.N`, N its place in the cart), and the cart emptied in the same transaction. A retry with "
            "the same `Idempotency-Key` returns the first response."
        ),
        examples=[*examples.ORDER_CREATE, *examples.ORDER_FROM_CART],
    )
)
class OrderViewSet(order_views.OrderViewSet):
    """The orders API, whose create also takes `from_cart` (registered for /api/v1/orders/ in its place:
    orders import nothing of carts)."""

    def order_create_from_request(self, request) -> Order:
        body = request.data
        if not (isinstance(body, dict) and "from_cart" in body):
            return super().order_create_from_request(request)
        if "items" in body:
            raise ValidationError({"items": ["Send either items or from_cart, not both."]}, code=ErrorCode.INVALID)
        data = CartOrderCreateSerializer(data=body)
        data.is_valid(raise_exception=True)
        return services.cart_order_create(user=request.user, **data.validated_data)
