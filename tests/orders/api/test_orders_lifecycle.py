"""POST /api/v1/orders/{id}/transition/ and /cancel/: every move of the lifecycle table through the API,
what each writes (history, outbox events, stock) and that every refused move changes nothing."""

import itertools

import pytest
from django.contrib.auth.models import Permission

from conftest import client_for
from orders.models import FulfillmentStatus, Order, OrderItem, OrderStatusHistory, OutboxEvent, Refund
from orders.services.lifecycle import order_transition
from tests.assertions import order_state
from tests.factories import (
    StaffFactory,
    StaffWithoutPermissionsFactory,
    UserFactory,
    VariantFactory,
    make_order,
    stocks,
    walk,
)

pytestmark = pytest.mark.django_db

STATUSES = ["pending", "confirmed", "processing", "shipped", "delivered", "cancelled", "refunded", "failed"]

# The contract of /work/shared/API.md, written out here on purpose: the test must not read the table it checks.
CONTRACT = {
    "pending": {"confirmed", "cancelled", "failed"},
    "confirmed": {"processing", "cancelled"},
    "processing": {"shipped", "cancelled"},
    "shipped": {"delivered"},
    "delivered": {"refunded"},
    "cancelled": set(),
    "refunded": set(),
    "failed": set(),
}

STOCK = 10
QUANTITY = 3


def transition_url(order):
    return f"/api/v1/orders/{order.pk}/transition/"


def cancel_url(order):
    return f"/api/v1/orders/{order.pk}/cancel/"


def history_url(order):
    return f"/api/v1/orders/{order.pk}/history/"


def two_line_order(user=None):
    variants = [VariantFactory(stock_quantity=STOCK), VariantFactory(stock_quantity=STOCK)]
    order = make_order(user=user, variants=variants, quantity=QUANTITY)
    assert stocks(variants) == [STOCK - QUANTITY, STOCK - QUANTITY]
    return order, variants


def error(response):
    body = response.json()
    assert len(body["errors"]) == 1, body
    return body["type"], body["errors"][0]


