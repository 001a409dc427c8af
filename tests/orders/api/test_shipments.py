"""Shipments: every shipping is a parcel with its own carrier and tracking number (the item endpoint, the
several-items endpoint, the staff move to shipped), its delivery, and the order's `shipments`."""

import pytest

from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent, Shipment
from tests.assertions import assert_client_error, errors_by_attr, order_state
from tests.factories import VariantFactory, make_order, walk

pytestmark = pytest.mark.django_db


def processing_order(quantities=(3, 2, 1)):
    order = make_order(variants=[VariantFactory() for _ in quantities], quantities=quantities)
    return walk(order, "processing")


def ship_url(order):
    return f"/api/v1/orders/{order.pk}/shipments/"


def delivery_url(order, shipment_id):
    return f"/api/v1/orders/{order.pk}/shipments/{shipment_id}/delivery/"


def item_url(order, item_id):
    return f"/api/v1/orders/{order.pk}/items/{item_id}/fulfillment/"


def parcel(*lines, carrier="DHL", tracking_number="JD-1"):
    items = [{"item_id": item_id, "quantity": quantity} for item_id, quantity in lines]
    return {"items": items, "carrier": carrier, "tracking_number": tracking_number}


def events_after(order, sequence):
    return list(OutboxEvent.objects.filter(order=order, sequence__gt=sequence).order_by("sequence"))


def test_a_second_partial_shipment_keeps_the_first_tracking_number(staff_client):
    order = processing_order()
    first = staff_client.post(
        item_url(order, "item_1"), {"status": "shipped", "quantity": 1, "carrier": "UPS", "tracking_number": "1Z-A"}
    )
    assert first.status_code == 200, first.json()

    second = staff_client.post(
        item_url(order, "item_1"), {"status": "shipped", "quantity": 2, "carrier": "DHL", "tracking_number": "JD-B"}
    )

    assert second.status_code == 200, second.json()
    body = second.json()
    assert [(s["carrier"], s["tracking_number"], s["items"]) for s in body["shipments"]] == [
        ("UPS", "1Z-A", [{"item_id": "item_1", "quantity": 1}]),
        ("DHL", "JD-B", [{"item_id": "item_1", "quantity": 2}]),
    ]
    # The item still shows its latest parcel, as before shipments existed.
    item = body["items"][0]
    assert (item["shipped_quantity"], item["fulfillment_status"], item["tracking_number"]) == (3, "shipped", "JD-B")
    # The read shows the same shipments as the write.
    assert staff_client.get(f"/api/v1/orders/{order.pk}/").json()["shipments"] == body["shipments"]


def test_one_shipment_of_several_items_rolls_the_order_up(staff, staff_client):
    order = processing_order()
    before = Order.objects.get(pk=order.pk).last_event_sequence

    response = staff_client.post(ship_url(order), parcel(("item_1", 2), ("item_3", 1)))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "processing"
    assert [(i["item_id"], i["fulfillment_status"], i["shipped_quantity"], i["carrier"]) for i in body["items"]] == [
        ("item_1", "processing", 2, "DHL"),
        ("item_2", "pending", 0, None),
        ("item_3", "shipped", 1, "DHL"),
    ]
    (shipment,) = body["shipments"]
    assert shipment["items"] == [{"item_id": "item_1", "quantity": 2}, {"item_id": "item_3", "quantity": 1}]
    assert (shipment["carrier"], shipment["tracking_number"], shipment["delivered_at"]) == ("DHL", "JD-1", None)
    assert Shipment.objects.get().created_by == staff
    new = events_after(order, before)
    assert [e.event_type for e in new] == ["order.shipment_created", *["order.item_fulfillment_changed"] * 2]
    assert new[0].payload["data"] == shipment
    assert [e.payload["data"]["item_id"] for e in new[1:]] == ["item_1", "item_3"]

    # The rest in a second parcel: every item shipped, the order follows, recorded in history.
    response = staff_client.post(ship_url(order), parcel(("item_2", 2), ("item_1", 1), tracking_number="JD-2"))

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "shipped"
    assert [s["tracking_number"] for s in response.json()["shipments"]] == ["JD-1", "JD-2"]
    assert OrderStatusHistory.objects.filter(order=order, to_status="shipped").count() == 1


def test_bad_lines_are_all_reported_and_nothing_ships(staff_client):
    order = processing_order()
    unchanged = order_state(order)

    response = staff_client.post(ship_url(order), parcel(("item_9", 1), ("item_1", 4), ("item_2", 1), ("item_2", 1)))

    assert errors_by_attr(response, 400) == {
        "items.0.item_id": {"item_not_found"},
        "items.1.quantity": {"shipment_quantity_exceeded"},
        "items.3.item_id": {"duplicate_item"},
    }
    assert order_state(order) == unchanged
    assert not Shipment.objects.exists()


