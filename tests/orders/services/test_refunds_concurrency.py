"""Returns and refunds racing each other on real PostgreSQL: each contender has its own thread, its own
APIClient and its own database connection, released together by a barrier. However they interleave,
no unit is returned twice and the refunds of an order never add up to more than its total."""

import threading
import time

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from conftest import client_for, login
from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent, Refund, ReturnRequest
from orders.returns import services as returns_service
from tests.concurrency import THREAD_TIMEOUT, post, run_together
from tests.factories import StaffFactory, UserFactory, VariantFactory, delivered_order, order_in

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5
REASON = "Arrived broken, box crushed."
NOTES = "Photos confirm the damage."


def ask(customer, order, quantity, item_id="item_1"):
    return returns_service.return_request(
        order_id=order.pk,
        actor=customer,
        reason=REASON,
        reason_category="damaged",
        items=[{"item_id": item_id, "quantity": quantity}],
    )


def approval(refund_cents):
    return {"decision": "approved", "notes": NOTES, "refund_cents": refund_cents}


def review_url(request):
    return f"/api/v1/returns/{request.pk}/review/"


def approve_two_returns_at_once(staff_client, refund_cents):
    """A delivered order of 2 x 1000 (2759 with tax and shipping), a return of one unit each, both approved
    for `refund_cents` at the same moment."""
    customer = UserFactory()
    order, _ = delivered_order(customer)
    first, second = ask(customer, order, 1), ask(customer, order, 1)
    results = run_together(
        post(staff_client, review_url(first), approval(refund_cents)),
        post(staff_client, review_url(second), approval(refund_cents)),
    )
    return order, results


def check_consistent(order):
    """Whatever happened: the refunds add up to refunded_cents, within the total; events are gapless."""
    order = Order.objects.get(pk=order.pk)
    refunds = sum(Refund.objects.filter(order=order).values_list("amount_cents", flat=True))
    assert refunds == order.refunded_cents <= order.total_cents
    events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1)) and order.last_event_sequence == len(events)
    return order, [e.event_type for e in events]


def test_two_approvals_of_the_same_return_refund_once():
    staff_client = client_for(StaffFactory())
    other_staff = client_for(StaffFactory())
    for _ in range(ROUNDS):
        customer = UserFactory()
        order, _ = delivered_order(customer)
        request = ask(customer, order, 2)

        results = run_together(
            post(staff_client, review_url(request), approval(2759)),
            post(other_staff, review_url(request), approval(2759)),
        )

        assert sorted(status for status, _ in results) == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["errors"][0]["code"] == "return_already_reviewed"
        order, events = check_consistent(order)
        assert (order.refunded_cents, order.payment_status, order.status) == (2759, "refunded", "refunded")
        assert Refund.objects.filter(order=order).count() == 1
        assert events.count("order.refunded") == 1 and events.count("order.return_reviewed") == 1
        assert OrderStatusHistory.objects.filter(order=order, to_status="refunded").count() == 1


def test_two_returns_approved_at_once_both_refund_within_their_caps():
    """One unit each, 1379 each (1000 + 80 tax + 299 shipping): the order row lock serialises them, both
    go through, each unit is marked returned once and refunded_cents is their sum."""
    staff_client = client_for(StaffFactory())
    for _ in range(ROUNDS):
        order, results = approve_two_returns_at_once(staff_client, 1379)

        assert [status for status, _ in results] == [200, 200], results
        order, events = check_consistent(order)
        assert (order.refunded_cents, order.payment_status, order.status) == (2758, "partially_refunded", "delivered")
        assert events.count("order.refunded") == 2
        assert OrderItem.objects.get(order=order).fulfillment_status == "returned"


def test_approvals_that_together_exceed_the_total_one_wins(monkeypatch):
    """With the per-unit cap out of the way (as if it had a bug), two approvals of 2000 on a 2759 order:
    the order row lock serialises them and the second sees only 759 left to refund: a 400."""
    real_cap = returns_service.refund_cap

    def no_unit_cap(**kwargs):
        return returns_service.RefundCap(units_cents=10**9, remaining_cents=real_cap(**kwargs).remaining_cents)

    monkeypatch.setattr(returns_service, "refund_cap", no_unit_cap)
    staff_client = client_for(StaffFactory())
    for _ in range(ROUNDS):
        order, results = approve_two_returns_at_once(staff_client, 2000)

        assert sorted(status for status, _ in results) == [200, 400], results
        loser = next(body for status, body in results if status == 400)
        assert [(e["attr"], e["code"]) for e in loser["errors"]] == [("refund_cents", "refund_exceeds_remaining")]
        order, _ = check_consistent(order)
        assert order.refunded_cents == 2000
        # The refused review changed nothing: its return is still pending, its units not returned.
        assert sorted(ReturnRequest.objects.filter(order=order).values_list("status", flat=True)) == [
            "approved",
            "pending",
        ]
        assert OrderItem.objects.get(order=order).returned_quantity == 1


