"""POST /api/v1/orders/{id}/items/{item_id}/fulfillment/: partial shipments, deliveries, the roll-up of the
order status, and the events and history each step leaves behind."""

import re
from datetime import UTC, datetime

import pytest

from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent
from tests.assertions import order_state
from tests.factories import VariantFactory, make_order, order_in, stocks, walk

pytestmark = pytest.mark.django_db

STOCK = 10
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def fulfill_url(order, item_id):
    return f"/api/v1/orders/{order.pk}/items/{item_id}/fulfillment/"


def three_line_order(user=None, quantities=(3, 2, 1)):
    variants = [VariantFactory(stock_quantity=STOCK) for _ in quantities]
    return make_order(user=user, variants=variants, quantities=quantities), variants


def items_of(order):
    return {item.item_id: item for item in OrderItem.objects.filter(order=order)}


def the_error(response):
    body = response.json()
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def last_event(order):
    return OutboxEvent.objects.filter(order=order).order_by("-sequence").first()


def item_in(body, item_id):
    return next(item for item in body["items"] if item["item_id"] == item_id)


def parse(ts):
    assert TIMESTAMP.match(ts), ts
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# ---- the whole story of a three-line order -------------------------------------------------------------------


def test_partial_shipments_then_deliveries_roll_the_order_up(staff, staff_client):
    order, variants = three_line_order()
    for step in ["confirmed", "processing"]:
        response = staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": step, "note": step})
        assert response.status_code == 200, response.json()
    reserved = stocks(variants)
    assert reserved == [STOCK - 3, STOCK - 2, STOCK - 1]
    fulfillment_events = []

    def expect_event(item_id, fulfillment_status, shipped_quantity, carrier, tracking_number):
        event = OutboxEvent.objects.filter(order=order, event_type="order.item_fulfillment_changed").order_by(
            "-sequence"
        )[0]
        assert event.pk not in fulfillment_events
        fulfillment_events.append(event.pk)
        assert event.payload["data"] == {
            "item_id": item_id,
            "fulfillment_status": fulfillment_status,
            "shipped_quantity": shipped_quantity,
            "carrier": carrier,
            "tracking_number": tracking_number,
        }
        assert event.payload["order_id"] == str(order.pk)

    # First parcel of item_1: 2 of 3. The server stamps shipped_at, whatever the client sends.
    before = datetime.now(UTC)
    response = staff_client.post(
        fulfill_url(order, "item_1"),
        {
            "status": "shipped",
            "quantity": 2,
            "carrier": "UPS",
            "tracking_number": "1Z-A",
            "shipped_at": "2001-01-01T00:00:00Z",
        },
    )
    after = datetime.now(UTC)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "processing"
    item = item_in(body, "item_1")
    assert (item["fulfillment_status"], item["shipped_quantity"], item["carrier"], item["tracking_number"]) == (
        "processing",
        2,
        "UPS",
        "1Z-A",
    )
    assert before <= parse(item["shipped_at"]) <= after
    assert item["delivered_at"] is None
    assert [(i["fulfillment_status"], i["shipped_quantity"]) for i in body["items"][1:]] == [("pending", 0)] * 2
    expect_event("item_1", "processing", 2, "UPS", "1Z-A")

    # More than the one unit left: 400 on quantity, nothing written.
    unchanged = order_state(order)
    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 2})
    assert response.status_code == 400, response.json()
    assert (the_error(response)["attr"], the_error(response)["code"]) == ("quantity", "invalid")
    assert order_state(order) == unchanged

    # Delivering an item that is not fully shipped: 409.
    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "delivered"})
    assert response.status_code == 409, response.json()
    assert the_error(response)["code"] == "invalid_transition"
    assert order_state(order) == unchanged

    # Second parcel completes item_1; the order still waits for the other lines.
    response = staff_client.post(
        fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1, "carrier": "DHL", "tracking_number": "JD-B"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    item = item_in(body, "item_1")
    assert (item["fulfillment_status"], item["shipped_quantity"]) == ("shipped", 3)
    assert (item["carrier"], item["tracking_number"]) == ("DHL", "JD-B")
    assert body["status"] == "processing"
    expect_event("item_1", "shipped", 3, "DHL", "JD-B")
    db_item = items_of(order)["item_1"]
    assert (db_item.fulfillment_status, db_item.shipped_quantity) == ("shipped", 3)

    # A fully shipped item ships no more.
    unchanged = order_state(order)
    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1})
    assert response.status_code in (400, 409), response.json()
    assert order_state(order) == unchanged

    # item_2 without a quantity ships everything left of it.
    response = staff_client.post(fulfill_url(order, "item_2"), {"status": "shipped", "carrier": "UPS"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (item_in(body, "item_2")["fulfillment_status"], item_in(body, "item_2")["shipped_quantity"]) == (
        "shipped",
        2,
    )
    assert body["status"] == "processing"
    expect_event("item_2", "shipped", 2, "UPS", None)
    assert Order.objects.get(pk=order.pk).status == "processing"

    # The last line ships: the order becomes shipped, recorded in history by this staff member.
    history_before = OrderStatusHistory.objects.filter(order=order).count()
    response = staff_client.post(
        fulfill_url(order, "item_3"), {"status": "shipped", "quantity": 1, "carrier": "USPS", "tracking_number": "9400"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert OrderStatusHistory.objects.filter(order=order).count() == history_before + 1
    events = list(OutboxEvent.objects.filter(order=order).order_by("-sequence")[:2])
    assert [e.event_type for e in events] == ["order.status_changed", "order.item_fulfillment_changed"]
    assert events[0].payload["data"]["from_status"] == "processing"
    assert events[0].payload["data"]["to_status"] == "shipped"
    assert events[0].payload["data"]["changed_by"] == str(staff.pk)
    expect_event("item_3", "shipped", 1, "USPS", "9400")

    # Deliveries, one by one; the last one delivers the order.
    for item_id in ["item_1", "item_2", "item_3"]:
        before = datetime.now(UTC)
        response = staff_client.post(fulfill_url(order, item_id), {"status": "delivered"})
        after = datetime.now(UTC)
        assert response.status_code == 200, response.json()
        body = response.json()
        item = item_in(body, item_id)
        assert item["fulfillment_status"] == "delivered"
        assert before <= parse(item["delivered_at"]) <= after
        assert body["status"] == ("delivered" if item_id == "item_3" else "shipped")
        shipped = {"item_1": 3, "item_2": 2, "item_3": 1}[item_id]
        carrier, tracking = {"item_1": ("DHL", "JD-B"), "item_2": ("UPS", None), "item_3": ("USPS", "9400")}[item_id]
        expect_event(item_id, "delivered", shipped, carrier, tracking)

    # A delivered item is not delivered twice.
    unchanged = order_state(order)
    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "delivered"})
    assert response.status_code == 409, response.json()
    assert order_state(order) == unchanged

    history = staff_client.get(f"/api/v1/orders/{order.pk}/history/").json()
    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in history] == [
        (None, "pending", str(order.user_id)),
        ("pending", "confirmed", str(staff.pk)),
        ("confirmed", "processing", str(staff.pk)),
        ("processing", "shipped", str(staff.pk)),
        ("shipped", "delivered", str(staff.pk)),
    ]

    # Seven successful fulfillment calls, seven item events, each of the four shipping calls a shipment
    # (announced before its item's event); every event numbered 1..N without a gap.
    all_events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert len(fulfillment_events) == 7
    shipped = ["order.shipment_created", "order.item_fulfillment_changed"]
    assert [e.event_type for e in all_events] == [
        "order.created",
        "order.status_changed",
        "order.status_changed",
        *shipped * 4,
        "order.status_changed",
        *["order.item_fulfillment_changed"] * 3,
        "order.status_changed",
    ]
    assert [e.sequence for e in all_events] == list(range(1, len(all_events) + 1))
    assert Order.objects.get(pk=order.pk).last_event_sequence == len(all_events)

    # Fulfillment never touches stock: it was reserved at checkout.
    assert stocks(variants) == reserved
    final = items_of(order)
    assert [(final[i].fulfillment_status, final[i].shipped_quantity) for i in ("item_1", "item_2", "item_3")] == [
        ("delivered", 3),
        ("delivered", 2),
        ("delivered", 1),
    ]
    assert all(final[i].delivered_at >= final[i].shipped_at for i in final)


# ---- refused calls ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "confirmed"])
def test_shipping_before_processing_is_409(status, staff_client):
    order, _ = three_line_order()
    walk(order, status)
    unchanged = order_state(order)

    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1})

    assert response.status_code == 409, response.json()
    error = the_error(response)
    assert error["code"] == "invalid_transition"
    assert order.status in error["detail"]
    assert order_state(order) == unchanged


