"""POST /api/v1/orders/{id}/cancel/: who may cancel when, and what a cancellation gives back."""

import re

import pytest

from conftest import client_for
from orders.models import Order, OrderStatusHistory, OutboxEvent
from orders.services.lifecycle import order_transition
from tests.factories import UserFactory, VariantFactory, make_order

pytestmark = pytest.mark.django_db


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
REASON = "Found it cheaper elsewhere"


def cancel_url(order):
    return f"/api/v1/orders/{order.pk}/cancel/"


def stocks(*variants):
    for variant in variants:
        variant.refresh_from_db()
    return [variant.stock_quantity for variant in variants]


def move(order, *statuses, actor):
    for status in statuses:
        order_transition(order_id=order.pk, to_status=status, actor=actor, note=f"to {status}")


@pytest.fixture
def variants():
    return [VariantFactory(stock_quantity=10), VariantFactory(stock_quantity=10)]


@pytest.fixture
def order(customer, variants):
    """A pending order of 3 units of each of two variants: both are at 7 afterwards."""
    placed = make_order(user=customer, variants=variants, quantity=3)
    assert stocks(*variants) == [7, 7]
    return placed


def test_the_owner_cancels_a_pending_order(customer, customer_client, order, variants):
    response = customer_client.post(cancel_url(order), {"reason": REASON})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert set(body["cancellation"]) == {"reason", "cancelled_at", "cancelled_by"}
    assert body["cancellation"]["reason"] == REASON
    assert body["cancellation"]["cancelled_by"] == str(customer.pk)
    assert TIMESTAMP.match(body["cancellation"]["cancelled_at"])
    assert [item["fulfillment_status"] for item in body["items"]] == ["cancelled", "cancelled"]
    assert body == customer_client.get(f"/api/v1/orders/{order.pk}/").json()
    assert stocks(*variants) == [10, 10]

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert list(order.items.values_list("fulfillment_status", flat=True)) == ["cancelled", "cancelled"]
    last = order.history.order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by_id, last.note) == (
        "pending",
        "cancelled",
        customer.pk,
        REASON,
    )


def test_a_cancellation_writes_item_status_changed_and_cancelled_events_in_sequence(customer, customer_client, order):
    customer_client.post(cancel_url(order), {"reason": REASON})

    events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert [(event.sequence, event.event_type) for event in events] == [
        (1, "order.created"),
        (2, "order.item_fulfillment_changed"),
        (3, "order.item_fulfillment_changed"),
        (4, "order.status_changed"),
        (5, "order.cancelled"),
    ]
    assert [(e.payload["data"]["item_id"], e.payload["data"]["fulfillment_status"]) for e in events[1:3]] == [
        ("item_1", "cancelled"),
        ("item_2", "cancelled"),
    ]
    status_changed, cancelled = events[3].payload, events[4].payload
    assert status_changed["data"] == {
        "from_status": "pending",
        "to_status": "cancelled",
        "changed_by": str(customer.pk),
        "note": REASON,
    }
    assert cancelled["data"] == {"order_number": order.order_number, "reason": REASON, "cancelled_by": str(customer.pk)}
    for event in events[1:]:
        assert event.payload["event_id"] == str(event.pk)
        assert event.payload["event_type"] == event.event_type
        assert event.payload["schema_version"] == 1
        assert (event.payload["order_id"], event.payload["order_number"]) == (str(order.pk), order.order_number)
    order.refresh_from_db()
    assert order.last_event_sequence == 5


def test_the_owner_cancels_a_confirmed_order(customer_client, order, variants, staff):
    move(order, "confirmed", actor=staff)

    response = customer_client.post(cancel_url(order), {"reason": REASON})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert stocks(*variants) == [10, 10]
    assert list(Order.objects.get().history.values_list("to_status", flat=True)) == [
        "pending",
        "confirmed",
        "cancelled",
    ]


def test_a_customer_cannot_cancel_a_processing_order_but_staff_can(
    customer_client, staff_client, staff, order, variants
):
    move(order, "confirmed", "processing", actor=staff)

    refused = customer_client.post(cancel_url(order), {"reason": REASON})

    assert refused.status_code == 409
    assert refused.json()["type"] == "client_error"
    assert [error["code"] for error in refused.json()["errors"]] == ["invalid_transition"]
    assert Order.objects.get().status == "processing"
    assert stocks(*variants) == [7, 7]

    allowed = staff_client.post(cancel_url(order), {"reason": "Supplier cannot deliver"})

    assert allowed.status_code == 200, allowed.json()
    assert allowed.json()["status"] == "cancelled"
    assert allowed.json()["cancellation"]["cancelled_by"] == str(staff.pk)
    assert allowed.json()["cancellation"]["reason"] == "Supplier cannot deliver"
    assert stocks(*variants) == [10, 10]