def test_the_database_refuses_refunds_above_the_total_even_without_the_checks(monkeypatch):
    """Both service checks disabled: the CHECK (refunded_cents <= total_cents) on the orders table is
    the last guard, and its violation is a 409 with nothing written, never a 500."""
    monkeypatch.setattr(returns_service, "_check_refund", lambda refund_cents, cap: None)
    staff_client = client_for(StaffFactory())
    for _ in range(ROUNDS):
        order, results = approve_two_returns_at_once(staff_client, 2000)

        assert sorted(status for status, _ in results) == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["errors"][0]["code"] == "refund_exceeds_total"
        order, _ = check_consistent(order)
        assert order.refunded_cents == 2000
        assert Refund.objects.filter(order=order).count() == 1


def test_the_orders_table_itself_refuses_refunded_cents_above_the_total():
    order, _ = delivered_order(UserFactory())

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_cents=order.total_cents + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_cents=-1)


def test_two_requests_for_the_same_units_return_them_once():
    for _ in range(ROUNDS):
        customer = UserFactory()
        order, _ = delivered_order(customer, quantities=[3])
        body = {"reason": REASON, "reason_category": "damaged", "items": [{"item_id": "item_1", "quantity": 2}]}
        url = f"/api/v1/orders/{order.pk}/returns/"

        first = client_for(customer)
        second = APIClient()
        second.credentials(HTTP_AUTHORIZATION=first._credentials["HTTP_AUTHORIZATION"])

        results = run_together(post(first, url, body), post(second, url, body))

        assert sorted(status for status, _ in results) == [201, 400], results
        loser = next(body for status, body in results if status == 400)
        assert [(e["attr"], e["code"]) for e in loser["errors"]] == [("items.0.quantity", "return_quantity_exceeded")]
        assert ReturnRequest.objects.filter(order=order).count() == 1
        check_consistent(order)


def test_a_staff_move_to_refunded_racing_an_approval_refunds_the_total_once():
    """The move refunds what is left when it runs: after the approval, the rest; before it, everything,
    and the approval then finds the order refunded (409). Either way the refunds add up to the total."""
    reviewer, mover = client_for(StaffFactory()), client_for(StaffFactory())
    for round_ in range(ROUNDS * 2):
        customer = UserFactory()
        order, _ = delivered_order(customer)
        request = ask(customer, order, 1)

        approved, moved = run_together(
            post(reviewer, review_url(request), approval(1379)),
            post(mover, f"/api/v1/orders/{order.pk}/transition/", {"status": "refunded", "note": NOTES}),
            start_reversed=round_ % 2,
        )

        assert moved[0] == 200, moved
        assert approved[0] in (200, 409), approved
        order, events = check_consistent(order)
        assert (order.refunded_cents, order.payment_status, order.status) == (2759, "refunded", "refunded")
        amounts = sorted(Refund.objects.filter(order=order).values_list("amount_cents", flat=True))
        assert amounts == ([1379, 1380] if approved[0] == 200 else [2759])
        assert events.count("order.refunded") == len(amounts)


def test_an_empty_admin_refund_is_the_cap_as_it_stands_under_the_order_lock():
    """1 x 1999 + 1 x 1000 (total 3838). Once item_1's return is approved (2557), item_2 is the order's last
    unit back and its cap is 3838 - 2557 = 1281; before that approval it is 1279. An admin approval of
    item_2 with an empty refund, sent while item_1's approval holds the order lock, refunds 1281: the cap
    is worked out under the lock (a cap read before it refunded 1279 and stranded 2 cents)."""
    customer, staff = UserFactory(), StaffFactory()
    variants = [VariantFactory(price_cents=price, stock_quantity=5) for price in (1999, 1000)]
    order = order_in("delivered", user=customer, variants=variants, quantity=1)
    first, second = ask(customer, order, 1, "item_1"), ask(customer, order, 1, "item_2")
    first_holds_the_lock = threading.Event()

    def approve_first_and_hold_the_lock():
        with transaction.atomic():
            returns_service.return_review(
                return_id=first.pk, actor=staff, decision="approved", notes=NOTES, refund_cents=2557
            )
            first_holds_the_lock.set()
            time.sleep(1)  # the admin's approval arrives meanwhile and queues on the order row

    def approve_second_in_the_admin():
        assert first_holds_the_lock.wait(THREAD_TIMEOUT)
        url = f"/admin/orders/returnrequest/{second.pk}/approve/"
        return login(staff).post(url, {"notes": NOTES, "refund_cents": ""}).status_code

    assert run_together(approve_first_and_hold_the_lock, approve_second_in_the_admin)[1] == 302
    assert ReturnRequest.objects.get(pk=second.pk).refund_cents == 1281
    order, _ = check_consistent(order)
    assert (order.refunded_cents, order.payment_status, order.status) == (3838, "refunded", "refunded")