@pytest.mark.parametrize("status", ["pending", "confirmed", "processing"])
def test_delivering_an_unshipped_item_is_409(status, staff_client):
    order, _ = three_line_order()
    walk(order, status)
    unchanged = order_state(order)

    response = staff_client.post(fulfill_url(order, "item_2"), {"status": "delivered"})

    assert response.status_code == 409, response.json()
    assert the_error(response)["code"] == "invalid_transition"
    assert order_state(order) == unchanged


def test_customer_gets_403_even_on_their_own_order(customer, customer_client):
    order, _ = three_line_order(user=customer)
    walk(order, "processing")
    unchanged = order_state(order)

    response = customer_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1})

    assert response.status_code == 403
    assert the_error(response)["code"] == "permission_denied"
    assert order_state(order) == unchanged


def test_anonymous_gets_401(anon_client):
    order, _ = three_line_order()
    walk(order, "processing")
    unchanged = order_state(order)

    response = anon_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1})

    assert response.status_code == 401
    assert order_state(order) == unchanged


@pytest.mark.parametrize("item_id", ["item_99", "item_0", "item_4"])
def test_unknown_item_is_404(item_id, staff_client):
    order, _ = three_line_order()
    walk(order, "processing")
    unchanged = order_state(order)

    response = staff_client.post(fulfill_url(order, item_id), {"status": "shipped", "quantity": 1})

    assert response.status_code == 404, response.content
    assert the_error(response)["code"] == "not_found"
    assert order_state(order) == unchanged


