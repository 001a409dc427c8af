"""POST /api/v1/orders/{id}/items/{item_id}/cancel/: one item cancelled before it ships, its stock back,
the totals without it, a paid order refunded the difference, and the last item cancelling the order."""

import pytest

from conftest import client_for
from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent, Refund
from tests.assertions import assert_client_error, order_state
from tests.factories import SupportFactory, VariantFactory, make_order, stocks, walk

pytestmark = pytest.mark.django_db

STOCK = 100


def cancel_url(order, item_id):
    return f"/api/v1/orders/{order.pk}/items/{item_id}/cancel/"


def priced_order(prices, quantities, status="pending"):
    variants = [VariantFactory(product__base_price_cents=price, stock_quantity=STOCK) for price in prices]
    return walk(make_order(variants=variants, quantities=quantities), status), variants


def totals(order):
    order = Order.objects.get(pk=order.pk)
    fields = ("subtotal_cents", "shipping_cents", "tax_cents", "total_cents", "item_count")
    return tuple(getattr(order, field) for field in fields)


def test_cancelling_an_item_of_a_pending_order_releases_its_stock_and_lowers_the_totals(staff, staff_client):
    order, variants = priced_order([1000, 500], [2, 1])  # subtotal 2500: 599 shipping, 200 tax
    assert totals(order) == (2500, 599, 200, 3299, 3)
    before = order.last_event_sequence

    response = staff_client.post(cancel_url(order, "item_1"), {"reason": "Out of stock"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [i["fulfillment_status"] for i in body["items"]] == ["cancelled", "pending"]
    assert (body["subtotal_cents"], body["shipping_cents"], body["tax_cents"], body["total_cents"]) == (
        500,
        599,
        40,
        1139,
    )
    assert totals(order) == (500, 599, 40, 1139, 1)
    assert stocks(variants) == [STOCK, STOCK - 1]
    assert (body["payment_status"], body["refunded_cents"], body["status"]) == ("pending", 0, "pending")
    assert not Refund.objects.exists()
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by, last.note) == (
        "pending",
        "pending",
        staff,
        "item_1 cancelled: Out of stock",
    )
    new = list(OutboxEvent.objects.filter(order=order, sequence__gt=before).order_by("sequence"))
    assert [e.event_type for e in new] == ["order.item_fulfillment_changed", "order.item_cancelled"]
    assert new[1].payload["data"] == {
        "item_id": "item_1",
        "quantity": 2,
        "reason": "Out of stock",
        "cancelled_by": str(staff.pk),
        "subtotal_cents": 500,
        "shipping_cents": 599,
        "tax_cents": 40,
        "total_cents": 1139,
        "item_count": 1,
        "refund_id": None,
        "refund_cents": 0,
    }


def test_a_paid_order_gets_the_difference_back_and_a_later_cancel_refunds_the_rest(staff_client):
    order, variants = priced_order([4000, 2000], [1, 1], status="confirmed")  # 6000 + 480 tax, free shipping
    assert totals(order)[:4] == (6000, 0, 480, 6480)

    response = staff_client.post(cancel_url(order, "item_2"), {"reason": "Damaged in the warehouse"})

    assert response.status_code == 200, response.json()
    body = response.json()
    # 4000 is under the free-shipping threshold, but cancelling never adds shipping the customer did not pay.
    assert (body["subtotal_cents"], body["shipping_cents"], body["tax_cents"], body["total_cents"]) == (
        4000,
        0,
        320,
        4320,
    )
    assert (body["payment_status"], body["refunded_cents"]) == ("partially_refunded", 0)
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.cancelled_item.item_id) == (2160, "item_2")
    refunded = OutboxEvent.objects.get(order=order, event_type="order.refunded")
    assert refunded.payload["data"]["item_id"] == "item_2"
    assert refunded.payload["data"]["amount_cents"] == 2160
    cancelled = OutboxEvent.objects.get(order=order, event_type="order.item_cancelled")
    assert cancelled.payload["data"]["refund_id"] == str(refund.pk)
    assert cancelled.payload["data"]["refund_cents"] == 2160

    # The whole order cancelled after: the rest of what was paid goes back, every unit once.
    response = staff_client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "Customer asked"})

    assert response.status_code == 200, response.json()
    assert (response.json()["payment_status"], response.json()["refunded_cents"]) == ("refunded", 4320)
    assert sum(Refund.objects.values_list("amount_cents", flat=True)) == 6480
    assert stocks(variants) == [STOCK, STOCK]