@pytest.mark.parametrize(
    "path",
    [
        ["confirmed", "processing", "shipped"],
        ["confirmed", "processing", "shipped", "delivered"],
        ["confirmed", "processing", "shipped", "delivered", "refunded"],
        ["failed"],
    ],
)
def test_orders_past_processing_cannot_be_cancelled_by_anyone(
    customer_client, staff_client, staff, order, variants, path
):
    move(order, *path, actor=staff)
    stock_before = stocks(*variants)
    history_before = OrderStatusHistory.objects.count()

    for client in (customer_client, staff_client):
        response = client.post(cancel_url(order), {"reason": REASON})
        assert response.status_code == 409
        assert [error["code"] for error in response.json()["errors"]] == ["invalid_transition"]

    assert Order.objects.get().status == path[-1]
    assert stocks(*variants) == stock_before
    assert OrderStatusHistory.objects.count() == history_before
    assert not OutboxEvent.objects.filter(event_type="order.cancelled").exists()


def test_a_second_cancel_is_a_409_and_stock_comes_back_only_once(customer_client, staff_client, order, variants):
    assert customer_client.post(cancel_url(order), {"reason": REASON}).status_code == 200

    for client in (customer_client, staff_client):
        again = client.post(cancel_url(order), {"reason": REASON})
        assert again.status_code == 409
        assert [error["code"] for error in again.json()["errors"]] == ["invalid_transition"]

    assert stocks(*variants) == [10, 10]
    assert OrderStatusHistory.objects.filter(to_status="cancelled").count() == 1
    assert OutboxEvent.objects.filter(event_type="order.cancelled").count() == 1
    assert Order.objects.get().cancellation["reason"] == REASON


def test_stock_of_a_variant_deleted_since_the_order_is_skipped(customer_client, order, variants):
    gone, kept = variants
    gone.delete()

    response = customer_client.post(cancel_url(order), {"reason": REASON})

    assert response.status_code == 200, response.json()
    assert stocks(kept) == [10]
    assert [item["fulfillment_status"] for item in response.json()["items"]] == ["cancelled", "cancelled"]


def test_cancel_by_order_number(customer_client, order):
    response = customer_client.post(f"/api/v1/orders/{order.order_number}/cancel/", {"reason": REASON})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "required"),
        ({"reason": ""}, "blank"),
        ({"reason": "   "}, "blank"),
        ({"reason": "ab"}, "min_length"),
        ({"reason": "x" * 501}, "max_length"),
        ({"reason": None}, "null"),
    ],
)
def test_the_reason_must_be_3_to_500_characters(customer_client, order, variants, body, code):
    response = customer_client.post(cancel_url(order), body)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [(error["code"], error["attr"]) for error in response.json()["errors"]] == [(code, "reason")]
    assert Order.objects.get().status == "pending"
    assert stocks(*variants) == [7, 7]


@pytest.mark.parametrize("reason", ["abc", "x" * 500])
def test_reasons_of_3_and_500_characters_are_accepted(customer_client, order, reason):
    response = customer_client.post(cancel_url(order), {"reason": reason})
    assert response.status_code == 200, response.json()
    assert response.json()["cancellation"]["reason"] == reason


def test_another_customers_order_is_a_404(order, variants):
    stranger = client_for(UserFactory())

    response = stranger.post(cancel_url(order), {"reason": REASON})

    assert response.status_code == 404
    assert [error["code"] for error in response.json()["errors"]] == ["not_found"]
    assert Order.objects.get().status == "pending"
    assert stocks(*variants) == [7, 7]


def test_anonymous_callers_get_401(anon_client, order, variants):
    assert anon_client.post(cancel_url(order), {"reason": REASON}).status_code == 401
    assert Order.objects.get().status == "pending"
    assert stocks(*variants) == [7, 7]


def test_cancel_only_accepts_post(customer_client, order):
    assert customer_client.get(cancel_url(order)).status_code == 405
    assert Order.objects.get().status == "pending"


def test_a_cancelled_order_shows_up_under_the_cancelled_filter(customer_client, order):
    customer_client.post(cancel_url(order), {"reason": REASON})
    listed = customer_client.get("/api/v1/orders/", {"status": "cancelled"}).json()
    assert [row["id"] for row in listed["results"]] == [str(order.pk)]
    assert listed["results"][0]["cancellation"]["reason"] == REASON
