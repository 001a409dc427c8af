"""The order representation is one table (orders/representation.py): reads build it in PostgreSQL
(orders/selectors.py), writes, replays and events in Python. The two must agree field for field, in every
state an order and its items can be in, and the schema must document the same fields."""

import ast
import inspect

import pytest
from django.db import connection
from rest_framework import serializers

from orders import representation, selectors
from orders.api.serializers import OrderSerializer
from orders.models import Order
from orders.returns import services as returns
from orders.services import create, fulfillment, lifecycle
from tests.factories import StaffFactory, VariantFactory, make_order, order_in, walk

pytestmark = pytest.mark.django_db


def _serialized(order: Order) -> dict:
    return representation.order_representation(Order.objects.prefetch_related("items").get(pk=order.pk))


def _orders_in_every_state() -> list[Order]:
    staff = StaffFactory()
    pending = make_order(variants=[VariantFactory(attributes={"Color": "Red", "Size": "L"}), VariantFactory()])
    cancelled = make_order()
    lifecycle.order_cancel(order_id=cancelled.pk, actor=staff, reason='Changed my mind, "quoted" ünïcode')
    shipping = order_in("processing", actor=staff, variants=[VariantFactory(), VariantFactory()], quantity=3)
    fulfillment.item_fulfill(
        order_id=shipping.pk, item_id="item_1", actor=staff, status="shipped", quantity=2, carrier="UPS",
        tracking_number="1Z999",
    )  # fmt: skip
    fulfillment.shipment_create(
        order_id=shipping.pk, actor=staff, items=[{"item_id": "item_2", "quantity": 3}], carrier="DHL",
        tracking_number="JD-2",
    )  # fmt: skip
    delivered = order_in("delivered", actor=staff)
    partly_refunded = order_in("delivered", actor=staff, quantity=2)
    asked = returns.return_request(
        order_id=partly_refunded.pk,
        actor=staff,
        reason="One of the two arrived broken.",
        reason_category="defective",
        items=[{"item_id": "item_1", "quantity": 1}],
    )
    returns.return_review(
        return_id=asked.pk, actor=staff, decision="approved", notes="Broken, as shown.", refund_cents=700
    )
    refunded = walk(make_order(), "refunded", actor=staff, note="Lost in transit")
    return [pending, cancelled, shipping, delivered, partly_refunded, refunded]


def test_a_page_built_by_postgresql_equals_the_serializer_in_every_state():
    orders = _orders_in_every_state()

    built = selectors.order_representations(order_ids=[order.pk for order in reversed(orders)])

    assert built == [_serialized(order) for order in reversed(orders)]
    assert built[4]["cancellation"]["reason"] == 'Changed my mind, "quoted" ünïcode'
    assert built[3]["items"][0]["carrier"] == "UPS" and built[3]["items"][0]["shipped_at"] is not None
    assert built[2]["items"][0]["delivered_at"] is not None
    assert [order["refunded_cents"] for order in built[:2]] == [built[0]["total_cents"], 700]
    # Shipments: none on a new order, one per parcel (the first item's and the second's), delivered ones dated.
    assert built[5]["shipments"] == []
    assert [(s["carrier"], s["items"]) for s in built[3]["shipments"]] == [
        ("UPS", [{"item_id": "item_1", "quantity": 2}]),
        ("DHL", [{"item_id": "item_2", "quantity": 3}]),
    ]
    assert built[2]["shipments"][0]["delivered_at"] is not None


def test_one_order_read_by_get_equals_the_serializer():
    for order in _orders_in_every_state():
        found = selectors.order_get(user=StaffFactory.build(is_superuser=True), key=order.order_number)
        assert OrderSerializer(found).data == _serialized(order)


def test_no_ids_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.order_representations(order_ids=[]) == []


def test_the_schema_documents_shipments_as_the_representation_builds_them(client):
    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert schemas["Order"]["properties"]["shipments"]["items"]["$ref"] == "#/components/schemas/Shipment"
    assert list(schemas["Shipment"]["properties"]) == [field.name for field in representation.SHIPMENT_FIELDS]
    assert list(schemas["ShipmentLine"]["properties"]) == ["item_id", "quantity"]


def test_the_schema_documents_refunded_cents_as_an_integer_the_api_always_sends(client):
    order_schema = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]["Order"]
    assert order_schema["properties"]["refunded_cents"]["type"] == "integer"
    assert "refunded_cents" in order_schema["required"]


def test_the_schema_documents_the_fields_of_the_representation_in_its_order(client):
    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

    assert list(schemas["Order"]["properties"]) == [field.name for field in representation.ORDER_FIELDS]
    assert list(schemas["OrderItem"]["properties"]) == [field.name for field in representation.ITEM_FIELDS]


def test_a_field_added_to_the_table_is_built_alike_by_postgresql_and_python_and_documented():
    order = make_order(quantity=2)
    twin = representation.Field(
        "item_count_twin", lambda order: order.item_count, "o.item_count", schema=serializers.IntegerField()
    )
    with_twin = [*representation.ORDER_FIELDS, twin]

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {representation.json_object_sql(with_twin)} FROM {Order._meta.db_table} o WHERE o.id = %s",
            [order.pk],
        )
        (built,) = cursor.fetchone()

    assert built == representation.represent(with_twin, Order.objects.prefetch_related("items").get(pk=order.pk))
    assert list(built)[-2:] == ["updated_at", "item_count_twin"] and built["item_count_twin"] == order.item_count

    class OrderWithTwinSerializer(OrderSerializer):
        representation_fields = with_twin

        class Meta(OrderSerializer.Meta):
            fields = [field.name for field in with_twin]

    assert isinstance(OrderWithTwinSerializer().fields["item_count_twin"], serializers.IntegerField)


def test_the_order_created_event_is_built_without_the_api_serializers():
    imported = {
        node.module
        for node in ast.walk(ast.parse(inspect.getsource(create)))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "serializers" not in {module.rsplit(".", 1)[-1] for module in imported}