def test_unknown_order_is_404(staff_client):
    url = "/api/v1/orders/00000000-0000-0000-0000-000000000000/items/item_1/fulfillment/"

    response = staff_client.post(url, {"status": "shipped", "quantity": 1})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"status": "cancelled"}, "status"),
        ({"status": "returned"}, "status"),
        ({}, "status"),
        ({"status": "shipped", "quantity": 0}, "quantity"),
        ({"status": "shipped", "quantity": -1}, "quantity"),
        ({"status": "shipped", "quantity": "1"}, "quantity"),
        ({"status": "shipped", "quantity": 1.0}, "quantity"),
        ({"status": "shipped", "quantity": True}, "quantity"),
        ({"status": "shipped", "carrier": "x" * 51}, "carrier"),
    ],
)
def test_invalid_body_is_400(body, attr, staff_client):
    order, _ = three_line_order()
    walk(order, "processing")
    unchanged = order_state(order)

    response = staff_client.post(fulfill_url(order, "item_1"), body)

    assert response.status_code == 400, response.json()
    assert the_error(response)["attr"] == attr
    assert order_state(order) == unchanged


def test_cancelling_marks_unshipped_items_cancelled_and_they_cannot_ship(customer, customer_client, staff_client):
    order, variants = three_line_order(user=customer)
    walk(order, "confirmed")
    response = customer_client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "changed my mind"})
    assert response.status_code == 200, response.json()
    assert [i["fulfillment_status"] for i in response.json()["items"]] == ["cancelled"] * 3
    assert {i.fulfillment_status for i in items_of(order).values()} == {"cancelled"}
    assert stocks(variants) == [STOCK] * 3
    unchanged = order_state(order)

    for body in ({"status": "shipped", "quantity": 1}, {"status": "delivered"}):
        response = staff_client.post(fulfill_url(order, "item_1"), body)
        assert response.status_code == 409, response.json()
        assert the_error(response)["code"] == "invalid_transition"
    assert order_state(order) == unchanged


def test_shipped_items_of_a_cancelled_processing_order_cannot_ship_more(staff_client):
    order, variants = three_line_order()
    walk(order, "processing")
    assert staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1}).status_code == 200
    assert staff_client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "fraud"}).status_code == 200
    unchanged = order_state(order)

    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped"})

    assert response.status_code == 409, response.json()
    assert order_state(order) == unchanged
    # Only the two units still in the warehouse came back; the shipped one did not.
    assert stocks(variants) == [STOCK - 1, STOCK, STOCK]


def test_staff_move_to_shipped_ships_what_was_left(staff, staff_client):
    order, _ = three_line_order()
    walk(order, "processing")
    assert staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1}).status_code == 200

    response = staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "shipped"})

    assert response.status_code == 200, response.json()
    assert [(i["fulfillment_status"], i["shipped_quantity"]) for i in response.json()["items"]] == [
        ("shipped", 3),
        ("shipped", 2),
        ("shipped", 1),
    ]
    assert all(i["shipped_at"] for i in response.json()["items"])


