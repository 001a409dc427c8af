"""Returns and refunds through the API: who may ask, when and for how much; the review and what an
approval does to items, stock, money, the order's status, its history and its events. Also the admin
pages of returns."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from conftest import client_for
from core.exceptions import ApplicationError
from orders.models import (
    Order,
    OrderItem,
    OrderStatusHistory,
    OutboxEvent,
    Refund,
    ReturnRequest,
)
from orders.returns import services as returns_service
from orders.services.lifecycle import order_transition
from tests.factories import (
    DELIVERED_STOCK,
    NOTES,
    REASON,
    StaffFactory,
    StaffWithoutPermissionsFactory,
    UserFactory,
    delivered_order,
    make_order,
    stock_of,
)

pytestmark = pytest.mark.django_db

RETURN_NUMBER = re.compile(r"^RET-\d{8}-[0-9A-HJKMNP-TV-Z]{6}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def returns_url(order):
    return f"/api/v1/orders/{order.pk}/returns/"


def review_url(return_id):
    return f"/api/v1/returns/{return_id}/review/"


def body(*lines, reason=REASON, category="defective", **extra):
    return {
        "reason": reason,
        "reason_category": category,
        "items": [{"item_id": item_id, "quantity": quantity} for item_id, quantity in lines],
        **extra,
    }


def ask(client, order, *lines, **extra):
    return client.post(returns_url(order), body(*lines, **extra))


def approve(client, return_id, refund_cents, restock=False, notes=NOTES):
    return client.post(
        review_url(return_id),
        {"decision": "approved", "notes": notes, "refund_cents": refund_cents, "restock": restock},
    )


def errors_of(response):
    return [(e["attr"], e["code"]) for e in response.json()["errors"]]


def events_of(order):
    found = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert [e.sequence for e in found] == list(range(1, len(found) + 1))
    assert Order.objects.get(pk=order.pk).last_event_sequence == len(found)
    return found


# ---- asking for a return ------------------------------------------------------------------------------


def test_customer_asks_to_return_delivered_units(customer, customer_client):
    order, _ = delivered_order(customer, prices=(1000, 2500))

    response = ask(customer_client, order, ("item_2", 1), ("item_1", 2), description="Both arrived scratched.")

    assert response.status_code == 201, response.json()
    data = response.json()
    request = ReturnRequest.objects.get()
    assert RETURN_NUMBER.match(data["return_number"])
    assert TIMESTAMP.match(data["requested_at"])
    assert data == {
        "id": str(request.pk),
        "return_number": request.return_number,
        "order_id": str(order.pk),
        "order_number": order.order_number,
        "status": "pending",
        "items": [{"item_id": "item_2", "quantity": 1}, {"item_id": "item_1", "quantity": 2}],
        "reason": REASON,
        "reason_category": "defective",
        "description": "Both arrived scratched.",
        "requested_at": data["requested_at"],
        "requested_by": str(customer.pk),
        "reviewed_at": None,
        "reviewed_by": None,
        "review_notes": "",
        "refund_cents": None,
        "restock": False,
    }
    assert response["Location"] == f"http://testserver/api/v1/returns/{request.pk}/"
    # The order itself does not move; the request is an event in the order's stream.
    order.refresh_from_db()
    assert order.status == "delivered" and order.refunded_cents == 0
    last = events_of(order)[-1]
    assert last.event_type == "order.return_requested"
    assert last.payload["data"] == data
    assert last.payload["order_number"] == order.order_number


def test_staff_may_ask_for_a_customers_order(staff_client, staff, customer):
    order, _ = delivered_order(customer)

    response = ask(staff_client, order, ("item_1", 1))

    assert response.status_code == 201
    assert response.json()["requested_by"] == str(staff.pk)


def test_order_may_be_named_by_its_number(customer, customer_client):
    order, _ = delivered_order(customer)

    response = customer_client.post(f"/api/v1/orders/{order.order_number}/returns/", body(("item_1", 1)))

    assert response.status_code == 201


def test_another_customers_order_is_404_and_anonymous_is_401(customer, anon_client):
    order, _ = delivered_order(customer)
    stranger = client_for(UserFactory())

    assert ask(stranger, order, ("item_1", 1)).status_code == 404
    assert stranger.get(returns_url(order)).status_code == 404
    assert ask(anon_client, order, ("item_1", 1)).status_code == 401
    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize("steps", [(), ("confirmed",), ("confirmed", "processing", "shipped"), ("cancelled",)])
def test_only_a_delivered_order_can_be_returned(customer, customer_client, steps):
    order = make_order(user=customer)
    for step in steps:
        order_transition(order_id=order.pk, to_status=step, actor=None)

    response = ask(customer_client, order, ("item_1", 1))

    assert response.status_code == 409
    assert errors_of(response) == [(None, "order_not_returnable")]
    assert not ReturnRequest.objects.exists()


def test_a_refunded_order_cannot_be_returned_again(customer, customer_client, staff):
    order, _ = delivered_order(customer)
    order_transition(order_id=order.pk, to_status="refunded", actor=staff, note="Refunded by phone")

    response = ask(customer_client, order, ("item_1", 1))

    assert response.status_code == 409
    assert errors_of(response) == [(None, "order_not_returnable")]


def _delivered_days_ago(order, days):
    OrderStatusHistory.objects.filter(order=order, to_status="delivered").update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_return_window_counts_from_the_move_into_delivered(customer, customer_client):
    order, _ = delivered_order(customer)

    _delivered_days_ago(order, 31)
    closed = ask(customer_client, order, ("item_1", 1))
    _delivered_days_ago(order, 29)
    open_ = ask(customer_client, order, ("item_1", 1))

    assert closed.status_code == 409
    assert errors_of(closed) == [(None, "return_window_closed")]
    assert open_.status_code == 201


def test_return_window_is_a_setting(customer, customer_client, settings):
    settings.RETURN_WINDOW_DAYS = 7
    order, _ = delivered_order(customer)

    _delivered_days_ago(order, 8)

    assert errors_of(ask(customer_client, order, ("item_1", 1))) == [(None, "return_window_closed")]


def test_without_a_history_row_the_items_delivery_time_counts(customer, customer_client):
    order, _ = delivered_order(customer, prices=(1000, 2000))
    OrderStatusHistory.objects.filter(order=order, to_status="delivered").delete()
    items = OrderItem.objects.filter(order=order)
    items.filter(line_number=1).update(delivered_at=timezone.now() - timedelta(days=40))
    items.filter(line_number=2).update(delivered_at=timezone.now() - timedelta(days=31))

    assert errors_of(ask(customer_client, order, ("item_1", 1))) == [(None, "return_window_closed")]

    items.filter(line_number=2).update(delivered_at=timezone.now() - timedelta(days=2))
    assert ask(customer_client, order, ("item_1", 1)).status_code == 201


def test_quantities_cannot_exceed_what_was_delivered(customer, customer_client):
    order, _ = delivered_order(customer, prices=(1000, 2000), quantities=[2, 1])

    response = ask(customer_client, order, ("item_1", 3), ("item_2", 1))

    assert response.status_code == 400
    assert errors_of(response) == [("items.0.quantity", "return_quantity_exceeded")]
    assert "Only 2 unit(s)" in response.json()["errors"][0]["detail"]


def test_pending_and_approved_returns_hold_their_units_rejected_ones_do_not(customer, customer_client, staff_client):
    order, _ = delivered_order(customer, quantities=[3])

    first = ask(customer_client, order, ("item_1", 2)).json()
    assert errors_of(ask(customer_client, order, ("item_1", 2))) == [("items.0.quantity", "return_quantity_exceeded")]
    second = ask(customer_client, order, ("item_1", 1))
    assert second.status_code == 201
    # Nothing left: everything is held by pending returns.
    assert errors_of(ask(customer_client, order, ("item_1", 1))) == [("items.0.quantity", "return_quantity_exceeded")]

    rejected = staff_client.post(review_url(first["id"]), {"decision": "rejected", "notes": NOTES})
    assert rejected.status_code == 200
    assert ask(customer_client, order, ("item_1", 2)).status_code == 201

    assert approve(staff_client, second.json()["id"], 0).status_code == 200
    assert errors_of(ask(customer_client, order, ("item_1", 1))) == [("items.0.quantity", "return_quantity_exceeded")]


def test_every_line_problem_is_reported_at_once(customer, customer_client):
    order, _ = delivered_order(customer, prices=(1000, 2000), quantities=[1, 1])

    response = ask(customer_client, order, ("item_9", 1), ("item_2", 5), ("item_1", 1), ("item_1", 1))

    assert response.status_code == 400
    assert errors_of(response) == [
        ("items.0.item_id", "item_not_found"),
        ("items.1.quantity", "return_quantity_exceeded"),
        ("items.3.item_id", "duplicate_item"),
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"reason": "too short"}, [("reason", "min_length")]),
        ({"reason": "x" * 501}, [("reason", "max_length")]),
        ({"reason_category": "bored"}, [("reason_category", "invalid_choice")]),
        ({"description": "x" * 2001}, [("description", "max_length")]),
        ({"items": []}, [("items", "min_length")]),
        ({"items": [{"item_id": "item_1", "quantity": 1}] * 101}, [("items", "max_length")]),
        ({"items": [{"item_id": "line-1", "quantity": 1}]}, [("items.0.item_id", "invalid")]),
        ({"items": [{"item_id": "item_1", "quantity": 0}]}, [("items.0.quantity", "min_value")]),
        ({"items": [{"item_id": "item_1", "quantity": "1"}]}, [("items.0.quantity", "invalid")]),
        ({"items": [{"item_id": "item_1", "quantity": 1.0}]}, [("items.0.quantity", "invalid")]),
        ({"items": [{"item_id": "item_1", "quantity": True}]}, [("items.0.quantity", "invalid")]),
    ],
)
def test_request_body_is_validated(customer, customer_client, change, expected):
    order, _ = delivered_order(customer)

    response = customer_client.post(returns_url(order), {**body(("item_1", 1)), **change})

    assert response.status_code == 400
    assert errors_of(response) == expected


def test_return_numbers_are_drawn_again_on_a_clash(customer, customer_client, monkeypatch):
    order, _ = delivered_order(customer)
    taken = ask(customer_client, order, ("item_1", 1)).json()["return_number"]
    numbers = iter([taken, "RET-20260101-AAAAAA"])
    monkeypatch.setattr(returns_service, "generate_return_number", lambda: next(numbers))

    response = ask(customer_client, order, ("item_1", 1))

    assert response.status_code == 201
    assert response.json()["return_number"] == "RET-20260101-AAAAAA"


def test_idempotency_key_replays_the_first_return(customer, customer_client):
    order, _ = delivered_order(customer)
    headers = {"HTTP_IDEMPOTENCY_KEY": "return-1"}

    first = customer_client.post(returns_url(order), body(("item_1", 1)), **headers)
    again = customer_client.post(returns_url(order), body(("item_1", 1)), **headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ReturnRequest.objects.count() == 1


# ---- reading returns ------------------------------------------------------------------------------------


def test_order_returns_are_listed_oldest_first_for_owner_and_staff(customer, customer_client, staff_client):
    order, _ = delivered_order(customer, quantities=[3])
    first = ask(customer_client, order, ("item_1", 1)).json()
    second = ask(customer_client, order, ("item_1", 1)).json()
    make_order(user=customer)  # another order's returns are not listed

    mine = customer_client.get(returns_url(order))
    theirs = staff_client.get(returns_url(order))

    assert mine.status_code == theirs.status_code == 200
    assert mine.json() == theirs.json() == [first, second]


def test_staff_list_of_returns_filters_and_pages(staff_client, customer, customer_client):
    order, _ = delivered_order(customer, quantities=[5])
    other, _ = delivered_order(customer)
    made = [ask(customer_client, order, ("item_1", 1)).json() for _ in range(3)]
    on_other = ask(customer_client, other, ("item_1", 1)).json()
    staff_client.post(review_url(made[0]["id"]), {"decision": "rejected", "notes": NOTES})
    ReturnRequest.objects.filter(pk=made[1]["id"]).update(requested_at=timezone.now() - timedelta(days=10))

    everything = staff_client.get("/api/v1/returns/").json()
    pending = staff_client.get("/api/v1/returns/", {"status": "pending"}).json()
    by_number = staff_client.get("/api/v1/returns/", {"order_number": other.order_number.lower()}).json()
    recent = staff_client.get(
        "/api/v1/returns/", {"created_after": (timezone.now() - timedelta(days=1)).isoformat()}
    ).json()
    old = staff_client.get("/api/v1/returns/", {"created_before": (timezone.now() - timedelta(days=1)).isoformat()})
    page = staff_client.get("/api/v1/returns/", {"limit": 1000, "offset": 0}).json()
    small = staff_client.get("/api/v1/returns/", {"limit": 2}).json()

    assert everything["count"] == 4
    # Newest first.
    assert [r["id"] for r in everything["results"]] == [on_other["id"], made[2]["id"], made[0]["id"], made[1]["id"]]
    assert {r["id"] for r in pending["results"]} == {made[1]["id"], made[2]["id"], on_other["id"]}
    assert [r["id"] for r in by_number["results"]] == [on_other["id"]]
    assert {r["id"] for r in recent["results"]} == {made[0]["id"], made[2]["id"], on_other["id"]}
    assert [r["id"] for r in old.json()["results"]] == [made[1]["id"]]
    assert len(page["results"]) == 4
    assert len(small["results"]) == 2 and small["next"]
    assert staff_client.get("/api/v1/returns/", {"status": "lost"}).status_code == 400


def test_staff_list_of_returns_caps_the_page_at_100(staff_client, customer):
    order, _ = delivered_order(customer)
    ReturnRequest.objects.bulk_create(
        ReturnRequest(return_number=f"RET-20260101-{n:06d}", order=order, reason=REASON, reason_category="other")
        for n in range(101)
    )

    page = staff_client.get("/api/v1/returns/", {"limit": 500}).json()

    assert page["count"] == 101
    assert len(page["results"]) == 100


def test_staff_reads_one_return(staff_client, customer, customer_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()

    assert staff_client.get(f"/api/v1/returns/{made['id']}/").json() == made
    assert staff_client.get("/api/v1/returns/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert staff_client.get("/api/v1/returns/not-a-uuid/").status_code == 404


def test_customers_get_403_on_staff_endpoints(customer, customer_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()

    responses = [
        customer_client.get("/api/v1/returns/"),
        customer_client.get(f"/api/v1/returns/{made['id']}/"),
        approve(customer_client, made["id"], 100),
        customer_client.get("/api/v1/orders/stats/"),
        customer_client.get(f"/api/v1/users/{customer.pk}/order-summary/"),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert all(errors_of(r) == [(None, "permission_denied")] for r in responses)
    assert ReturnRequest.objects.get().status == "pending"


def test_return_list_query_count_does_not_grow(staff_client, customer, customer_client, django_assert_max_num_queries):
    for _ in range(3):
        order, _ = delivered_order(customer, prices=(1000, 2000))
        ask(customer_client, order, ("item_1", 1), ("item_2", 1))

    with django_assert_max_num_queries(6):
        response = staff_client.get("/api/v1/returns/")
    assert response.json()["count"] == 3


# ---- reviewing ------------------------------------------------------------------------------------------


def test_rejection_changes_nothing_but_the_return(customer, customer_client, staff, staff_client):
    order, variants = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 2)).json()
    before = len(events_of(order))

    response = staff_client.post(review_url(made["id"]), {"decision": "rejected", "notes": NOTES})

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "rejected"
    assert data["reviewed_by"] == str(staff.pk) and TIMESTAMP.match(data["reviewed_at"])
    assert data["review_notes"] == NOTES and data["refund_cents"] is None and data["restock"] is False
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("delivered", "paid", 0)
    item = OrderItem.objects.get(order=order)
    assert (item.fulfillment_status, item.returned_quantity) == ("delivered", 0)
    assert stock_of(variants[0]) == DELIVERED_STOCK - 2
    assert not Refund.objects.exists()
    new = events_of(order)[before:]
    assert [e.event_type for e in new] == ["order.return_reviewed"]
    assert new[0].payload["data"] == data


def test_partial_approval_refunds_restocks_and_marks_units(customer, customer_client, staff, staff_client):
    # 2 x 1000 + 1 x 2500: subtotal 4500, tax 360, shipping 599, total 5459.
    order, variants = delivered_order(customer, prices=(1000, 2500), quantities=[2, 1])
    assert order.total_cents == 5459
    made = ask(customer_client, order, ("item_1", 1), ("item_2", 1)).json()
    before = len(events_of(order))

    response = approve(staff_client, made["id"], 3000, restock=True)

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["refund_cents"], data["restock"]) == ("approved", 3000, True)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("delivered", "partially_refunded", 3000)
    items = {i.item_id: i for i in OrderItem.objects.filter(order=order)}
    assert (items["item_1"].fulfillment_status, items["item_1"].returned_quantity) == ("delivered", 1)
    assert (items["item_2"].fulfillment_status, items["item_2"].returned_quantity) == ("returned", 1)
    assert [stock_of(v) for v in variants] == [DELIVERED_STOCK - 1, DELIVERED_STOCK]
    refund = Refund.objects.get()
    assert (
        refund.order_id,
        str(refund.return_request_id),
        refund.amount_cents,
        refund.currency,
        refund.created_by,
    ) == (
        order.pk,
        made["id"],
        3000,
        "USD",
        staff,
    )
    new = events_of(order)[before:]
    assert [e.event_type for e in new] == [
        "order.return_reviewed",
        "order.item_fulfillment_changed",
        "order.refunded",
    ]
    assert new[0].payload["data"] == data
    assert new[1].payload["data"] == {
        "item_id": "item_2",
        "fulfillment_status": "returned",
        "shipped_quantity": 1,
        "carrier": None,
        "tracking_number": None,
    }
    assert new[2].payload["data"] == {
        "refund_id": str(refund.pk),
        "return_id": made["id"],
        "return_number": made["return_number"],
        "item_id": None,
        "amount_cents": 3000,
        "currency": "USD",
        "reason": NOTES,
        "refunded_cents": 3000,
        "total_cents": 5459,
        "payment_status": "partially_refunded",
        "refunded_by": str(staff.pk),
    }
    # No status change: no history row.
    assert not OrderStatusHistory.objects.filter(order=order, to_status="refunded").exists()


def test_refunding_everything_moves_the_order_to_refunded(customer, customer_client, staff, staff_client):
    order, variants = delivered_order(customer, prices=(1000,), quantities=[2])  # total 2759
    made = ask(customer_client, order, ("item_1", 2)).json()

    response = approve(staff_client, made["id"], 2759)

    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("refunded", "refunded", 2759)
    assert stock_of(variants[0]) == DELIVERED_STOCK - 2  # restock was not asked for
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by_id) == ("delivered", "refunded", staff.pk)
    assert [e.event_type for e in events_of(order)][-4:] == [
        "order.return_reviewed",
        "order.item_fulfillment_changed",
        "order.refunded",
        "order.status_changed",
    ]
    assert events_of(order)[-1].payload["data"]["to_status"] == "refunded"
    # The order API shows the new statuses.
    shown = customer_client.get(f"/api/v1/orders/{order.pk}/").json()
    assert (shown["status"], shown["payment_status"]) == ("refunded", "refunded")
    assert shown["items"][0]["fulfillment_status"] == "returned"


def test_approval_without_money_marks_units_but_moves_no_money(customer, customer_client, staff_client):
    order, variants = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 2)).json()
    before = len(events_of(order))

    response = approve(staff_client, made["id"], 0, restock=True)

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("delivered", "paid", 0)
    assert not Refund.objects.exists()
    assert stock_of(variants[0]) == DELIVERED_STOCK
    assert [e.event_type for e in events_of(order)[before:]] == [
        "order.return_reviewed",
        "order.item_fulfillment_changed",
    ]


def test_a_second_review_is_409(customer, customer_client, staff_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()
    assert approve(staff_client, made["id"], 100).status_code == 200

    again = approve(staff_client, made["id"], 100)
    reject = staff_client.post(review_url(made["id"]), {"decision": "rejected", "notes": NOTES})

    assert again.status_code == reject.status_code == 409
    assert errors_of(again) == errors_of(reject) == [(None, "return_already_reviewed")]
    assert Refund.objects.count() == 1
    assert Order.objects.get(pk=order.pk).refunded_cents == 100


def test_review_of_an_unknown_return_is_404(staff_client):
    assert approve(staff_client, "00000000-0000-0000-0000-000000000000", 1).status_code == 404


@pytest.mark.parametrize(
    ("review", "expected"),
    [
        ({"decision": "approved", "notes": NOTES}, [("refund_cents", "required")]),
        ({"decision": "approved", "notes": NOTES, "refund_cents": None}, [("refund_cents", "required")]),
        ({"decision": "approved", "notes": NOTES, "refund_cents": -1}, [("refund_cents", "min_value")]),
        ({"decision": "approved", "notes": NOTES, "refund_cents": "100"}, [("refund_cents", "invalid")]),
        ({"decision": "approved", "notes": NOTES, "refund_cents": 100.0}, [("refund_cents", "invalid")]),
        ({"decision": "approved", "notes": "ok", "refund_cents": 1}, [("notes", "min_length")]),
        ({"decision": "rejected", "notes": NOTES, "refund_cents": 5}, [("refund_cents", "invalid")]),
        ({"decision": "rejected", "notes": NOTES, "restock": True}, [("restock", "invalid")]),
        ({"decision": "pending", "notes": NOTES}, [("decision", "invalid_choice")]),
    ],
)
def test_review_body_is_validated(customer, customer_client, staff_client, review, expected):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()

    response = staff_client.post(review_url(made["id"]), review)

    assert response.status_code == 400
    assert errors_of(response) == expected
    assert ReturnRequest.objects.get().status == "pending"


def test_idempotency_key_replays_a_review(customer, customer_client, staff_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()
    review = {"decision": "approved", "notes": NOTES, "refund_cents": 500}

    first = staff_client.post(review_url(made["id"]), review, HTTP_IDEMPOTENCY_KEY="review-1")
    again = staff_client.post(review_url(made["id"]), review, HTTP_IDEMPOTENCY_KEY="review-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Refund.objects.count() == 1


def test_restock_skips_a_variant_deleted_since(customer, customer_client, staff_client):
    order, variants = delivered_order(customer, prices=(1000, 2000), quantities=[1, 1])
    made = ask(customer_client, order, ("item_1", 1), ("item_2", 1)).json()
    OrderItem.objects.filter(order=order, line_number=1).update(variant=None)

    assert approve(staff_client, made["id"], 0, restock=True).status_code == 200
    assert [stock_of(v) for v in variants] == [DELIVERED_STOCK - 1, DELIVERED_STOCK]


# ---- the refund cap -------------------------------------------------------------------------------------


def test_refund_cap_is_what_was_paid_for_the_units(customer, customer_client, staff_client):
    """1 x 1999 + 1 x 1000: subtotal 2999, tax 240, shipping 599, total 3838.
    item_1: 1999 + 240*1999//2999 (159) + 599*1999//2999 (399) = 2557.
    item_2 is then the last unit back: 3838 - 2557 = 1281 (the per-line rule alone would give
    1000 + 80 + 199 = 1279 and strand 2 cents)."""
    order, _ = delivered_order(customer, prices=(1999, 1000), quantities=[1, 1])
    assert (order.subtotal_cents, order.tax_cents, order.shipping_cents, order.total_cents) == (2999, 240, 599, 3838)
    first = ask(customer_client, order, ("item_1", 1)).json()
    second = ask(customer_client, order, ("item_2", 1)).json()

    too_much = approve(staff_client, first["id"], 2558)
    assert too_much.status_code == 400
    assert errors_of(too_much) == [("refund_cents", "refund_exceeds_paid")]
    assert "At most 2557" in too_much.json()["errors"][0]["detail"]
    assert approve(staff_client, first["id"], 2557).status_code == 200

    assert errors_of(approve(staff_client, second["id"], 1282)) == [("refund_cents", "refund_exceeds_paid")]
    assert approve(staff_client, second["id"], 1281).status_code == 200
    order.refresh_from_db()
    assert (order.refunded_cents, order.payment_status, order.status) == (3838, "refunded", "refunded")


def test_refund_cap_of_some_units_of_a_line(customer, customer_client, staff_client):
    """3 x 1500: subtotal 4500, tax 360, shipping 599, total 5459. Two units: 3000 + 240 + 399 = 3639."""
    order, _ = delivered_order(customer, prices=(1500,), quantities=[3])
    made = ask(customer_client, order, ("item_1", 2)).json()

    assert errors_of(approve(staff_client, made["id"], 3640)) == [("refund_cents", "refund_exceeds_paid")]
    assert approve(staff_client, made["id"], 3639).status_code == 200


def test_a_smaller_earlier_refund_leaves_the_last_return_capped_by_what_was_paid(
    customer, customer_client, staff_client
):
    """An earlier return refunded less than its cap does not let a later one refund the difference."""
    order, _ = delivered_order(customer, prices=(1000,), quantities=[2])  # 2000 + 160 + 599 = 2759
    first = ask(customer_client, order, ("item_1", 1)).json()
    second = ask(customer_client, order, ("item_1", 1)).json()

    assert approve(staff_client, first["id"], 100).status_code == 200  # cap was 1000 + 80 + 299 = 1379
    assert errors_of(approve(staff_client, second["id"], 1381)) == [("refund_cents", "refund_exceeds_paid")]
    assert approve(staff_client, second["id"], 1380).status_code == 200
    order.refresh_from_db()
    assert (order.refunded_cents, order.payment_status, order.status) == (1480, "partially_refunded", "delivered")


def test_refund_cap_numbers(customer):
    order, _ = delivered_order(customer, prices=(1999, 1000), quantities=[1, 1])
    request = returns_service.return_request(
        order_id=order.pk,
        actor=customer,
        reason=REASON,
        reason_category="damaged",
        items=[{"item_id": "item_2", "quantity": 1}],
    )

    cap = returns_service.return_refund_cap(return_request=ReturnRequest.objects.get(pk=request.pk))

    assert (cap.units_cents, cap.remaining_cents, cap.cents) == (1279, 3838, 1279)


# ---- admin ----------------------------------------------------------------------------------------------


@pytest.fixture
def reviewer(db):
    user = StaffWithoutPermissionsFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="orders", codename__in=["view_returnrequest", "review_returnrequest", "view_order"]
        )
    )
    return user


def test_admin_approves_a_return_through_the_service(client, reviewer, customer, customer_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 2)).json()
    client.force_login(reviewer)
    url = f"/admin/orders/returnrequest/{made['id']}/approve/"

    page = client.get(url)
    done = client.post(url, {"notes": NOTES, "refund_cents": "", "restock": "on"})

    assert page.status_code == 200
    assert b'value="2759"' in page.content  # the form offers the cap
    assert done.status_code == 302
    request = ReturnRequest.objects.get()
    assert (request.status, request.refund_cents, request.restock, request.reviewed_by) == (
        "approved",
        2759,
        True,
        reviewer,
    )
    assert Order.objects.get(pk=order.pk).status == "refunded"
    change = client.get(f"/admin/orders/returnrequest/{made['id']}/change/")
    assert change.status_code == 200 and b"/approve/" not in change.content


def test_admin_rejects_selected_returns_from_the_changelist(client, reviewer, customer, customer_client):
    order, _ = delivered_order(customer, quantities=[3])
    made = [ask(customer_client, order, ("item_1", 1)).json() for _ in range(2)]
    client.force_login(reviewer)

    response = client.post(
        "/admin/orders/returnrequest/",
        {"action": "reject_returns", "_selected_action": [m["id"] for m in made], "apply": "1", "notes": NOTES},
    )

    assert response.status_code == 302
    assert set(ReturnRequest.objects.values_list("status", flat=True)) == {"rejected"}


def test_admin_review_needs_the_review_permission(client, customer, customer_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()
    viewer = StaffWithoutPermissionsFactory()
    viewer.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="orders", codename="view_returnrequest")
    )
    client.force_login(viewer)

    assert client.get(f"/admin/orders/returnrequest/{made['id']}/change/").status_code == 200
    assert client.get(f"/admin/orders/returnrequest/{made['id']}/approve/").status_code == 403
    assert ReturnRequest.objects.get().status == "pending"


@pytest.mark.django_db
def test_an_order_refunded_by_staff_cannot_be_refunded_again_through_a_return(customer, customer_client, staff):
    order, _ = delivered_order(customer)
    asked = ask(customer_client, order, ("item_1", 1))
    assert asked.status_code == 201
    order_transition(order_id=order.pk, to_status="refunded", actor=staff, note="refunded by phone")

    response = approve(client_for(staff), asked.json()["id"], refund_cents=100)

    assert response.status_code == 409
    assert errors_of(response) == [(None, "order_not_returnable")]
    order.refresh_from_db()
    assert (order.refunded_cents, order.payment_status) == (order.total_cents, "refunded")
    # The staff move's refund only.
    assert list(Refund.objects.filter(order=order).values_list("amount_cents", "reason")) == [
        (order.total_cents, "refunded by phone")
    ]


# ---- a staff move to refunded goes through the refund service -----------------------------------------


def transition(client, order, status, note=""):
    return client.post(f"/api/v1/orders/{order.pk}/transition/", {"status": status, "note": note})


def test_a_staff_move_to_refunded_refunds_the_total_with_a_refund_row_and_event(customer, staff, staff_client):
    order, _ = delivered_order(customer, prices=(1000,), quantities=[2])  # total 2759
    before = len(events_of(order))

    response = transition(staff_client, order, "refunded", note="Parcel lost by the carrier")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["payment_status"]) == ("refunded", "refunded")
    assert response.json()["refunded_cents"] == 2759
    refund = Refund.objects.get(order=order)
    assert (refund.amount_cents, refund.currency, refund.reason, refund.created_by, refund.return_request) == (
        2759,
        "USD",
        "Parcel lost by the carrier",
        staff,
        None,
    )
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("refunded", "refunded", 2759)
    new = events_of(order)[before:]
    assert [e.event_type for e in new] == ["order.refunded", "order.status_changed"]
    assert new[0].payload["data"] == {
        "refund_id": str(refund.pk),
        "return_id": None,
        "return_number": None,
        "item_id": None,
        "amount_cents": 2759,
        "currency": "USD",
        "reason": "Parcel lost by the carrier",
        "refunded_cents": 2759,
        "total_cents": 2759,
        "payment_status": "refunded",
        "refunded_by": str(staff.pk),
    }
    assert client_for(customer).get(f"/api/v1/orders/{order.pk}/").json()["refunded_cents"] == 2759


def test_a_staff_move_to_refunded_after_a_partial_return_refunds_only_the_rest(
    customer, customer_client, staff, staff_client
):
    order, _ = delivered_order(customer, prices=(1000, 2500), quantities=[2, 1])  # total 5459
    made = ask(customer_client, order, ("item_1", 1)).json()
    assert approve(staff_client, made["id"], 1000).status_code == 200

    response = transition(staff_client, order, "refunded", note="Goodwill: refund the rest")

    assert response.status_code == 200, response.json()
    assert response.json()["refunded_cents"] == 5459
    assert sorted(Refund.objects.filter(order=order).values_list("amount_cents", "reason")) == [
        (1000, NOTES),
        (4459, "Goodwill: refund the rest"),
    ]
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("refunded", "refunded", 5459)
    refunded_events = [e.payload["data"] for e in events_of(order) if e.event_type == "order.refunded"]
    assert [(d["amount_cents"], d["refunded_cents"]) for d in refunded_events] == [(1000, 1000), (4459, 5459)]


def test_a_staff_move_to_refunded_without_a_note_still_records_a_reason(customer, staff_client):
    # The contract's transition takes an optional note: a move without one is not refused, and its refund
    # says what it was.
    order, _ = delivered_order(customer)

    response = transition(staff_client, order, "refunded", note="")

    assert response.status_code == 200, response.json()
    assert response.json()["refunded_cents"] == order.total_cents
    refund = Refund.objects.get(order=order)
    assert (refund.amount_cents, refund.reason) == (order.total_cents, "Order refunded")
    assert events_of(order)[-2].payload["data"]["reason"] == "Order refunded"


def test_the_admin_change_status_to_refunded_refunds_like_the_api(client, customer):
    order, _ = delivered_order(customer)
    admin = StaffFactory(is_superuser=True)
    client.force_login(admin)
    url = f"/admin/orders/order/{order.pk}/transition/"

    done = client.post(url, {"status": "refunded", "note": "Refunded at the customer's request", "apply": "1"})

    assert done.status_code == 302
    refund = Refund.objects.get(order=order)
    assert (refund.amount_cents, refund.reason, refund.created_by) == (
        order.total_cents,
        "Refunded at the customer's request",
        admin,
    )
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.refunded_cents) == ("refunded", "refunded", order.total_cents)
    assert [e.event_type for e in events_of(order)][-2:] == ["order.refunded", "order.status_changed"]
    assert b"Refunded at the customer&#x27;s request" in client.get(f"/admin/orders/refund/{refund.pk}/change/").content


# ---- the review rule lives in the service --------------------------------------------------------------


def problems_of(refusal: ApplicationError) -> dict[str, list[str]]:
    return {attr: [detail.code for detail in details] for attr, details in refusal.detail.items()}


def test_the_service_itself_refuses_a_review_that_breaks_the_rule(customer, customer_client, staff):
    """The API's serializer checks shapes only: the rule (an approval names its refund, a rejection
    neither refunds nor restocks) is return_review's, reported for every field at once."""
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()
    review = {"return_id": made["id"], "actor": staff, "notes": NOTES}

    with pytest.raises(ApplicationError) as rejection:
        returns_service.return_review(**review, decision="rejected", refund_cents=5, restock=True)
    with pytest.raises(ApplicationError) as approval:
        returns_service.return_review(**review, decision="approved")

    assert problems_of(rejection.value) == {"refund_cents": ["invalid"], "restock": ["invalid"]}
    assert problems_of(approval.value) == {"refund_cents": ["required"]}
    assert ReturnRequest.objects.get().status == "pending"