def assert_sequences_gapless(order):
    sequences = list(OutboxEvent.objects.filter(order=order).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    assert Order.objects.get(pk=order.pk).last_event_sequence == len(sequences)


# ---- every pair of the eight statuses -----------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(STATUSES, STATUSES)))
def test_transition_pair(from_status, to_status, staff, staff_client):
    order, variants = two_line_order()
    walk(order, from_status, actor=StaffFactory())
    before = order_state(order)
    note = f"staff says {from_status} -> {to_status}"

    response = staff_client.post(transition_url(order), {"status": to_status, "note": note})

    if to_status not in CONTRACT[from_status]:
        assert response.status_code == 409, response.json()
        kind, err = error(response)
        assert kind == "client_error"
        assert err["code"] == "invalid_transition"
        assert err["attr"] is None
        assert from_status in err["detail"]
        assert order_state(order) == before
        return

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == to_status
    order.refresh_from_db()
    assert order.status == to_status

    # One history row, by this staff member, with the note; the API shows it last.
    assert OrderStatusHistory.objects.filter(order=order).count() == before["history"] + 1
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by_id, last.note) == (
        from_status,
        to_status,
        staff.pk,
        note,
    )
    history = staff_client.get(history_url(order))
    assert history.status_code == 200
    assert len(history.json()) == before["history"] + 1
    shown = history.json()[-1]
    assert {k: shown[k] for k in ("from_status", "to_status", "changed_by", "note")} == {
        "from_status": from_status,
        "to_status": to_status,
        "changed_by": str(staff.pk),
        "note": note,
    }

    # Events, numbered after the earlier ones: one order.item_fulfillment_changed per item the move changed,
    # order.refunded for a refund, order.status_changed, and order.cancelled for a cancellation.
    new_events = list(
        OutboxEvent.objects.filter(order=order, sequence__gt=before["last_event_sequence"]).order_by("sequence")
    )
    items_moved = 2 if to_status in ("cancelled", "failed", "shipped", "delivered") else 0
    # Money goes back on a move to refunded and on cancelling an order that was paid (confirmed or later).
    refunds = to_status == "refunded" or (to_status == "cancelled" and from_status != "pending")
    # A move to shipped ships what was waiting as one shipment, announced before its items' events.
    expected_types = (
        (["order.shipment_created"] if to_status == "shipped" else [])
        + ["order.item_fulfillment_changed"] * items_moved
        + (["order.refunded"] if refunds else [])
        + ["order.status_changed"]
        + (["order.cancelled"] if to_status == "cancelled" else [])
    )
    assert [e.event_type for e in new_events] == expected_types
    item_events = [e for e in new_events if e.event_type == "order.item_fulfillment_changed"]
    assert [e.payload["data"]["item_id"] for e in item_events] == ["item_1", "item_2"][:items_moved]
    status_event = next(e for e in new_events if e.event_type == "order.status_changed")
    assert status_event.payload["data"] == {
        "from_status": from_status,
        "to_status": to_status,
        "changed_by": str(staff.pk),
        "note": note,
    }
    assert status_event.payload["order_id"] == str(order.pk)
    assert status_event.payload["event_type"] == "order.status_changed"
    assert status_event.payload["event_id"] == str(status_event.id)
    assert_sequences_gapless(order)

    # Stock and items follow the move.
    items = list(OrderItem.objects.filter(order=order).order_by("line_number"))
    if to_status in ("cancelled", "failed"):
        assert stocks(variants) == [STOCK, STOCK]
        assert [i.fulfillment_status for i in items] == ["cancelled", "cancelled"]
    else:
        assert stocks(variants) == before["stock"] == [STOCK - QUANTITY, STOCK - QUANTITY]
    assert [e.payload["data"] for e in item_events] == [
        {
            "item_id": i.item_id,
            "fulfillment_status": i.fulfillment_status,
            "shipped_quantity": i.shipped_quantity,
            "carrier": i.carrier,
            "tracking_number": i.tracking_number,
        }
        for i in items[:items_moved]
    ]
    if refunds:
        assert body["refunded_cents"] == order.refunded_cents == order.total_cents
        assert body["payment_status"] == "refunded"
        refund = Refund.objects.get(order=order)
        assert (refund.amount_cents, refund.reason, refund.created_by_id) == (order.total_cents, note, staff.pk)
    else:
        assert not Refund.objects.filter(order=order).exists()
    if to_status == "cancelled":
        assert new_events[-1].payload["data"] == {
            "order_number": order.order_number,
            "reason": note,
            "cancelled_by": str(staff.pk),
        }
        assert body["cancellation"]["reason"] == note
        assert body["cancellation"]["cancelled_by"] == str(staff.pk)
        assert body["cancellation"]["cancelled_at"]
        assert order.cancellation == body["cancellation"]
    else:
        assert body["cancellation"] is None
    if to_status == "shipped":
        assert [(i.fulfillment_status, i.shipped_quantity) for i in items] == [("shipped", QUANTITY)] * 2
        assert all(i.shipped_at is not None for i in items)
        assert [i["fulfillment_status"] for i in body["items"]] == ["shipped", "shipped"]
    if to_status == "delivered":
        assert [i.fulfillment_status for i in items] == ["delivered", "delivered"]
        assert all(i.delivered_at is not None for i in items)


def test_every_move_is_in_the_history_with_who_made_it(staff, staff_client):
    order, _ = two_line_order()
    for step in ["confirmed", "processing", "shipped", "delivered", "refunded"]:
        response = staff_client.post(transition_url(order), {"status": step, "note": f"to {step}"})
        assert response.status_code == 200, response.json()

    history = staff_client.get(history_url(order)).json()

    assert [(h["from_status"], h["to_status"], h["changed_by"], h["note"]) for h in history] == [
        (None, "pending", str(order.user_id), ""),
        ("pending", "confirmed", str(staff.pk), "to confirmed"),
        ("confirmed", "processing", str(staff.pk), "to processing"),
        ("processing", "shipped", str(staff.pk), "to shipped"),
        ("shipped", "delivered", str(staff.pk), "to delivered"),
        ("delivered", "refunded", str(staff.pk), "to refunded"),
    ]
    item_moves = ["order.item_fulfillment_changed"] * 2
    assert [e.event_type for e in OutboxEvent.objects.filter(order=order).order_by("sequence")] == [
        "order.created",
        *["order.status_changed"] * 2,
        "order.shipment_created",
        *item_moves,
        "order.status_changed",
        *item_moves,
        "order.status_changed",
        "order.refunded",
        "order.status_changed",
    ]
    assert_sequences_gapless(order)


def test_the_note_is_optional(staff_client):
    order, _ = two_line_order()

    response = staff_client.post(transition_url(order), {"status": "confirmed"})

    assert response.status_code == 200, response.json()
    assert OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last().note == ""


def test_order_number_works_as_the_key(staff_client):
    order, _ = two_line_order()

    response = staff_client.post(f"/api/v1/orders/{order.order_number}/transition/", {"status": "confirmed"})

    assert response.status_code == 200, response.json()
    assert Order.objects.get(pk=order.pk).status == "confirmed"