def test_cancelling_the_last_live_item_cancels_the_order(staff_client):
    order, variants = priced_order([1000, 500], [1, 1], status="processing")
    assert staff_client.post(cancel_url(order, "item_1"), {"reason": "first"}).status_code == 200

    response = staff_client.post(cancel_url(order, "item_2"), {"reason": "second"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["payment_status"], body["cancellation"]["reason"]) == (
        "cancelled",
        "refunded",
        "second",
    )
    assert [i["fulfillment_status"] for i in body["items"]] == ["cancelled", "cancelled"]
    assert stocks(variants) == [STOCK, STOCK]  # each released once
    assert sum(Refund.objects.values_list("amount_cents", flat=True)) == 1000 + 500 + 120 + 599


def test_the_order_stays_consistent_for_returns_after_an_item_cancel(staff_client):
    """A return refunds at most what is left of the lowered total: the cancelled item's units are not
    waited for before the last return takes the rounding remainder."""
    order, _ = priced_order([1000, 500], [1, 1], status="processing")
    staff_client.post(cancel_url(order, "item_2"), {"reason": "gone"})
    for step in ("shipped", "delivered"):
        assert staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": step}).status_code == 200
    assert [i.fulfillment_status for i in OrderItem.objects.filter(order=order).order_by("line_number")] == [
        "delivered",
        "cancelled",
    ]

    response = staff_client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": "refunded"})

    assert response.status_code == 200, response.json()
    assert response.json()["refunded_cents"] == response.json()["total_cents"] == 1000 + 80 + 599


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled"])
def test_an_order_past_processing_keeps_its_items(status, staff_client):
    order, _ = priced_order([1000, 500], [1, 1], status=status)
    unchanged = order_state(order)

    response = staff_client.post(cancel_url(order, "item_1"), {"reason": "too late"})

    assert_client_error(response, 409, "invalid_transition")
    assert order_state(order) == unchanged


def test_cancelling_the_last_item_left_to_ship_ships_the_order(staff_client):
    order, _ = priced_order([1000, 500], [1, 1], status="processing")
    staff_client.post(f"/api/v1/orders/{order.pk}/items/item_1/fulfillment/", {"status": "shipped"})

    response = staff_client.post(cancel_url(order, "item_2"), {"reason": "Out of stock"})

    assert response.status_code == 200 and response.json()["status"] == "shipped"
    assert OrderStatusHistory.objects.filter(order=order, to_status="shipped").exists()
    moved = OutboxEvent.objects.filter(order=order, event_type="order.status_changed").latest("sequence")
    assert moved.payload["data"]["to_status"] == "shipped"


def test_an_item_with_a_shipped_unit_or_already_cancelled_is_a_409(staff_client):
    order, _ = priced_order([1000, 500, 300], [2, 1, 1], status="processing")
    staff_client.post(f"/api/v1/orders/{order.pk}/items/item_1/fulfillment/", {"status": "shipped", "quantity": 1})
    staff_client.post(cancel_url(order, "item_2"), {"reason": "gone"})
    unchanged = (order_state(order), totals(order))

    for item_id in ("item_1", "item_2"):
        assert_client_error(
            staff_client.post(cancel_url(order, item_id), {"reason": "again"}), 409, "invalid_transition"
        )
    assert (order_state(order), totals(order)) == unchanged


def test_who_may_cancel_an_item(customer, customer_client, staff_client):
    order, _ = priced_order([1000, 500], [1, 1])
    Order.objects.filter(pk=order.pk).update(user=customer)

    assert_client_error(customer_client.post(cancel_url(order, "item_1"), {"reason": "mine"}), 403, "permission_denied")
    assert client_for(SupportFactory()).post(cancel_url(order, "item_1"), {"reason": "support"}).status_code == 200
    assert_client_error(staff_client.post(cancel_url(order, "item_7"), {"reason": "none"}), 404, "not_found")
    assert staff_client.post(cancel_url(order, "item_2"), {"reason": ""}).status_code == 400