def test_a_review_breaking_the_rule_is_a_400_whatever_the_return(customer, customer_client, staff_client):
    order, _ = delivered_order(customer)
    made = ask(customer_client, order, ("item_1", 1)).json()
    assert approve(staff_client, made["id"], 0).status_code == 200
    rejection = {"decision": "rejected", "notes": NOTES, "refund_cents": 5, "restock": True}

    for return_id in (made["id"], "00000000-0000-0000-0000-000000000000"):
        response = staff_client.post(review_url(return_id), rejection)
        assert response.status_code == 400
        assert errors_of(response) == [("refund_cents", "invalid"), ("restock", "invalid")]


def test_an_approval_told_an_empty_refund_is_the_cap_refunds_the_cap(customer, customer_client, staff):
    """What the admin's empty field means, known to the service: 1 x 1999 + 1 x 1000, item_1's cap 2557."""
    order, _ = delivered_order(customer, prices=(1999, 1000), quantities=[1, 1])
    made = ask(customer_client, order, ("item_1", 1)).json()

    reviewed = returns_service.return_review(
        return_id=made["id"], actor=staff, decision="approved", notes=NOTES, empty_refund_is_cap=True
    )

    assert reviewed.refund_cents == 2557
    assert Order.objects.get(pk=order.pk).refunded_cents == 2557