# ---- who may call it, and bad bodies --------------------------------------------------------------------


def test_customer_may_not_transition_even_their_own_order(customer, customer_client):
    order, _ = two_line_order(user=customer)
    before = order_state(order)

    response = customer_client.post(transition_url(order), {"status": "confirmed"})

    assert response.status_code == 403
    assert error(response)[1]["code"] == "permission_denied"
    assert order_state(order) == before


def test_anonymous_transition_is_401(anon_client):
    order, _ = two_line_order()
    before = order_state(order)

    response = anon_client.post(transition_url(order), {"status": "confirmed"})

    assert response.status_code == 401
    assert error(response)[1]["code"] == "not_authenticated"
    assert order_state(order) == before


def test_bad_token_transition_is_401():
    order, _ = two_line_order()
    before = order_state(order)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.post(transition_url(order), {"status": "confirmed"})

    assert response.status_code == 401
    assert error(response)[1]["code"] == "authentication_failed"
    assert order_state(order) == before


@pytest.mark.parametrize("body", [{"status": "teleported"}, {"status": ""}, {}, {"status": None}])
def test_unknown_or_missing_status_is_400(body, staff_client):
    order, _ = two_line_order()
    before = order_state(order)

    response = staff_client.post(transition_url(order), body)

    assert response.status_code == 400, response.json()
    kind, err = error(response)
    assert kind == "validation_error"
    assert err["attr"] == "status"
    assert order_state(order) == before


def test_transition_of_an_unknown_order_is_404(staff_client):
    url = "/api/v1/orders/00000000-0000-0000-0000-000000000000/transition/"

    response = staff_client.post(url, {"status": "confirmed"})

    assert response.status_code == 404
    assert error(response)[1]["code"] == "not_found"


# ---- stock comes back exactly once on every way out -------------------------------------------------------


def assert_released_once(order, variants, *, retry):
    """Stock is back; the retry is refused with 409 and gives nothing back a second time."""
    assert stocks(variants) == [STOCK, STOCK]
    before = order_state(order)
    response = retry()
    assert response.status_code == 409, response.json()
    assert error(response)[1]["code"] == "invalid_transition"
    assert order_state(order) == before
    assert stocks(variants) == [STOCK, STOCK]