def fulfillment_events_after(order, sequence):
    return [
        (e.payload["data"]["item_id"], e.payload["data"]["fulfillment_status"], e.payload["data"]["shipped_quantity"])
        for e in OutboxEvent.objects.filter(order=order, sequence__gt=sequence).order_by("sequence")
        if e.event_type == "order.item_fulfillment_changed"
    ]


def test_staff_moves_to_shipped_and_delivered_publish_an_event_per_item_they_change(staff_client):
    order, _ = three_line_order()
    walk(order, "processing")
    assert staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped", "quantity": 1}).status_code == 200
    assert staff_client.post(fulfill_url(order, "item_3"), {"status": "shipped"}).status_code == 200
    assert staff_client.post(fulfill_url(order, "item_3"), {"status": "delivered"}).status_code == 200
    before_shipped = Order.objects.get(pk=order.pk).last_event_sequence

    assert staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "shipped"}).status_code == 200
    before_delivered = Order.objects.get(pk=order.pk).last_event_sequence
    assert staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "delivered"}).status_code == 200

    # item_3 was delivered already: neither move changes it, so no event names it.
    assert fulfillment_events_after(order, before_shipped)[:2] == [("item_1", "shipped", 3), ("item_2", "shipped", 2)]
    assert fulfillment_events_after(order, before_delivered) == [("item_1", "delivered", 3), ("item_2", "delivered", 2)]
    sequences = list(OutboxEvent.objects.filter(order=order).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, Order.objects.get(pk=order.pk).last_event_sequence + 1))


def test_cancelling_publishes_an_event_per_item_it_cancels(staff_client):
    order, _ = three_line_order()
    walk(order, "processing")
    assert staff_client.post(fulfill_url(order, "item_2"), {"status": "shipped", "quantity": 1}).status_code == 200
    before = Order.objects.get(pk=order.pk).last_event_sequence

    assert staff_client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "out of business"}).status_code == 200

    assert fulfillment_events_after(order, before) == [("item_1", "cancelled", 0), ("item_3", "cancelled", 0)]
    assert [e.event_type for e in OutboxEvent.objects.filter(order=order, sequence__gt=before).order_by("sequence")][
        -2:
    ] == ["order.status_changed", "order.cancelled"]


def test_a_staff_move_to_shipped_costs_one_write_for_all_item_events(staff_client, django_assert_max_num_queries):
    small, _ = three_line_order(quantities=(1,))
    big, _ = three_line_order(quantities=(1,) * 20)
    walk(small, "processing")
    walk(big, "processing")

    with django_assert_max_num_queries(20) as one_item:
        assert staff_client.post(f"/api/v1/orders/{small.pk}/transition/", {"status": "shipped"}).status_code == 200
    with django_assert_max_num_queries(20) as twenty_items:
        assert staff_client.post(f"/api/v1/orders/{big.pk}/transition/", {"status": "shipped"}).status_code == 200

    assert len(twenty_items.captured_queries) == len(one_item.captured_queries)
    assert OutboxEvent.objects.filter(order=big, event_type="order.item_fulfillment_changed").count() == 20


def test_a_delivered_item_stays_delivered_when_the_last_one_ships(staff_client):
    """An early delivery of one line does not hold back the roll-up to shipped, then delivered."""
    order, _ = three_line_order(quantities=(1, 1))
    walk(order, "processing")
    assert staff_client.post(fulfill_url(order, "item_1"), {"status": "shipped"}).status_code == 200
    response = staff_client.post(fulfill_url(order, "item_1"), {"status": "delivered"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "processing"

    response = staff_client.post(fulfill_url(order, "item_2"), {"status": "shipped"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "shipped"
    assert [i["fulfillment_status"] for i in response.json()["items"]] == ["delivered", "shipped"]

    response = staff_client.post(fulfill_url(order, "item_2"), {"status": "delivered"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "delivered"
    assert list(
        OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").values_list("to_status", flat=True)
    ) == ["pending", "confirmed", "processing", "shipped", "delivered"]


@pytest.mark.django_db
def test_an_item_of_a_cancelled_order_cannot_be_delivered(staff, staff_client):
    order = order_in("processing", actor=staff, variants=VariantFactory.create_batch(2), quantity=1)
    shipped = staff_client.post(f"/api/v1/orders/{order.pk}/items/item_1/fulfillment/", {"status": "shipped"})
    assert shipped.status_code == 200
    assert staff_client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "lost parcel"}).status_code == 200

    response = staff_client.post(f"/api/v1/orders/{order.pk}/items/item_1/fulfillment/", {"status": "delivered"})

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"
    assert OrderItem.objects.get(order=order, line_number=1).delivered_at is None
