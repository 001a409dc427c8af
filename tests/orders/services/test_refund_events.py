"""order.refunded on every path that gives money back (issue #16, Events): a staff move to refunded, a
cancellation of a paid order, an approved return with a refund. Each Refund row has exactly one event
with its data, and paths that give nothing back publish none."""

import pytest

from orders.models import OutboxEvent, Refund
from orders.returns.services import return_request, return_review
from orders.services.lifecycle import order_cancel, order_transition
from tests.factories import StaffFactory, order_in

pytestmark = pytest.mark.django_db


def refunded_events(order) -> list[dict]:
    events = OutboxEvent.objects.filter(order=order, event_type="order.refunded").order_by("sequence")
    return [event.payload["data"] for event in events]


def assert_one_event_per_refund(order) -> list[dict]:
    data = refunded_events(order)
    refunds = list(Refund.objects.filter(order=order).order_by("created_at", "id"))
    assert [event["refund_id"] for event in data] == [str(refund.pk) for refund in refunds]
    for event, refund in zip(data, refunds, strict=True):
        assert (event["amount_cents"], event["currency"], event["reason"]) == (
            refund.amount_cents,
            refund.currency,
            refund.reason,
        )
    return data


def test_a_staff_move_to_refunded_emits_order_refunded():
    staff = StaffFactory()
    order = order_in("delivered", actor=staff)
    order_transition(order_id=order.pk, to_status="refunded", actor=staff, note="Goodwill")
    [event] = assert_one_event_per_refund(order)
    assert (event["amount_cents"], event["return_id"], event["payment_status"], event["refunded_by"]) == (
        order.total_cents,
        None,
        "refunded",
        str(staff.pk),
    )


@pytest.mark.parametrize("status", ["confirmed", "processing"])
def test_cancelling_a_paid_order_emits_order_refunded(status):
    staff = StaffFactory()
    order = order_in(status, actor=staff)
    order_cancel(order_id=order.pk, actor=staff, reason="Out of stock at the supplier")
    [event] = assert_one_event_per_refund(order)
    assert (event["amount_cents"], event["reason"]) == (order.total_cents, "Out of stock at the supplier")


def test_an_approved_return_with_a_refund_emits_order_refunded_and_one_without_does_not():
    staff = StaffFactory()
    order = order_in("delivered", actor=staff, quantity=2)
    reason = {"reason": "The seams came apart", "reason_category": "defective"}
    items = [{"item_id": "item_1", "quantity": 1}]
    first = return_request(order_id=order.pk, actor=order.user, items=items, **reason)
    return_review(return_id=first.pk, actor=staff, decision="approved", notes="Refund one unit", refund_cents=500)
    second = return_request(order_id=order.pk, actor=order.user, items=items, **reason)
    return_review(return_id=second.pk, actor=staff, decision="approved", notes="Exchange, no money", refund_cents=0)

    [event] = assert_one_event_per_refund(order)
    assert (event["amount_cents"], event["return_number"]) == (500, first.return_number)


def test_paths_that_take_no_money_publish_no_refund():
    unpaid = order_in("pending")
    order_cancel(order_id=unpaid.pk, actor=unpaid.user, reason="Changed my mind")
    failed = order_in("failed")
    assert refunded_events(unpaid) == refunded_events(failed) == []
    assert not Refund.objects.exists()