def test_a_malformed_shipment_is_a_400_even_beside_an_item_that_may_not_ship(staff_client):
    order = processing_order()
    assert staff_client.post(ship_url(order), parcel(("item_1", 3))).status_code == 201  # item_1 all shipped
    unchanged = order_state(order)

    refused_alone = staff_client.post(ship_url(order), parcel(("item_1", 1)))
    response = staff_client.post(ship_url(order), parcel(("item_1", 1), ("item_9", 1), ("item_1", 1)))

    assert refused_alone.status_code == 409
    assert errors_by_attr(response, 400) == {
        "items.1.item_id": {"item_not_found"},
        "items.2.item_id": {"duplicate_item"},
    }
    assert order_state(order) == unchanged


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"items": [], "carrier": "DHL", "tracking_number": "1"}, "items"),
        (parcel(("item_1", 0)), "items.0.quantity"),
        (parcel(("line_1", 1)), "items.0.item_id"),
        (parcel(("item_1", 1), carrier=""), "carrier"),
        (parcel(("item_1", 1), tracking_number="x" * 101), "tracking_number"),
        ({"items": [{"item_id": "item_1", "quantity": 1}] * 101, "carrier": "D", "tracking_number": "1"}, "items"),
    ],
)
def test_an_invalid_body_is_a_400(body, attr, staff_client):
    order = processing_order()

    response = staff_client.post(ship_url(order), body)

    assert attr in errors_by_attr(response, 400)
    assert not Shipment.objects.exists()


@pytest.mark.parametrize("status", ["pending", "confirmed"])
def test_shipping_before_processing_is_a_409(status, staff_client):
    order = walk(make_order(quantity=2), status)
    unchanged = order_state(order)

    response = staff_client.post(ship_url(order), parcel(("item_1", 1)))

    assert_client_error(response, 409, "invalid_transition")
    assert order_state(order) == unchanged


def test_a_cancelled_item_cannot_be_in_a_shipment(staff_client):
    order = processing_order()
    assert staff_client.post(f"/api/v1/orders/{order.pk}/items/item_2/cancel/", {"reason": "gone"}).status_code == 200
    unchanged = order_state(order)

    response = staff_client.post(ship_url(order), parcel(("item_1", 1), ("item_2", 1)))

    assert_client_error(response, 409, "invalid_transition")
    assert "item_2" in response.json()["errors"][0]["detail"]
    assert order_state(order) == unchanged


def test_delivering_shipments_delivers_items_whose_every_unit_arrived(staff_client):
    order = processing_order(quantities=(3, 1))
    first = staff_client.post(ship_url(order), parcel(("item_1", 2), ("item_2", 1))).json()["shipments"][0]["id"]
    second = staff_client.post(ship_url(order), parcel(("item_1", 1), tracking_number="JD-2")).json()
    assert second["status"] == "shipped"
    second_id = second["shipments"][1]["id"]

    # item_2 arrived whole; item_1 still has a unit on the way.
    response = staff_client.post(delivery_url(order, first))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [i["fulfillment_status"] for i in body["items"]] == ["shipped", "delivered"]
    assert body["shipments"][0]["delivered_at"] is not None and body["shipments"][1]["delivered_at"] is None
    assert body["status"] == "shipped"

    assert_client_error(staff_client.post(delivery_url(order, first)), 409, "invalid_transition")

    response = staff_client.post(delivery_url(order, second_id))

    assert response.status_code == 200, response.json()
    assert [i["fulfillment_status"] for i in response.json()["items"]] == ["delivered", "delivered"]
    assert response.json()["status"] == "delivered"
    assert OrderItem.objects.filter(order=order, delivered_at__isnull=True).count() == 0


def test_delivering_an_item_delivers_the_shipments_it_completes(staff_client):
    order = processing_order(quantities=(1, 1))
    staff_client.post(ship_url(order), parcel(("item_1", 1), ("item_2", 1)))
    assert staff_client.post(item_url(order, "item_1"), {"status": "delivered"}).status_code == 200
    assert Shipment.objects.get().delivered_at is None  # item_2 is still on its way

    response = staff_client.post(item_url(order, "item_2"), {"status": "delivered"})

    assert response.json()["status"] == "delivered"
    assert response.json()["shipments"][0]["delivered_at"] is not None


def test_a_staff_move_to_shipped_and_delivered_keeps_shipments_in_step(staff_client):
    order = processing_order(quantities=(2, 1))
    staff_client.post(item_url(order, "item_1"), {"status": "shipped", "quantity": 1, "carrier": "UPS"})

    shipped = staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "shipped"}).json()

    assert [(s["carrier"], s["items"]) for s in shipped["shipments"]] == [
        ("UPS", [{"item_id": "item_1", "quantity": 1}]),
        ("", [{"item_id": "item_1", "quantity": 1}, {"item_id": "item_2", "quantity": 1}]),
    ]
    delivered = staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "delivered"}).json()
    assert all(s["delivered_at"] for s in delivered["shipments"])


def test_an_unknown_shipment_is_a_404(staff_client):
    order = processing_order()
    other = processing_order()
    staff_client.post(ship_url(other), parcel(("item_1", 1)))

    response = staff_client.post(delivery_url(order, Shipment.objects.get().pk))

    assert_client_error(response, 404, "not_found")


def test_customers_cannot_ship_their_own_order(customer, customer_client):
    order = walk(make_order(user=customer, quantity=2), "processing")

    response = customer_client.post(ship_url(order), parcel(("item_1", 1)))

    assert_client_error(response, 403, "permission_denied")
    assert not Shipment.objects.exists()
