"""Reads of orders: who may see what, list filters and the prefetching that keeps query counts flat."""

import re
import uuid

import django_filters
from django.db import connection
from django.db.models import Prefetch, QuerySet
from rest_framework.exceptions import NotFound, ValidationError

from core.error_codes import ErrorCode
from core.filters import FilterSet, UtcIsoDateTimeFilter
from order_project.permissions import order_visibility
from orders import representation
from orders.models import Order, OrderStatus, OrderStatusHistory, ReturnItem, ReturnRequest, ReturnStatus
from users.models import User

ORDER_NUMBER_PATTERN = re.compile(r"^ORD-\d{8}-[0-9A-Z]{6}$")


def orders_visible_to(user: User) -> QuerySet[Order]:
    """The orders `user` may see (permissions.OrderVisibility)."""
    return order_visibility(user).filter(Order.objects.all())


# A page of orders built by PostgreSQL (orders/representation.py) for the page's rows only: no model
# instances, no JSON decoding and re-encoding of every snapshot in Python, no second query for the items.
# Items are rendered by PostgreSQL too: no item model instances and no prefetch machinery, which cost
# more CPU than the SQL.
_ORDER_REPRESENTATIONS_SQL = f"""
    SELECT {representation.ORDER_OF_O_SQL}
      FROM unnest(%s::uuid[]) WITH ORDINALITY AS page(id, position)
      JOIN {Order._meta.db_table} o ON o.id = page.id
     ORDER BY page.position
"""


def order_representations(*, order_ids: list[uuid.UUID]) -> list[dict]:
    """The representations of the given orders, in the given order (a list page's rows)."""
    if not order_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_ORDER_REPRESENTATIONS_SQL, [order_ids])  # psycopg parses `json` itself
        return [row[0] for row in cursor.fetchall()]


# One order with its items in one raw query: the ORM spent more CPU building this query than
# PostgreSQL spends running it, on the most frequent read there is.
_ORDER_GET_SQL = (
    f"SELECT {', '.join(f'o.{field.column}' for field in Order._meta.concrete_fields)},"
    f" ({representation.ITEMS_OF_ORDER_O_SQL}) AS item_representations,"
    f" ({representation.SHIPMENTS_OF_ORDER_O_SQL}) AS shipment_representations"
    # OrderVisibility.allows in SQL: every order, or the owner's own.
    f" FROM {Order._meta.db_table} o WHERE o.{{column}} = %s AND (%s OR o.user_id = %s)"
)


def order_get(*, user: User, key: str) -> Order:
    """One order by UUID or by order number, if `user` may see it (staff with view_order: any; others: their own)."""
    value: uuid.UUID | str
    try:
        column, value = "id", uuid.UUID(key)
    except ValueError:
        column, value = "order_number", key.upper()
        if not ORDER_NUMBER_PATTERN.match(value):
            raise NotFound()
    visibility = order_visibility(user)
    params = [value, visibility.every_order, visibility.owner_id]
    found = list(Order.objects.raw(_ORDER_GET_SQL.format(column=column), params))
    if not found:
        raise NotFound()
    return found[0]


def order_history(*, order: Order) -> QuerySet[OrderStatusHistory]:
    return order.history.order_by("created_at", "id")


class StatusListFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`status=pending,confirmed`: any of the listed statuses; an unknown one is a 400."""


# `ordering=`: each with the id as tie-breaker, in the same direction, so an index serves it (order_newest,
# order_user_newest, order_total, order_user_total, read forwards or backwards).
ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-total_cents": ("-total_cents", "-id"),
    "total_cents": ("total_cents", "id"),
}


class OrderFilter(FilterSet):
    """List filters; the DRF filter backend runs it on `orders_visible_to(user)`."""

    ordering = django_filters.ChoiceFilter(
        choices=[(name, name) for name in ORDERINGS],
        method="filter_ordering",
        label="Sort order: -created_at (newest first, the default), created_at, -total_cents or total_cents",
    )

    status = StatusListFilter(field_name="status", choices=OrderStatus.choices, lookup_expr="in")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    customer = django_filters.UUIDFilter(method="filter_customer", label="Staff only: orders of this user id")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        label="Staff only: an order number, a customer email (both exact, any case) or part of a customer name",
    )

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before", "customer", "search", "ordering"]

    def filter_ordering(self, orders: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        # Keyset pages (`cursor`) walk the newest-first order only.
        if value != "-created_at" and self.request is not None and "cursor" in self.request.query_params:
            raise ValidationError(
                {"ordering": ["Keyset pages (cursor) are newest first: drop ordering or use offset."]},
                code=ErrorCode.INVALID,
            )
        return orders.order_by(*ORDERINGS[value])

    def _staff(self) -> bool:
        return bool(self.request and order_visibility(self.request.user).every_order)

    def filter_customer(self, orders: QuerySet[Order], name: str, value) -> QuerySet[Order]:
        # A customer's list is already their own; the staff filter is ignored for them.
        return orders.filter(user_id=value) if self._staff() else orders

    def filter_search(self, orders: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        # One condition per kind of term, not an OR of all three: each has an index in list order, and an
        # OR made PostgreSQL scan or sort every order of a customer with thousands of them.
        value = value.strip()
        if not value or not self._staff():
            return orders
        if ORDER_NUMBER_PATTERN.match(value.upper()):
            return orders.filter(order_number=value.upper())
        if "@" in value:  # emails have one, names and order numbers do not
            return orders.filter(customer__email__iexact=value)
        return orders.filter(customer__display_name__icontains=value)


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


class ReturnFilter(FilterSet):
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
