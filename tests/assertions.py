"""Assertions, and the values they expect, shared by the tests."""

import json

from django.db import connection, transaction
from django.urls import reverse

from orders.models import Order, OrderItem
from products.models import ProductVariant

# The fields of the contract's resources (docs/API.md), written out here rather than read from the serializers
# under test, and kept in one place for the API's tests and the schema's.
USER_FIELDS = {"id", "username", "email", "display_name", "phone", "is_staff"}
SUPPLIER_FIELDS = {"id", "name"}
VARIANT_FIELDS = {"id", "name", "sku", "attributes", "price_cents", "stock_quantity"}
PRODUCT_FIELDS = {
    "id",
    "name",
    "description",
    "status",
    "supplier",
    "image_url",
    "currency",
    "base_price_cents",
    "variants",
    "created_at",
    "updated_at",
}


def estimated_count(queryset, *, exact_up_to: int) -> int:
    """A list's count past `exact_up_to` rows: PostgreSQL's row estimate for it, never below the rows counted
    on the way (exact_up_to + 1); not the exact count."""
    plan_rows = json.loads(queryset.order_by().explain(format="json"))[0]["Plan"]["Plan Rows"]
    return max(int(plan_rows), exact_up_to + 1)


def errors_by_attr(response, status: int, error_type: str = "validation_error") -> dict[str, set[str]]:
    """Assert the contract's error shape and return {attr: {codes}}."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] == error_type
    assert body["errors"], body
    result: dict[str, set[str]] = {}
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
        assert error["detail"]
        result.setdefault(error["attr"], set()).add(error["code"])
    return result


def assert_client_error(response, status: int, code: str) -> None:
    assert errors_by_attr(response, status, "client_error") == {None: {code}}


def order_state(order: Order) -> dict:
    """Everything a refused call on `order` must leave as it was: its row, items, history and events, and the
    stock of its variants."""
    order = Order.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "cancellation": order.cancellation,
        "last_event_sequence": order.last_event_sequence,
        "history": order.history.count(),
        "events": order.events.count(),
        "items": list(
            OrderItem.objects.filter(order=order)
            .order_by("line_number")
            .values_list(
                "fulfillment_status", "shipped_quantity", "carrier", "tracking_number", "shipped_at", "delivered_at"
            )
        ),
        "stock": list(
            ProductVariant.objects.filter(order_items__order=order)
            .order_by("pk")
            .values_list("stock_quantity", flat=True)
        ),
    }


def messages_of(response) -> list[str]:
    """The messages an admin page shows (none for a page without a template context)."""
    return [str(message) for message in response.context["messages"]] if response.context else []


def follow_messages(client, response) -> list[str]:
    """The messages shown on the page an admin POST redirected to."""
    assert response.status_code == 302, response.content[:500]
    return messages_of(client.get(response["Location"]))


ORDER_TABLES = ("orders_order", "orders_orderitem")


def plan_nodes(sql: str, *, priced_out: tuple[str, ...] = ("seqscan",)) -> list[dict]:
    """Every node of the plan PostgreSQL makes for `sql` with sequential scans disabled (and any other plan
    methods `priced_out` names): it then uses an index whenever one can serve the query, so a Seq Scan left in
    the plan means no index can (reliable at test size)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for method in priced_out:
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def seq_scans(sql: str) -> list[str]:
    """The order tables `sql` can only read by a sequential scan."""
    return [
        node["Relation Name"]
        for node in plan_nodes(sql)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in ORDER_TABLES
    ]


def delete_status(client, model: str, pk) -> int:
    """The status of an admin delete of one row: 403 where rows are never deleted."""
    return client.post(reverse(f"admin:{model}_delete", args=[pk]), {"post": "yes"}).status_code
