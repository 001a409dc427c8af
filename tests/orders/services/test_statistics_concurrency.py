"""The statistics' rollups under real concurrency (threads against PostgreSQL): orders created and moved while
compactions run, two compactions at once, and two returns of one order approved at once. Whatever the
interleaving, GET /api/v1/orders/stats/ ends equal to aggregating the orders on the spot (tests/stats_oracle.py)."""

import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from orders import stats
from orders.models import OrderDayStatsDelta, OrderItem, ProductDayStatsDelta, ReturnRequest
from orders.returns.services import return_request, return_review
from orders.services.lifecycle import order_cancel, order_transition
from orders.services.statistics import stats_compact
from tests.concurrency import run_together
from tests.factories import NOTES, REASON, StaffFactory, UserFactory, VariantFactory, delivered_order, make_order, walk
from tests.stats_oracle import URL, stats_response

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 3
ORDERS_PER_WRITER = 6
ROUNDS = 4
# How long a write that skips the services stays uncommitted, while a service call runs beside it.
UNCOMMITTED_SECONDS = 0.3


def assert_stats_match_the_orders(client) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == stats_response(stats.stats_period())


def delta_rows() -> int:
    return OrderDayStatsDelta.objects.count() + ProductDayStatsDelta.objects.count()


def test_orders_written_while_compactions_run_end_in_the_same_stats(staff_client):
    staff = StaffFactory()
    # An order's lines share a currency: two USD products, one EUR.
    carts = [
        [VariantFactory(price_cents=1000, stock_quantity=1000), VariantFactory(price_cents=2500, stock_quantity=1000)],
        [VariantFactory(product__currency="EUR", price_cents=1800, stock_quantity=1000)],
    ]
    writers_left = [WRITERS]
    writers_done = threading.Event()
    lock = threading.Lock()

    def writer(number: int):
        def write() -> None:
            try:
                customer = UserFactory()
                for n in range(ORDERS_PER_WRITER):
                    order = make_order(user=customer, variants=carts[(number + n) % 2], quantity=1 + n % 2)
                    match (number + n) % 4:
                        case 0:
                            walk(order, "delivered", actor=staff)
                            request = return_request(
                                order_id=order.pk,
                                actor=customer,
                                reason=REASON,
                                reason_category="damaged",
                                items=[{"item_id": "item_1", "quantity": 1}],
                            )
                            return_review(
                                return_id=request.pk, actor=staff, decision="approved", notes=NOTES, refund_cents=500
                            )
                        case 1:
                            walk(order, "confirmed", actor=staff)
                            order_cancel(order_id=order.pk, actor=staff, reason="Changed their mind.")
                        case 2:
                            walk(order, "processing", actor=staff)
                        case 3:
                            order_transition(order_id=order.pk, to_status="failed", actor=staff)
            finally:
                with lock:
                    writers_left[0] -= 1
                    if not writers_left[0]:
                        writers_done.set()

        return write

    def compactor() -> int:
        runs = 0
        while not writers_done.is_set():
            stats_compact()
            runs += 1
        return runs

    *_, first_runs, second_runs = run_together(*(writer(n) for n in range(WRITERS)), compactor, compactor)

    assert first_runs and second_runs
    assert_stats_match_the_orders(staff_client)  # what the last compactions left in the deltas, and the rollups
    stats_compact()
    assert delta_rows() == 0
    assert_stats_match_the_orders(staff_client)


def test_two_compactions_at_once_move_each_delta_once(staff_client):
    variant = VariantFactory(price_cents=1200, stock_quantity=1000)
    staff = StaffFactory()
    for round_number in range(ROUNDS):
        for status in ("confirmed", "delivered", "cancelled"):
            walk(make_order(variants=[variant], quantity=1 + round_number), status, actor=staff)
        waiting = delta_rows()

        moved = run_together(stats_compact, stats_compact, start_reversed=bool(round_number % 2))

        assert sum(moved) == waiting and delta_rows() == 0
        assert_stats_match_the_orders(staff_client)


def test_two_returns_of_one_order_approved_at_once_count_it_once(staff_client):
    """return_review locks the order row before the return's, so the trigger of the second approval sees the
    first one and does not count the order a second time."""
    staff = StaffFactory()
    for round_number in range(ROUNDS):
        customer = UserFactory()
        order, _ = delivered_order(customer)
        first, second = (
            return_request(
                order_id=order.pk,
                actor=customer,
                reason=REASON,
                reason_category="damaged",
                items=[{"item_id": "item_1", "quantity": 1}],
            )
            for _ in range(2)
        )

        run_together(
            *(
                lambda request=request: return_review(
                    return_id=request.pk, actor=staff, decision="approved", notes=NOTES, refund_cents=0
                )
                for request in (first, second)
            ),
            start_reversed=bool(round_number % 2),
        )

        data = staff_client.get(URL).json()
        assert data["returned_orders"] == round_number + 1
        assert data == stats_response(stats.stats_period())


def test_an_item_fixed_by_update_while_its_order_is_confirmed_is_counted_as_fixed(staff_client):
    """A support fix of an item by QuerySet.update takes no order lock; the item trigger does (FOR SHARE), so
    a confirmation beside it reads the item fixed, or the fix sees the order confirmed, never neither."""
    staff = StaffFactory()
    variant = VariantFactory(price_cents=1000, stock_quantity=1000)
    for round_number in range(ROUNDS):
        order = make_order(variants=[variant], quantity=2)

        def fix_item(order=order) -> None:
            with transaction.atomic():
                OrderItem.objects.filter(order=order).update(quantity=3, total_cents=3000)
                time.sleep(UNCOMMITTED_SECONDS)

        def confirm(order=order) -> None:
            time.sleep(UNCOMMITTED_SECONDS / 3)  # while the fix is not committed yet
            order_transition(order_id=order.pk, to_status="confirmed", actor=staff)

        run_together(fix_item, confirm)

        data = staff_client.get(URL).json()
        assert data["top_products_by_units"][0]["units"] == 3 * (round_number + 1)
        assert data == stats_response(stats.stats_period())


def test_two_returns_approved_by_update_at_once_count_their_order_once(staff_client):
    """Approvals written by QuerySet.update take no order lock; the return trigger does, so the second one
    sees the first committed and does not count the order again."""
    customer = UserFactory()
    order, _ = delivered_order(customer)
    returns = [
        return_request(
            order_id=order.pk,
            actor=customer,
            reason=REASON,
            reason_category="damaged",
            items=[{"item_id": "item_1", "quantity": 1}],
        )
        for _ in range(2)
    ]

    def approve(request, delay: float) -> None:
        time.sleep(delay)
        with transaction.atomic():
            ReturnRequest.objects.filter(pk=request.pk).update(
                status="approved", reviewed_at=timezone.now(), refund_cents=0
            )
            time.sleep(UNCOMMITTED_SECONDS)

    run_together(lambda: approve(returns[0], 0), lambda: approve(returns[1], UNCOMMITTED_SECONDS / 3))

    data = staff_client.get(URL).json()
    assert data["returned_orders"] == 1
    assert data == stats_response(stats.stats_period())
