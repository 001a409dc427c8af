"""Reads of orders: who may see what, list filters and the prefetching that keeps query counts flat."""

import re
import uuid

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from rest_framework.exceptions import NotFound

from order_project.filters import UtcIsoDateTimeFilter
from users.models import User

from .models import Order, OrderItem, OrderStatus, OrderStatusHistory, ReturnItem, ReturnRequest, ReturnStatus

ORDER_NUMBER_PATTERN = re.compile(r"^ORD-\d{8}-[0-9A-Z]{6}$")


def orders_visible_to(user: User) -> QuerySet[Order]:
    """Staff see every order; a customer only their own (anyone else's is a 404, never a 403)."""
    orders = Order.objects.all()
    return orders if user.is_staff else orders.filter(user=user)


def with_items(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("line_number")))


def order_get(*, user: User, key: str) -> Order:
    """One order by UUID or by order number, if `user` may see it."""
    orders = orders_visible_to(user)
    try:
        lookup = Q(pk=uuid.UUID(key))
    except ValueError:
        number = key.upper()
        if not ORDER_NUMBER_PATTERN.match(number):
            raise NotFound()
        lookup = Q(order_number=number)
    order = with_items(orders.filter(lookup)).first()
    if order is None:
        raise NotFound()
    return order


def order_history(*, order: Order) -> QuerySet[OrderStatusHistory]:
    return order.history.order_by("created_at", "id")


class StatusListFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`status=pending,confirmed`: any of the listed statuses; an unknown one is a 400."""


class OrderFilter(django_filters.FilterSet):
    """List filters; the DRF filter backend runs it on `orders_visible_to(user)`."""

    status = StatusListFilter(field_name="status", choices=OrderStatus.choices, lookup_expr="in")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    customer = django_filters.UUIDFilter(method="filter_customer", label="Staff only: orders of this user id")
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, label="Staff only: order number, customer email or name"
    )

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before", "customer", "search"]

    def _staff(self) -> bool:
        return bool(self.request and self.request.user.is_staff)

    def filter_customer(self, orders: QuerySet[Order], name: str, value) -> QuerySet[Order]:
        # A customer's list is already their own; the staff filter is ignored for them.
        return orders.filter(user_id=value) if self._staff() else orders

    def filter_search(self, orders: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        value = value.strip()
        if not value or not self._staff():
            return orders
        return orders.filter(
            Q(order_number=value.upper())
            | Q(customer__email__iexact=value)
            | Q(customer__display_name__icontains=value)
        )


# ---- returns -----------------------------------------------------------------------------------------


def with_return_details(returns: QuerySet[ReturnRequest]) -> QuerySet[ReturnRequest]:
    """What a return's representation reads: its order's number and its items' line numbers."""
    return returns.select_related("order").prefetch_related(
        Prefetch("items", queryset=ReturnItem.objects.select_related("order_item").order_by("id"))
    )


def order_returns(*, order: Order) -> QuerySet[ReturnRequest]:
    return with_return_details(ReturnRequest.objects.filter(order=order).order_by("requested_at", "id"))


def return_get(*, return_id: uuid.UUID) -> ReturnRequest:
    found = with_return_details(ReturnRequest.objects.filter(pk=return_id)).first()
    if found is None:
        raise NotFound()
    return found


class ReturnFilter(django_filters.FilterSet):
    """Staff list filters of GET /api/v1/returns/ (newest first)."""

    status = django_filters.ChoiceFilter(choices=ReturnStatus.choices)
    created_after = UtcIsoDateTimeFilter(field_name="requested_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="requested_at", lookup_expr="lt")
    order_number = django_filters.CharFilter(method="filter_order_number", max_length=30, label="Exact order number")

    class Meta:
        model = ReturnRequest
        fields = ["status", "created_after", "created_before", "order_number"]

    def filter_order_number(self, returns: QuerySet[ReturnRequest], name: str, value: str) -> QuerySet[ReturnRequest]:
        value = value.strip().upper()
        return returns.filter(order__order_number=value) if value else returns