@pytest.mark.parametrize("from_status", ["pending", "confirmed"])
def test_customer_cancel_releases_stock_once(from_status, customer, customer_client):
    order, variants = two_line_order(user=customer)
    walk(order, from_status)

    response = customer_client.post(cancel_url(order), {"reason": "changed my mind"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancellation"]["reason"] == "changed my mind"
    assert body["cancellation"]["cancelled_by"] == str(customer.pk)
    assert [i["fulfillment_status"] for i in body["items"]] == ["cancelled", "cancelled"]
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by_id, last.note) == (
        from_status,
        "cancelled",
        customer.pk,
        "changed my mind",
    )
    cancelled = OutboxEvent.objects.get(order=order, event_type="order.cancelled")
    assert cancelled.payload["data"] == {
        "order_number": order.order_number,
        "reason": "changed my mind",
        "cancelled_by": str(customer.pk),
    }
    assert_released_once(
        order, variants, retry=lambda: customer_client.post(cancel_url(order), {"reason": "changed my mind"})
    )


@pytest.mark.parametrize("from_status", ["pending", "confirmed", "processing"])
def test_staff_cancel_releases_stock_once(from_status, staff, staff_client):
    order, variants = two_line_order()
    walk(order, from_status)

    response = staff_client.post(cancel_url(order), {"reason": "out of business"})

    assert response.status_code == 200, response.json()
    assert response.json()["cancellation"]["cancelled_by"] == str(staff.pk)
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert_released_once(order, variants, retry=lambda: staff_client.post(cancel_url(order), {"reason": "again"}))


@pytest.mark.parametrize("to_status", ["cancelled", "failed"])
def test_transition_out_releases_stock_once(to_status, staff_client):
    order, variants = two_line_order()

    response = staff_client.post(transition_url(order), {"status": to_status, "note": "bye"})

    assert response.status_code == 200, response.json()
    assert_released_once(
        order, variants, retry=lambda: staff_client.post(transition_url(order), {"status": to_status, "note": "bye"})
    )


def test_cancel_after_a_transition_to_cancelled_is_409(customer, customer_client, staff_client):
    order, variants = two_line_order(user=customer)
    assert staff_client.post(transition_url(order), {"status": "cancelled", "note": "fraud"}).status_code == 200

    assert_released_once(
        order, variants, retry=lambda: customer_client.post(cancel_url(order), {"reason": "changed my mind"})
    )


def test_failed_order_cannot_be_cancelled(staff_client):
    order, variants = two_line_order()
    assert staff_client.post(transition_url(order), {"status": "failed"}).status_code == 200

    assert_released_once(order, variants, retry=lambda: staff_client.post(cancel_url(order), {"reason": "oops"}))


@pytest.mark.parametrize("from_status", ["processing", "shipped", "delivered", "refunded", "failed"])
def test_customer_cannot_cancel_past_confirmed(from_status, customer, customer_client):
    order, _ = two_line_order(user=customer)
    walk(order, from_status)
    before = order_state(order)

    response = customer_client.post(cancel_url(order), {"reason": "changed my mind"})

    assert response.status_code == 409, response.json()
    assert error(response)[1]["code"] == "invalid_transition"
    assert from_status in error(response)[1]["detail"]
    assert order_state(order) == before


@pytest.mark.parametrize("from_status", ["shipped", "delivered", "refunded"])
def test_staff_cannot_cancel_once_shipped(from_status, staff_client):
    order, _ = two_line_order()
    walk(order, from_status)
    before = order_state(order)

    response = staff_client.post(cancel_url(order), {"reason": "too late"})

    assert response.status_code == 409, response.json()
    assert error(response)[1]["code"] == "invalid_transition"
    assert order_state(order) == before


def test_customer_cannot_cancel_someone_elses_order(customer_client):
    order, _ = two_line_order(user=UserFactory())
    before = order_state(order)

    response = customer_client.post(cancel_url(order), {"reason": "not mine"})

    assert response.status_code == 404
    assert order_state(order) == before


@pytest.mark.parametrize("reason", ["", "no", "x" * 501])
def test_cancel_reason_length_is_checked(reason, customer, customer_client):
    order, _ = two_line_order(user=customer)
    before = order_state(order)

    response = customer_client.post(cancel_url(order), {"reason": reason})

    assert response.status_code == 400
    assert error(response)[1]["attr"] == "reason"
    assert order_state(order) == before


def test_cancelling_a_processing_order_cancels_only_unshipped_items(staff_client):
    """Units already on their way do not come back to stock; lines not started are cancelled."""
    variants = [VariantFactory(stock_quantity=STOCK) for _ in range(3)]
    order = make_order(variants=variants, quantity=QUANTITY)
    walk(order, "processing")
    ship = f"/api/v1/orders/{order.pk}/items/item_1/fulfillment/"
    assert staff_client.post(ship, {"status": "shipped", "quantity": QUANTITY}).status_code == 200
    ship = f"/api/v1/orders/{order.pk}/items/item_2/fulfillment/"
    assert staff_client.post(ship, {"status": "shipped", "quantity": 1}).status_code == 200

    response = staff_client.post(cancel_url(order), {"reason": "customer called"})

    assert response.status_code == 200, response.json()
    assert [(i["fulfillment_status"], i["shipped_quantity"]) for i in response.json()["items"]] == [
        ("shipped", QUANTITY),
        ("processing", 1),
        ("cancelled", 0),
    ]
    assert stocks(variants) == [STOCK - QUANTITY, STOCK - 1, STOCK]
    assert OrderItem.objects.filter(order=order, fulfillment_status=FulfillmentStatus.CANCELLED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "payment_status"),
    [
        (["confirmed"], "paid"),
        (["failed"], "failed"),
        (["cancelled"], "pending"),  # never paid: nothing to give back
        (["confirmed", "cancelled"], "refunded"),
        (["confirmed", "processing", "shipped", "delivered", "refunded"], "refunded"),
    ],
)
def test_payment_status_follows_the_order(staff, path, payment_status):
    order = make_order()
    for status in path:
        order = order_transition(order_id=order.pk, to_status=status, actor=staff, note=f"to {status}")
    order.refresh_from_db()
    assert order.payment_status == payment_status


def test_a_staff_move_to_cancelled_needs_the_cancel_permission_too():
    # /transition/ needs transition_order; cancelling through it must not skip cancel_order, which the
    # admin's cancel action and /cancel/ on another's order ask for.
    order, variants = two_line_order()
    walk(order, "processing", actor=StaffFactory())
    mover = StaffWithoutPermissionsFactory()
    mover.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "transition_order"]))
    before = (order_state(order), stocks(variants))

    client = client_for(mover)
    response = client.post(transition_url(order), {"status": "cancelled", "note": "no"})

    assert response.status_code == 403, response.json()
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert (order_state(order), stocks(variants)) == before
    assert client.post(transition_url(order), {"status": "shipped"}).status_code == 200
