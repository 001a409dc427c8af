from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import DefaultRouter

from carts.views import CartLineViewSet, CartViewSet, OrderViewSet
from core.error_codes import ErrorCode
from orders.api.fulfilment import OrderFulfilmentViewSet
from orders.api.support import OrderSupportViewSet, RefundExportViewSet
from orders.api.views import CustomerOrderSummaryViewSet, ReturnViewSet
from products.views import ProductViewSet, SupplierViewSet
from users.views import TokenView, UserViewSet

from .health import health

router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
# The order summary of a user is the orders app's view (users never import orders), under the same prefix.
router.register("users", CustomerOrderSummaryViewSet, basename="user-orders")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("products", ProductViewSet, basename="product")
# Support's tools first: their `orders/export/` would otherwise be read as an order key by OrderViewSet.
router.register("orders", OrderSupportViewSet, basename="order-support")
# The orders API with `from_cart` on create (carts/views.py extends the orders app's viewset).
router.register("orders", OrderViewSet, basename="order")
# Shipments and changes before shipping: more routes under /orders/{key}/ (orders/api/fulfilment.py).
router.register("orders", OrderFulfilmentViewSet, basename="order-fulfilment")
router.register("returns", ReturnViewSet, basename="return")
router.register("refunds", RefundExportViewSet, basename="refund")

urlpatterns = [
    path("api/v1/auth/token/", TokenView.as_view(), name="auth-token"),
    path("api/v1/cart/", CartViewSet.as_view({"get": "retrieve", "put": "replace"}), name="cart"),
    path("api/v1/cart/items/", CartLineViewSet.as_view({"post": "create"}), name="cart-items"),
    path(
        "api/v1/cart/items/<uuid:pk>/",
        CartLineViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="cart-item",
    ),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="order_project/redoc.html"),
        name="redoc",
    ),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),  # log in and out of the browsable API
    path("", TemplateView.as_view(template_name="order_project/home.html"), name="home"),
]


def not_found(request, exception=None):
    """Unknown URLs answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        {"type": "client_error", "errors": [{"code": ErrorCode.NOT_FOUND, "detail": "Not found.", "attr": None}]},
        status=404,
    )


def server_error(request):
    return JsonResponse(
        {
            "type": "server_error",
            "errors": [{"code": ErrorCode.SERVER_ERROR, "detail": "A server error occurred.", "attr": None}],
        },
        status=500,
    )


handler404 = not_found
handler500 = server_error
